// hq-server over https and wss (docs/tls.md), suite `tls`: a test CA and
// server certificates made by makecerts.py; a real hq-server with them;
// headless Chromium trusting the test CA (--ignore-certificate-errors-
// spki-list) on the web app; gst-launch-1.0 pipelines with hqroomsink and
// hqroomsrc over wss trusting it with tls-ca-file.  One server carries a
// call through a certificate swap (SIGHUP); other servers show what a
// bad certificate does at start, at SIGHUP and at a client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import { ROOT, openApp, join, waitFrames, tileState } from '../web/webpage.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
// Deadlines stretch in sanitizer builds, where every pipeline and the
// server run several times slower (more so on a busy machine).
const SLOW = process.env.HQ_ROOM_TEST_PRELOAD ? 4 : 1;
const dir = mkdtempSync(path.join(tmpdir(), 'hq-tls-'));
const certs = JSON.parse(execFileSync('python3', [path.join(HERE, 'makecerts.py'), dir]));
const ca = readFileSync(certs.ca.cert);
const servers = [];
const pipelines = [];
let browser;

// hq-server on a free loopback port with `env`; resolves when it listens
// (or with its exit code and output when it does not start).
function startServer(env, dataDir = mkdtempSync(path.join(dir, 'data-'))) {
  const proc = spawn(process.env.HQ_SERVER_BIN, ['--data-dir', dataDir, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HQ_WEB_DIR: path.join(ROOT, 'web'), ...env } });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  const s = {
    dataDir,
    out: () => out,
    log: () => err,
    // Complete lines only: the pipe may have delivered half of the last.
    events: () => err.slice(0, err.lastIndexOf('\n') + 1).split('\n')
      .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)),
    hup: () => proc.kill('SIGHUP'),
    exited,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
    // A token minted by the server's own command for `identity` in `room`.
    token: (identity, room) => execFileSync(process.env.HQ_SERVER_BIN,
      ['token', '--data-dir', dataDir, '--identity', identity, '--room', room], { env: process.env })
      .toString().trim(),
    passcode: () => /^passcode=(.*)$/m.exec(readFileSync(path.join(dataDir, 'credentials.conf'), 'utf8'))[1],
    // Polls the log until an event line satisfies `fn`.
    async waitEvent(fn, what, ms = 30000 * SLOW) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const e = s.events().find(fn);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}:\n${err}`);
    },
  };
  servers.push(s);
  s.started = new Promise((resolve) => {
    proc.stdout.on('data', () => {
      const m = out.match(/ listening on (\S+)\n/);
      if (m) { s.url = m[1]; resolve(s); }
    });
    exited.then((code) => resolve({ ...s, failed: code }));
  });
  return s.started;
}

// gst-launch-1.0 with the build tree's plugins and the token in the
// environment.  In sanitizer builds it gets the sanitizer runtimes
// preloaded and scans the plugins in-process (tests/room/meson.build).
// The registry is the build folder's (GST_REGISTRY), which hq-server's
// recorder child uses too; before() fills it once.
function gstEnv(extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  delete env.HQ_TLS_CA_FILE;
  if (process.env.HQ_ROOM_TEST_PRELOAD) {
    Object.assign(env, {
      LD_PRELOAD: process.env.HQ_ROOM_TEST_PRELOAD,
      GST_PLUGIN_SYSTEM_PATH_1_0: process.env.HQ_ROOM_TEST_SYSTEM_PLUGINS,
      GST_REGISTRY_FORK: 'no',
      ASAN_OPTIONS: 'detect_leaks=0',
    });
  }
  return env;
}

function gstLaunch(args, token, extraEnv = {}) {
  const env = gstEnv({ HQ_ACCESS_TOKEN: token, ...extraEnv });
  const proc = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  let exited = null;
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => { exited = code ?? signal; resolve(exited); }));
  const p = {
    output: () => out,
    done,
    stop() { if (exited === null) proc.kill('SIGINT'); return done; },
    async waitFor(fn, what, ms = 60000 * SLOW) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const v = fn(out);
        if (v) return v;
        if (exited !== null) throw new Error(`gst-launch-1.0 exited (${exited}) before ${what}:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}:\n${out.slice(-4000)}`);
    },
  };
  pipelines.push(p);
  return p;
}

const frames = (out) => (out.match(/last-message = chain/g) || []).length;

// The certificate a new TLS connection to `url` gets (verified with the
// test CA unless `trusted` is false).
function peerCertificate(url, { trusted = true } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost',
      rejectUnauthorized: trusted }, () => {
      const cert = sock.getPeerCertificate();
      sock.end();
      resolve(cert);
    });
    sock.on('error', reject);
  });
}

function httpsGet(url) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

// A group room made over the REST API with the server's development key.
function createRoom(s, name, { ca: trust = ca, extra = '' } = {}) {
  const creds = Object.fromEntries(readFileSync(path.join(s.dataDir, 'credentials.conf'), 'utf8')
    .split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const body = `UniqueName=${name}${extra ? `&${extra}` : ''}`;
  return new Promise((resolve, reject) => {
    const req = https.request(`${s.url}/v1/Rooms`, {
      method: 'POST', ca: trust, servername: 'localhost',
      auth: `${creds.key_sid}:${creds.key_secret}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`room ${name}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Replaces the live certificate files as a deploy would: write aside,
// then rename over.
const live = { cert: path.join(dir, 'live.pem'), key: path.join(dir, 'live-key.pem') };
function install(pair) {
  copyFileSync(pair.key, `${live.key}.new`);
  copyFileSync(pair.cert, `${live.cert}.new`);
  renameSync(`${live.key}.new`, live.key);
  renameSync(`${live.cert}.new`, live.cert);
}

let server;

before(async () => {
  // The plugin scan, once, before any deadline runs (in sanitizer builds
  // it scans in-process and takes a while).
  execFileSync('gst-inspect-1.0', ['hqroomsrc'], { env: gstEnv(), stdio: 'ignore', timeout: 300000 });
  execFileSync('gst-inspect-1.0', ['hqrecorder'], { env: gstEnv(), stdio: 'ignore', timeout: 300000 });
  install(certs.a);
  server = await startServer({ HQ_TLS_CERTIFICATE: live.cert, HQ_TLS_KEY: live.key });
  assert.ok(server.url, `hq-server did not start:\n${server.log()}`);
  // Chromium trusts the test CA's key (and so what it signs) and no other.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${certs.ca.spki}`],
  });
});

