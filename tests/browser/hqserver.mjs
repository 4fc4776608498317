// A real hq-server process on an ephemeral loopback port, for browser
// tests: ready when it prints its "listening on" line; stopped with
// SIGTERM, and its exit code (0: clean, and under ASan: no leak) reported.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

// A folder for hq-server's web client (HQ_WEB_DIR) holding the page in
// `appDir` and the favicon, with the browser SDK next to it as in the
// source tree; `remove()` deletes it.
export function siteFor(appDir) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hq-site-'));
  cpSync(appDir, path.join(dir, 'web'), { recursive: true });
  cpSync(path.join(ROOT, 'web', 'favicon.svg'), path.join(dir, 'web', 'favicon.svg'));
  mkdirSync(path.join(dir, 'sdk', 'js'), { recursive: true });
  symlinkSync(path.join(ROOT, 'sdk', 'js', 'video'), path.join(dir, 'sdk', 'js', 'video'));
  return { webDir: path.join(dir, 'web'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// hq-server with `env`.  Without HQ_WEB_DIR it serves the protocol-level
// test page (tests/browser/harness: window.hqJoin, window.hq).  `dataDir`
// and `listen` restart a server where one was (the data directory is
// then the caller's to remove).
export async function startServer(env = {}, { dataDir, listen = '127.0.0.1:0' } = {}) {
  const ownData = !dataDir;
  if (ownData) dataDir = mkdtempSync(path.join(tmpdir(), 'hq-browser-'));
  const site = env.HQ_WEB_DIR ? null : siteFor(path.join(ROOT, 'tests', 'browser', 'harness'));
  if (site) env = { ...env, HQ_WEB_DIR: site.webDir };
  const proc = spawn(process.env.HQ_SERVER_BIN,
    ['--data-dir', dataDir, '--listen', listen],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) =>
    resolve(code ?? signal)));
  const url = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      const m = line.match(/ listening on (\S+)$/);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`hq-server exited (${code}):\n${log}`)));
  });
  // What the server made on first start: its development key and the
  // guest passcode of POST /token.
  const credentials = () => Object.fromEntries(
    readFileSync(path.join(dataDir, 'credentials.conf'), 'utf8').split('\n')
      .filter((l) => l.includes('=') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  // The REST API, with the development key.
  const rest = (method, pathname, body) => {
    const creds = credentials();
    return fetch(`${url}${pathname}`, {
      method,
      headers: {
        Authorization: 'Basic ' + Buffer.from(`${creds.key_sid}:${creds.key_secret}`).toString('base64'),
        'Content-Type': 'application/json',
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  };
  return {
    url,
    dataDir,
    credentials,
    rest,
    // A back-end's token for `identity` in `room` (made as a group room
    // when none of that name is in progress), as a consultation app's
    // server hands its users.
    async token(identity, room, role = 'guest') {
      const made = await rest('POST', '/v1/Rooms', { UniqueName: room });
      if (made.status !== 201 && made.status !== 409) {
        throw new Error(`room ${room} not created: ${made.status} ${await made.text()}`);
      }
      const res = await rest('POST', '/v1/AccessTokens', { Identity: identity, Room: room, Role: role });
      if (res.status !== 201) throw new Error(`no token: ${res.status} ${await res.text()}`);
      return (await res.json()).token;
    },
    log: () => log,
    // Complete lines only: the pipe may have delivered half of the last.
    events: () => log.slice(0, log.lastIndexOf('\n') + 1).split('\n')
      .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)),
    async stop() {
      proc.kill('SIGTERM');
      const code = await exited;
      if (ownData) rmSync(dataDir, { recursive: true, force: true });
      site?.remove();
      return code;
    },
  };
}

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--allow-loopback-in-peer-connection',
  '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required',
];

export const CHROMIUM = process.env.HQ_CHROMIUM || '/usr/lib/chromium/chromium';

// Polls `fn` in the page until it returns a truthy value.
export async function waitInPage(page, fn, arg, ms = 60000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate(fn, arg);
    if (last) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// gst-launch-1.0 with `args` and `env` (a token, a secret: never on the
// command line) added to ours, which holds the build tree's plugins;
// added to `pipelines` for stopping.  Its output is kept; waitFor(fn)
// polls it until `fn(output)` is truthy and fails early if it stops.
export function launchPipeline(args, env, pipelines) {
  const proc = spawn('gst-launch-1.0', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = code ?? signal; });
  const p = {
    output: () => out,
    exited: () => exited,
    stop() { if (exited === null) proc.kill('SIGTERM'); },
    async waitFor(fn, what, ms = 60000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const v = fn(out);
        if (v) return v;
        if (exited !== null) throw new Error(`gst-launch-1.0 exited (${exited}) before ${what}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}:\n${out.slice(-4000)}`);
    },
  };
  pipelines.push(p);
  return p;
}
