// TURN and ICE over TCP (issue 21, suite `turn`): a real coturn on
// 127.0.0.1 with the TURN REST API (use-auth-secret), a real hq-server
// that hands out time-limited credentials for it, headless Chromium and
// gst-launch-1.0 pipelines with the room elements.
//
// 1. Chromium with iceTransportPolicy 'relay' and hqroomsink/hqroomsrc
//    with ice-transport-policy=relay join a group room: frames are decoded
//    on both sides, Chromium's selected candidate pairs are relayed, and
//    coturn's own accounting shows the media bytes it relayed for each of
//    those participants' allocations.
// 2. coturn takes the credentials hq-server hands out, and refuses forged
//    and expired ones (401), as a raw Allocate shows and as Chromium
//    reports (icecandidateerror 401, no relayed candidate).
// 3. A pipeline without UDP (ice-udp=false) connects over ICE-TCP, and
//    does not when the server's ICE-TCP is off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, siteFor, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import { openApp, call, waitFrames, waitFor } from '../sdk/helpers.mjs';
import { PIPED, allocate, restCredential, runKept, startCoturn } from './coturn.mjs';

const DEADLINE = 60000;
let coturn;
let server;
let site;
let browser;
let context;
let gstDir;
const pipelines = [];

before(async () => {
  coturn = await startCoturn();
  // The twilio-video test app of the sdk suite, served by hq-server.
  site = siteFor(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'sdk', 'app'));
  server = await startServer({
    HQ_WEB_DIR: site.webDir,
    HQ_TURN_SECRET: coturn.secret,
    HQ_TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp, turn:127.0.0.1:${coturn.port}?transport=tcp`,
    HQ_TOKEN_OPEN_ROOMS: 'open-*',
  });
  gstDir = mkdtempSync(path.join(tmpdir(), 'hq-turn-gst-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext();
  // Every RTCPeerConnection the page makes, for its selected pairs.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.hqPeerConnections = [];
    window.RTCPeerConnection = function RTCPeerConnection(...args) {
      const pc = new Native(...args);
      window.hqPeerConnections.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Native.prototype;
    window.RTCPeerConnection.generateCertificate = Native.generateCertificate;
  });
});

after(async () => {
  for (const p of pipelines) await p.stop();
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  await coturn?.stop();
  site?.remove();
  if (gstDir) rmSync(gstDir, { recursive: true, force: true });
});

// gst-launch-1.0 with the build tree's room elements; they mint their
// tokens with the server's API key from the environment.  In sanitizer
// builds the runtimes are preloaded into it (tests/room/meson.build).
function gstLaunch(args, srv = server, extraEnv = {}) {
  const creds = srv.credentials();
  const env = {
    ...process.env, HQ_API_KEY_SID: creds.key_sid, HQ_API_KEY_SECRET: creds.key_secret,
    HQ_ACCOUNT_SID: creds.account_sid, ...extraEnv,
  };
  if (process.env.HQ_ROOM_TEST_PRELOAD) {
    Object.assign(env, {
      LD_PRELOAD: process.env.HQ_ROOM_TEST_PRELOAD,
      GST_PLUGIN_SYSTEM_PATH_1_0: process.env.HQ_ROOM_TEST_SYSTEM_PLUGINS,
      GST_REGISTRY_FORK: 'no',
      GST_REGISTRY: path.join(gstDir, 'registry.bin'),
    });
  }
  const run = runKept(spawn('gst-launch-1.0', ['-e', '-m', '-v', ...args], { stdio: PIPED, env }));
  const p = {
    output: () => run.out,
    async waitFor(fn, what, ms = DEADLINE) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const v = fn(run.out);
        if (v) return v;
        if (run.exited !== null) {
          throw new Error(`gst-launch-1.0 exited (${run.exited}) before ${what}:\n${run.out.slice(-4000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}:\n${run.out.slice(-4000)}`);
    },
    // Stops it the way Ctrl-C does (-e: EOS first, so it leaves the room
    // and its TURN allocations are released).
    async stop() {
      if (run.exited === null) run.proc.kill('SIGINT');
      const timer = setTimeout(() => run.proc.kill('SIGKILL'), 20000);
      await run.gone;
      clearTimeout(timer);
    },
  };
  pipelines.push(p);
  return p;
}

const count = (text, re) => (text.match(re) || []).length;
// Decoded video frames a `fakesink silent=false` printed with -v.
const decodedFrames = (o) => count(o, /last-message = chain/g);

async function makeRoom(name) {
  const res = await server.rest('POST', '/v1/Rooms', { UniqueName: name, Type: 'group' });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text).sid;
}

// What the page's RTCPeerConnections use: for each connected one, its
// configured ICE servers' URLs and transport policy, and the selected
// pair's local and remote candidate types.
function selectedPairs(p) {
  return call(p, async () => {
    const out = [];
    for (const pc of window.hqPeerConnections) {
      if (pc.connectionState !== 'connected') continue;
      const stats = [...(await pc.getStats()).values()];
      const byId = new Map(stats.map((s) => [s.id, s]));
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = transport && byId.get(transport.selectedCandidatePairId);
      const config = pc.getConfiguration();
      out.push({
        policy: config.iceTransportPolicy,
        urls: (config.iceServers || []).flatMap((s) => [].concat(s.urls)),
        local: pair && byId.get(pair.localCandidateId)?.candidateType,
        remote: pair && byId.get(pair.remoteCandidateId)?.candidateType,
        relayProtocol: pair && byId.get(pair.localCandidateId)?.relayProtocol,
      });
    }
    return out;
  });
}

test('Chromium and the room elements relay through coturn with the credentials of the join reply', async (t) => {
  const room = 'relayed';
  const roomSid = await makeRoom(room);
  const common = [`server=${server.url}`, `room=${room}`, 'ice-transport-policy=relay'];
  const pub = gstLaunch(['hqroomsink', 'name=s', ...common, 'identity=gst-pub',
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.']);
  await pub.waitFor((o) => /hq-joined/.test(o), 'hqroomsink to join');
  const sub = gstLaunch(['hqroomsrc', ...common, 'identity=gst-sub', 'participants=<chrome>', 'kinds=video',
    '!', 'fakesink', 'silent=false', 'sync=false']);

  const p = await openApp(context, `${server.url}/`, 'chrome');
  assert.deepEqual(await call(p, () => window.app.preview()), ['audio', 'video']);
  const token = await server.token('chrome', room);
  await call(p, ([t, r]) => window.app.join(t, r, false, ['video'], { iceTransportPolicy: 'relay' }), [token, room]);

  // Frames decoded on both sides.
  await waitFrames(p, 'gst-pub');
  await sub.waitFor((o) => decodedFrames(o) >= 30, '30 video frames from Chromium decoded by hqroomsrc');
  assert.match(sub.output(), /caps = video\/x-raw.*width=\(int\)\d+/);

  // Chromium used the join reply's TURN servers and relayed candidates
  // only, on its publish and subscribe connections.
  const pairs = await waitFor(p, async () => {
    const out = [];
    for (const pc of window.hqPeerConnections) {
      if (pc.connectionState === 'connected') out.push(pc);
    }
    return out.length >= 2;
  }, undefined, 'both connections connected').then(() => selectedPairs(p));
  assert.ok(pairs.length >= 2, JSON.stringify(pairs));
  for (const pair of pairs) {
    assert.equal(pair.policy, 'relay');
    assert.ok(pair.urls.includes(`turn:127.0.0.1:${coturn.port}?transport=udp`), JSON.stringify(pair));
    assert.equal(pair.local, 'relay', `Chromium's selected pair is not relayed: ${JSON.stringify(pair)}`);
  }

  t.diagnostic(`Chromium's selected pairs: ${JSON.stringify(pairs)}`);
  // The SFU's side of every transport in the room: the remote candidate
  // is a relayed one (coturn's), for Chromium's and the elements' alike.
  const serverPairs = server.events().filter((e) => e.event === 'transport' && e.room === roomSid
    && e.state === 'connected').map((e) => e.pair);
  t.diagnostic(`the server's pairs: ${JSON.stringify(serverPairs)}`);
  assert.ok(serverPairs.length >= 4, JSON.stringify(serverPairs));
  for (const pair of serverPairs) assert.match(pair, /<-> relay /);

  // Leave; coturn then writes what each allocation relayed.
  await call(p, () => window.app.room.disconnect());
  await pub.stop();
  await sub.stop();
  const usage = {};
  const deadline = Date.now() + DEADLINE;
  for (;;) {
    for (const who of ['chrome', 'gst-pub', 'gst-sub']) {
      const u = coturn.peerUsage(who);
      usage[who] = {
        toPeer: u.reduce((n, x) => n + x.sb, 0), fromPeer: u.reduce((n, x) => n + x.rb, 0), allocations: u.length,
      };
    }
    // 320x240 VP8 for a few seconds is well over 20 kB each way it flows;
    // consent checks and RTCP alone are a few kB.
    if (usage['gst-pub'].toPeer > 20000 && usage['gst-sub'].fromPeer > 20000
        && usage.chrome.toPeer > 20000 && usage.chrome.fromPeer > 20000) break;
    if (Date.now() > deadline) {
      assert.fail(`coturn did not account the relayed media: ${JSON.stringify(usage)}\n`
        + coturn.log().split('\n').filter((l) => /usage|closed/.test(l)).slice(-30).join('\n'));
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  t.diagnostic(`coturn's peer usage (bytes): ${JSON.stringify(usage)}`);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

test('coturn takes the credentials hq-server hands out and refuses forged and expired ones', async () => {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_identity: 'Pat', room_name: 'open-visit' }),
  });
  assert.equal(res.status, 200);
  const reply = await res.json();
  const turn = reply.ice_servers.find((s) => [].concat(s.urls).some((u) => u.startsWith('turn:')));
  assert.ok(turn, JSON.stringify(reply.ice_servers));
  const [expiry, identity] = [turn.username.slice(0, turn.username.indexOf(':')),
    turn.username.slice(turn.username.indexOf(':') + 1)];
  assert.equal(identity, reply.identity, 'the TURN username names the participant');
  const now = Math.floor(Date.now() / 1000);
  // [turn] ttl defaults to a day.
  assert.ok(Number(expiry) > now + 23 * 3600 && Number(expiry) <= now + 24 * 3600 + 60, turn.username);

  const ok = await allocate(coturn.port, turn.username, turn.credential);
  assert.equal(ok.success, true, `coturn refused hq-server's credential: ${JSON.stringify(ok)}`);
  assert.equal(ok.relayed, true);

  // Forged: the same username, signed with another secret.
  const forged = await allocate(coturn.port, turn.username, restCredential('not-the-secret', turn.username));
  assert.equal(forged.success, false);
  assert.equal(forged.code, 401, JSON.stringify(forged));
  // Tampered: a later expiry with the credential of the original.
  const later = `${Number(expiry) + 3600}:${identity}`;
  const tampered = await allocate(coturn.port, later, turn.credential);
  assert.equal(tampered.code, 401, JSON.stringify(tampered));
  // Expired: correctly signed, but its time has passed.
  const past = `${now - 60}:${identity}`;
  const expired = await allocate(coturn.port, past, restCredential(coturn.secret, past));
  assert.equal(expired.success, false);
  assert.equal(expired.code, 401, JSON.stringify(expired));
  assert.match(coturn.log(), new RegExp(`user <${past}>: incoming packet message processed, error 401`));
});

// What a browser reports when it gathers with `servers` and relayed
// candidates only: the relayed candidates it got and its icecandidateerror
// events, once gathering is complete.
async function browserGathers(servers) {
  const page = await context.newPage();
  try {
    return await page.evaluate(async (iceServers) => {
      const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
      const out = { relayed: 0, errors: [] };
      pc.onicecandidate = (e) => {
        if (e.candidate && / typ relay /.test(e.candidate.candidate)) out.relayed++;
      };
      pc.onicecandidateerror = (e) => out.errors.push({ url: e.url, code: e.errorCode, text: e.errorText });
      const done = new Promise((resolve) => {
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      });
      pc.createDataChannel('x');
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      pc.close();
      return out;
    }, servers);
  } finally {
    await page.close();
  }
}

test('a browser given forged or expired credentials gets no relay: coturn answers 401', async () => {
  const identity = 'browser-check';
  const now = Math.floor(Date.now() / 1000);
  const urls = [`turn:127.0.0.1:${coturn.port}?transport=udp`];
  const good = `${now + 600}:${identity}`;
  const ok = await browserGathers([{ urls, username: good, credential: restCredential(coturn.secret, good) }]);
  assert.ok(ok.relayed > 0, `no relayed candidate with a good credential: ${JSON.stringify(ok)}`);
  const forged = await browserGathers([{ urls, username: good, credential: restCredential('forged', good) }]);
  const past = `${now - 60}:${identity}`;
  const expired = await browserGathers([{ urls, username: past, credential: restCredential(coturn.secret, past) }]);
  for (const [what, got] of [['forged', forged], ['expired', expired]]) {
    assert.equal(got.relayed, 0, `${what}: ${JSON.stringify(got)}`);
    assert.ok(got.errors.some((e) => e.code === 401), `${what}: no 401 among ${JSON.stringify(got.errors)}`);
  }
});

test('a pipeline without UDP connects over ICE-TCP', async () => {
  const room = 'tcp-only';
  const roomSid = await makeRoom(room);
  const common = [`server=${server.url}`, `room=${room}`, 'ice-udp=false'];
  const pub = gstLaunch(['hqroomsink', 'name=s', ...common, 'identity=tcp-pub',
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.']);
  const sub = gstLaunch(['hqroomsrc', ...common, 'identity=tcp-sub', 'kinds=video', '!', 'fakesink',
    'silent=false', 'sync=false']);
  await sub.waitFor((o) => decodedFrames(o) >= 30, '30 decoded video frames over ICE-TCP').catch((err) => {
    err.message += `\nthe server's ICE and transport lines: ${JSON.stringify(server.events()
      .filter((e) => ['ice', 'transport'].includes(e.event) && e.room === roomSid))}`;
    throw err;
  });
  // Every transport of the room that connected did so over TCP.
  const lines = server.events().filter((e) => e.event === 'transport' && e.room === roomSid
    && e.state === 'connected');
  assert.equal(lines.length, 2, JSON.stringify(lines));
  for (const l of lines) assert.match(l.pair, /^\w+ tcp \S+ <-> \w+ tcp /, JSON.stringify(l));
  await pub.stop();
  await sub.stop();
});

test('without ICE-TCP on the server a pipeline without UDP cannot connect', async () => {
  const other = await startServer({ HQ_MEDIA_ICE_TCP: 'false' });
  try {
    const res = await other.rest('POST', '/v1/Rooms', { UniqueName: 'udp-only', Type: 'group' });
    assert.equal(res.status, 201);
    const pub = gstLaunch(['hqroomsink', 'name=s', `server=${other.url}`, 'room=udp-only', 'ice-udp=false',
      'identity=tcp-pub', 'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240', '!', 's.'],
    other, { GST_DEBUG: 'hqroomclient:4' });
    // Both sides know at once that no pair is possible, and say why.
    const failed = await waitForLog(other, (e) => e.event === 'transport' && e.state === 'failed',
      'the publish transport to fail');
    assert.match(failed.error, /no candidate pair is possible: ours are UDP only, the peer's TCP only/);
    await pub.waitFor((o) => /peer's UDP only/.test(o), 'hqroomsink to say why its transport failed');
    await pub.stop();
  } finally {
    assert.equal(await other.stop(), 0, other.log());
  }
});

async function waitForLog(srv, fn, what, ms = DEADLINE) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const hit = srv.events().find(fn);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${srv.log().slice(-4000)}`);
}