after(async () => {
  for (const p of pipelines) await p.stop();
  await browser?.close();
  for (const s of servers) {
    if (!s.failed && s.url) assert.equal(await s.stop(), 0, s.log());
  }
  rmSync(dir, { recursive: true, force: true });
});

test('https: the server says https, serves certificate A, HSTS and a strict CSP', async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await peerCertificate(server.url)).serialNumber, certs.a.serial);
  const page = await httpsGet(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');
  const csp = page.headers['content-security-policy'];
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
    "frame-ancestors 'none'", "object-src 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const health = await httpsGet(`${server.url}/healthz`);
  assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
  const event = server.events().find((e) => e.event === 'tls_certificate');
  assert.equal(event.serial, certs.a.serial);
  // The trust is the flag's: a Chromium without it refuses the page.
  const bare = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const refused = await bare.newPage();
  await assert.rejects(refused.goto(`${server.url}/`), /ERR_CERT_AUTHORITY_INVALID/);
  await bare.close();
});

test('a call over https and wss survives a certificate swap; new connections get the new one', async () => {
  const room = 'visit-tls';
  // A clinician in Chromium, on the web app over https (the page is
  // served under its CSP; any violation is a console error).
  const doc = await openApp(browser, `${server.url}/`, { who: 'clinician' });
  const sockets = [];
  doc.page.on('websocket', (ws) => sockets.push(ws.url()));
  await join(doc, { name: 'Dr Ana', room, passcode: server.passcode(), create: true });
  assert.ok(sockets.length >= 1 && sockets.every((u) => u.startsWith('wss://127.0.0.1:')), JSON.stringify(sockets));

  // A camera pipeline publishing over wss, trusting the test CA.
  const common = [`server=${server.url}`, `room=${room}`, `tls-ca-file=${certs.ca.cert}`];
  const pub = gstLaunch(['hqroomsink', 'name=room', ...common,
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!', 'room.'],
  server.token('gst-camera', room));
  await waitFrames(doc, 'gst-camera', 90000 * SLOW);
  // A viewer pipeline decoding over wss.
  const viewer = gstLaunch(['-m', '-v', 'hqroomsrc', ...common, 'participants=<gst-camera>', 'kinds=video',
    '!', 'fakesink', 'silent=false', 'sync=false'], server.token('gst-viewer', room));
  await viewer.waitFor((o) => frames(o) >= 30, '30 frames decoded over wss');
  const joins = server.events().filter((e) => e.what === 'participant-connected').length;
  // The page's WebSockets (the call's and the chat's) before the swap.
  const socketsAtSwap = sockets.length;

  // The swap: certificate B in place of A, then SIGHUP.
  install(certs.b);
  server.hup();
  const reloaded = await server.waitEvent((e) => e.event === 'tls_reloaded' && e.serial, 'tls_reloaded');
  assert.equal(reloaded.serial, certs.b.serial);
  // A new connection gets B...
  assert.equal((await peerCertificate(server.url)).serialNumber, certs.b.serial);
  // ... while the call goes on over the connections made with A.
  const atSwap = frames(viewer.output());
  await viewer.waitFor((o) => frames(o) >= atSwap + 30, '30 more frames after the swap');
  const tile = await tileState(doc, 'gst-camera');
  await waitFrames(doc, 'gst-camera', 90000 * SLOW);
  assert.ok((await tileState(doc, 'gst-camera')).frames > tile.frames);
  assert.doesNotMatch(viewer.output(), /hq-reconnecting/);
  assert.doesNotMatch(pub.output(), /ERROR/);
  assert.equal(server.events().filter((e) => e.what === 'participant-connected').length, joins,
    'nobody had to join again');
  assert.equal(sockets.length, socketsAtSwap, 'the page kept its WebSockets: no new one after the swap');

  // A new browser page joins the same call with certificate B.
  const pat = await openApp(browser, `${server.url}/`, { who: 'patient' });
  await join(pat, { name: 'Pat', room, passcode: server.passcode() });
  await waitFrames(pat, 'gst-camera', 90000 * SLOW);
  assert.deepEqual([...doc.problems, ...pat.problems], []);
  await doc.context.close();
  await pat.context.close();
  // Both pipelines stop cleanly (an interrupt, then NULL).
  assert.equal(await viewer.stop(), 0, viewer.output().slice(-2000));
  assert.equal(await pub.stop(), 0, pub.output().slice(-2000));
});

test('the recorder child joins over wss, trusting the certificate in the server file (after the swap: B)', async () => {
  const room = 'visit-recorded';
  await createRoom(server, room, { extra: 'RecordParticipantsOnConnect=true' });
  const pub = gstLaunch(['hqroomsink', 'name=room', `server=${server.url}`, `room=${room}`,
    `tls-ca-file=${certs.ca.cert}`, 'videotestsrc', 'is-live=true', '!',
    'video/x-raw,width=320,height=240,framerate=15/1', '!', 'room.'], server.token('gst-recorded', room));
  const joined = await server.waitEvent((e) => e.event === 'recorder' && e.what === 'joined', 'the recorder to join', 120000 * SLOW);
  assert.ok(joined.detail, JSON.stringify(joined));
  assert.equal(await pub.stop(), 0, pub.output().slice(-2000));
});

test('a bad certificate at SIGHUP is logged and the one before stays', async () => {
  const before = (await peerCertificate(server.url)).serialNumber;
  install(certs.expired);
  server.hup();
  const failed = await server.waitEvent((e) => e.event === 'tls_reload_failed', 'tls_reload_failed');
  assert.match(failed.error, /expired on/);
  assert.equal((await peerCertificate(server.url)).serialNumber, before);
  // Half a deploy: the key of another certificate.
  copyFileSync(certs.a.cert, live.cert);
  copyFileSync(certs.b.key, live.key);
  server.hup();
  await server.waitEvent((e) => e.event === 'tls_reload_failed' && /does not belong/.test(e.error),
    'a second tls_reload_failed');
  assert.equal((await peerCertificate(server.url)).serialNumber, before);
});

test('the room elements say why they refuse a certificate', async () => {
  const room = 'visit-refused';
  const src = (url, token, extra = []) => gstLaunch(['hqroomsrc', `server=${url}`, `room=${room}`, ...extra,
    '!', 'fakesink'], token);
  // Not signed by an authority the system trusts.
  const untrusted = src(server.url, server.token('gst-untrusted', room));
  assert.notEqual(await untrusted.done, 0);
  assert.match(untrusted.output(), /ERROR: from element .*cannot connect securely to wss:\/\/127\.0\.0\.1:\d+\/v1\/signal: the server's TLS certificate \(for localhost, 127\.0\.0\.1\) is not signed by a certificate authority this system trusts \(it was issued by [^)]*hqrooms test CA\); set the tls-ca-file property/);

  // A certificate for another host.
  const wrong = await startServer({ HQ_TLS_CERTIFICATE: certs.wronghost.cert, HQ_TLS_KEY: certs.wronghost.key });
  const w = src(wrong.url, wrong.token('gst-wrong', room), [`tls-ca-file=${certs.ca.cert}`]);
  assert.notEqual(await w.done, 0);
  assert.match(w.output(), /the server's TLS certificate \(for wrong\.example\) is not for 127\.0\.0\.1, the host in the server URL/);

  // An expired certificate (hq-server would not start with it: a plain
  // TLS server presents it).
  const expired = https.createServer({ cert: readFileSync(certs.expired.cert), key: readFileSync(certs.expired.key) },
    (req, res) => res.end());
  await new Promise((r) => expired.listen(0, '127.0.0.1', r));
  const e = src(`https://127.0.0.1:${expired.address().port}`, wrong.token('gst-expired', room),
    [`tls-ca-file=${certs.ca.cert}`]);
  assert.notEqual(await e.done, 0);
  assert.match(e.output(), /the server's TLS certificate \(for localhost, 127\.0\.0\.1\) has expired \(on \d{4}-\d\d-\d\d \d\d:\d\d UTC\): the server needs a renewed certificate/);
  expired.close();

  // An unreadable CA file.
  const nofile = src(server.url, server.token('gst-nofile', room), [`tls-ca-file=${path.join(dir, 'none.pem')}`]);
  assert.notEqual(await nofile.done, 0);
  assert.match(nofile.output(), /cannot use tls-ca-file .*none\.pem/);
});

test('a certificate that cannot serve stops the server at start, saying why', async () => {
  const cases = [
    [{ HQ_TLS_CERTIFICATE: certs.expired.cert, HQ_TLS_KEY: certs.expired.key }, /the TLS certificate .*expired\.pem expired on .*; browsers and the room elements refuse it: renew it/],
    [{ HQ_TLS_CERTIFICATE: certs.a.cert, HQ_TLS_KEY: certs.b.key }, /the TLS key .*b-key\.pem does not belong to the certificate .*a\.pem/],
    [{ HQ_TLS_CERTIFICATE: path.join(dir, 'missing.pem'), HQ_TLS_KEY: certs.a.key }, /cannot read the TLS certificate .*missing\.pem: No such file or directory/],
    [{ HQ_TLS_CERTIFICATE: certs.ca.cert, HQ_TLS_KEY: certs.ca.cert }, /holds no unencrypted PEM private key/],
    [{ HQ_TLS_CERTIFICATE: certs.a.cert }, /tls_certificate and tls_key must be given together/],
    [{ HQ_TLS: 'yes' }, /HQ_TLS must be "dev" .* or "files"/],
  ];
  for (const [env, message] of cases) {
    const s = await startServer(env);
    assert.equal(s.failed, 1, `exit code with ${JSON.stringify(env)}:\n${s.log()}`);
    assert.match(s.log(), message);
  }
});

test('over https a connection past connections_per_ip is closed before any handshake, and logged', async () => {
  const capped = await startServer({ HQ_TLS_CERTIFICATE: certs.a.cert, HQ_TLS_KEY: certs.a.key, HQ_CONNECTIONS_PER_IP: '1' });
  const u = new URL(capped.url);
  const held = await new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, () => resolve(sock));
    sock.on('error', reject);
  });
  // The cap is reached: the next connection ends without a handshake.
  await assert.rejects(peerCertificate(capped.url), /socket disconnected before secure TLS connection|ECONNRESET/);
  const refused = await capped.waitEvent((e) => e.event === 'connection_refused', 'connection_refused');
  assert.equal(refused.reason, 'connections_per_ip');
  held.destroy();
  // Once the first one is gone, connections are served again.
  const deadline = Date.now() + 30000 * SLOW;
  for (;;) {
    try {
      assert.equal((await peerCertificate(capped.url)).serialNumber, certs.a.serial);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

test('tls=dev makes a self-signed certificate once, prints its fingerprint, and a pipeline can trust it', async () => {
  const dataDir = mkdtempSync(path.join(dir, 'dev-'));
  const first = await startServer({ HQ_TLS: 'dev' }, dataDir);
  const printed = /Created the self-signed development TLS certificate (\S+)\n\s+SHA-256 fingerprint\s+(\S+)\n\s+public key \(SPKI\)\s+(\S+)/.exec(first.out());
  assert.ok(printed, first.out());
  assert.equal(printed[1], path.join(dataDir, 'tls', 'dev-cert.pem'));
  const served = await peerCertificate(first.url, { trusted: false });
  assert.equal(served.fingerprint256, printed[2]);
  assert.ok(served.subjectaltname.includes('IP Address:127.0.0.1'), served.subjectaltname);
  // A pipeline trusting that certificate joins.
  const room = 'visit-dev';
  await createRoom(first, room, { ca: readFileSync(printed[1]) });
  const p = gstLaunch(['-m', 'hqroomsrc', `server=${first.url}`, `room=${room}`, `tls-ca-file=${printed[1]}`,
    '!', 'fakesink'], first.token('gst-dev', room));
  await first.waitEvent((e) => e.what === 'participant-connected', 'the pipeline to join over wss');
  await p.stop();
  assert.equal(await first.stop(), 0, first.log());
  // The next start uses the same certificate.
  const again = await startServer({ HQ_TLS: 'dev' }, dataDir);
  assert.match(again.out(), new RegExp(`Using the self-signed development TLS certificate .*\\n\\s+SHA-256 fingerprint\\s+${printed[2]}`));
  assert.equal((await peerCertificate(again.url, { trusted: false })).fingerprint256, printed[2]);
});
