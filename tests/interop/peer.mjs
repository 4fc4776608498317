// A peer program (hq-peer, gst-peer) as a child process speaking the
// one-JSON-object-per-line signalling of tests/interop/hqpeer.c.  Waits are
// for messages or conditions, bounded by a deadline; never fixed sleeps.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export const DEADLINE_MS = 60000;

export class Peer {
  constructor(bin, args = [], name = bin) {
    this.name = name;
    this.messages = [];
    this.waiters = [];
    this.stderr = '';
    this.proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      resolve(code);
      this._wake();
    }));
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = { type: 'garbage', line };
      }
      this.messages.push(msg);
      if (this.onMessage) this.onMessage(msg);
      this._wake();
    });
  }

  _wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(msg) {
    this.proc.stdin.write(JSON.stringify(msg) + '\n');
  }

  // Resolves with the first message of `type` (after `from`) matching `pred`.
  async waitFor(type, pred = () => true, ms = DEADLINE_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      const err = this.messages.find((m) => m.type === 'error');
      if (err) throw new Error(`${this.name}: ${err.message}\n${this.stderr}`);
      const m = this.messages.find((x) => x.type === type && pred(x));
      if (m) return m;
      if (this.exitCode !== undefined) {
        throw new Error(`${this.name} exited (${this.exitCode ?? this.exitSignal}) ` +
          `while waiting for ${type}\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${type} in ${ms} ms\n${this.stderr}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  // Asks for stats until `pred(stats)` holds.
  async waitForStats(pred, ms = DEADLINE_MS) {
    const deadline = Date.now() + ms;
    let last;
    while (Date.now() < deadline) {
      const n = this.messages.length;
      this.send({ type: 'stats' });
      last = await this.waitFor('stats', (m) => this.messages.indexOf(m) >= n, ms);
      if (pred(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name}: stats never satisfied: ${JSON.stringify(last)}`);
  }

  async close() {
    if (this.exitCode === undefined) {
      this.send({ type: 'bye' });
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
      await this.exited;
      clearTimeout(t);
    }
    return this.exitCode;
  }
}
