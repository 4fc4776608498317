// A real coturn (Debian's `turnserver`) on 127.0.0.1 for the turn suite,
// set up as docs/configuration.md tells an operator to: the TURN REST API
// (use-auth-secret with a static-auth-secret shared with hq-server),
// loopback peers allowed (the SFU is on 127.0.0.1 here), no CLI, its log
// in a temporary file.  And a minimal STUN/TURN client (RFC 5389, RFC
// 5766) that sends one Allocate with long-term credentials and returns
// what coturn answered, to see it refuse forged and expired credentials.
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const MAGIC = 0x2112a442;
const ATTR = {
  USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, REALM: 0x0014,
  NONCE: 0x0015, REQUESTED_TRANSPORT: 0x0019, XOR_RELAYED_ADDRESS: 0x0016,
};
const ALLOCATE = 0x0003;
const BINDING = 0x0001;

// A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both).
async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

function attribute(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad)]);
}

// A STUN message of `type` with `attrs` ([type, Buffer]); with `key`, a
// MESSAGE-INTEGRITY over it (RFC 5389 section 15.4: the length counts
// the integrity attribute, which is not yet there).
function message(type, attrs, key = null) {
  const body = Buffer.concat(attrs.map(([t, v]) => attribute(t, v)));
  const head = Buffer.alloc(20);
  head.writeUInt16BE(type, 0);
  head.writeUInt32BE(MAGIC, 4);
  randomBytes(12).copy(head, 8);
  head.writeUInt16BE(body.length + (key ? 24 : 0), 2);
  const msg = Buffer.concat([head, body]);
  if (!key) return msg;
  const mac = createHmac('sha1', key).update(msg).digest();
  return Buffer.concat([msg, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
}

function parse(buf) {
  const type = buf.readUInt16BE(0);
  const attrs = new Map();
  for (let off = 20; off + 4 <= buf.length;) {
    const t = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    attrs.set(t, buf.subarray(off + 4, off + 4 + len));
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  const err = attrs.get(ATTR.ERROR_CODE);
  return {
    type,
    // 0x0103: Allocate success, 0x0113: Allocate error, 0x0101: Binding.
    success: (type & 0x0110) === 0x0100,
    code: err ? (err[2] & 7) * 100 + err[3] : null,
    reason: err ? err.subarray(4).toString().replace(/\0+$/, '') : null,
    realm: attrs.get(ATTR.REALM)?.toString(),
    nonce: attrs.get(ATTR.NONCE),
    relayed: attrs.has(ATTR.XOR_RELAYED_ADDRESS),
  };
}

// Sends `msg` from `sock` (UDP) to `port` and waits (resending) for the
// answer.
function exchange(sock, port, msg, ms = 5000) {
  return new Promise((resolve, reject) => {
    const done = (fn, v) => {
      clearTimeout(timer);
      clearInterval(resend);
      sock.removeAllListeners('message');
      fn(v);
    };
    const timer = setTimeout(() => done(reject, new Error(`no STUN answer from 127.0.0.1:${port}`)), ms);
    const resend = setInterval(() => sock.send(msg, port, '127.0.0.1'), 500);
    sock.on('message', (buf) => done(resolve, parse(buf)));
    sock.send(msg, port, '127.0.0.1');
  });
}

async function withSocket(fn) {
  const sock = dgram.createSocket('udp4');
  try {
    return await fn(sock);
  } finally {
    sock.close();
  }
}

// One TURN Allocate (UDP relay) with `username` and `password` as RFC 5766
// does it, from one socket (coturn ties its nonce to it): the first
// request draws 401 with the realm and a nonce, the second carries the
// credentials.  Returns coturn's second answer ({success, code, reason,
// relayed}).
export function allocate(port, username, password) {
  const transport = Buffer.from([17, 0, 0, 0]); // UDP
  return withSocket(async (sock) => {
    const first = await exchange(sock, port, message(ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, transport]]));
    if (first.code !== 401 || !first.nonce) throw new Error(`unexpected first answer ${JSON.stringify(first)}`);
    const key = createHash('md5').update(`${username}:${first.realm}:${password}`).digest();
    return exchange(sock, port, message(ALLOCATE, [
      [ATTR.REQUESTED_TRANSPORT, transport], [ATTR.USERNAME, Buffer.from(username)],
      [ATTR.REALM, Buffer.from(first.realm)], [ATTR.NONCE, first.nonce]], key));
  });
}

// A child process (spawned with `stdio: PIPED`) whose output, stdout and
// stderr together, is kept in `out`; `exited` is its exit code or signal
// once `gone` resolves.
export const PIPED = ['ignore', 'pipe', 'pipe'];
export function runKept(proc) {
  const run = { proc, out: '', exited: null };
  proc.stdout.on('data', (d) => { run.out += d; });
  proc.stderr.on('data', (d) => { run.out += d; });
  run.gone = new Promise((resolve) => proc.on('exit', (code, sig) => {
    run.exited = code ?? sig;
    resolve(run.exited);
  }));
  return run;
}

// The TURN REST API credential for `username` (what hq-server computes).
export function restCredential(secret, username) {
  return createHmac('sha1', secret).update(username).digest('base64');
}

// coturn with a fresh secret on a free port; resolves once it answers a
// STUN Binding request.
export async function startCoturn() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hq-coturn-'));
  const secret = randomBytes(24).toString('hex');
  const port = await freePort();
  const logFile = path.join(dir, 'turn.log');
  const conf = path.join(dir, 'turnserver.conf');
  // The secret goes in a file, never on the command line where ps shows it.
  writeFileSync(conf, [
    'listening-ip=127.0.0.1', 'relay-ip=127.0.0.1', `listening-port=${port}`,
    'use-auth-secret', `static-auth-secret=${secret}`, 'realm=hqrooms.test',
    'allow-loopback-peers', 'no-cli', 'no-tls', 'no-dtls', 'fingerprint',
    `log-file=${logFile}`, 'simple-log', 'verbose', 'no-software-attribute',
    `userdb=${path.join(dir, 'turndb')}`, `pidfile=${path.join(dir, 'turnserver.pid')}`,
  ].join('\n') + '\n', { mode: 0o600 });
  const run = runKept(spawn('turnserver', ['-c', conf], { stdio: PIPED }));
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (run.exited !== null) throw new Error(`turnserver exited (${run.exited}):\n${run.out}\n${log()}`);
    try {
      const answer = await withSocket((sock) => exchange(sock, port, message(BINDING, []), 1000));
      if (answer.success) break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`turnserver did not answer on ${port}: ${err.message}\n${log()}`);
    }
  }
  return {
    port,
    secret,
    log,
    // The "peer usage" lines coturn writes when an allocation ends: what
    // it relayed between the client `identity` (the end of the TURN
    // username) and its peers, bytes received from and sent to them.
    peerUsage(identity) {
      const rx = /peer usage: realm=<[^>]*>, username=<\d+:([^>]*)>, rp=(\d+), rb=(\d+), sp=(\d+), sb=(\d+)/g;
      return [...log().matchAll(rx)].filter((m) => m[1] === identity)
        .map((m) => ({ rp: +m[2], rb: +m[3], sp: +m[4], sb: +m[5] }));
    },
    async stop() {
      if (run.exited === null) run.proc.kill('SIGTERM');
      await run.gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
