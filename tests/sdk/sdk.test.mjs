// @hqrooms/video against a real hq-server and headless Chromium: a test
// app written only against twilio-video's API (app.js) loads the SDK from
// /sdk/video.js on the server that served the page, and two and three
// pages run a call's flows through the server's SFU.  Suite `sdk`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, siteFor, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';
import { call, eventsOf, openApp, restCall, waitEvent, waitFor, waitFrames } from './helpers.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const KEY = { sid: 'SK' + 'a1'.repeat(16), secret: 'sdk-test-secret-0123456789' };
let browser;
let server;
let site;

// The test app stands where hq-server's web client stands (HQ_WEB_DIR),
// the SDK next to it as in the source tree: the server serves both.
const serverEnv = () => ({
  HQ_WEB_DIR: site.webDir,
  HQ_ACCOUNT_SID: 'AC' + 'b2'.repeat(16), HQ_API_KEY_SID: KEY.sid, HQ_API_KEY_SECRET: KEY.secret,
});

before(async () => {
  site = siteFor(path.join(HERE, 'app'));
  server = await startServer(serverEnv());
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  site?.remove();
});

const rest = (pathname, params, status = 201, base = server.url) => restCall(KEY, base, pathname, params, status);

const createRoom = (name) => rest('/v1/Rooms', { UniqueName: name, Type: 'group' });
const token = async (identity, room) => (await rest('/v1/AccessTokens', { Identity: identity, Room: room })).token;

// A page of the test app, from the server.
const appPage = (identity, base = server.url) => openApp(browser, `${base}/`, identity);

test('two pages: preview, connect, see each other, mute, camera off and on, restart, screen share, speaker, quality, stats', async () => {
  await createRoom('sdk-two');
  const a = await appPage('ana');
  const b = await appPage('ben');
  for (const p of [a, b]) {
    assert.deepEqual(await call(p, () => window.app.preview()), ['audio', 'video']);
    await waitInPage(p.page, () => window.app.previewFrames().frames >= 5
      && window.app.previewFrames().width === 640, undefined, 30000, 'the preview plays');
  }
  // Ben first: ana's tracks then reach ben in the order ana publishes them
  // (audio first), see the BUNDLE test below.
  const joined = await call(b, ([t]) => window.app.join(t, 'sdk-two'), [await token('ben', 'sdk-two')]);
  assert.equal(joined.name, 'sdk-two');
  assert.equal(joined.state, 'connected');
  assert.match(joined.sid, /^RM/);
  await call(a, ([t]) => window.app.join(t, 'sdk-two'), [await token('ana', 'sdk-two')]);
  await waitEvent(a, { type: 'connected', participants: 1, early: 0 }, 'ben in the room, no track subscribed yet');
  await waitEvent(b, { type: 'participantConnected', identity: 'ana' });
  for (const [p, other] of [[a, 'ben'], [b, 'ana']]) {
    await waitEvent(p, { type: 'trackSubscribed', identity: other, kind: 'audio' });
    await waitEvent(p, { type: 'trackSubscribed', identity: other, kind: 'video' });
    await waitFrames(p, other);
  }

  // Mute and unmute: the other side hears of it.
  assert.equal(await call(a, () => window.app.setEnabled('audio', false)), false);
  await waitEvent(b, { type: 'trackDisabled', identity: 'ana', kind: 'audio', enabled: false });
  assert.equal(await call(a, () => window.app.setEnabled('audio', true)), true);
  await waitEvent(b, { type: 'trackEnabled', identity: 'ana', kind: 'audio', enabled: true });

  // Camera off by unpublishing, back on by publishing again.
  const [oldVideo] = (await eventsOf(b, 'trackSubscribed')).filter((e) => e.identity === 'ana' && e.kind === 'video');
  const off = await call(a, () => window.app.cameraOff());
  assert.equal(off.unpublished, oldVideo.sid);
  assert.equal(off.left, 0);
  await waitEvent(b, { type: 'trackUnsubscribed', identity: 'ana', kind: 'video', sid: oldVideo.sid });
  await waitEvent(b, { type: 'trackUnpublished', identity: 'ana', kind: 'video', sid: oldVideo.sid });
  assert.equal((await call(b, () => window.app.remoteVideo('ana'))).elements, 0, 'the detached element is gone');
  const on = await call(a, () => window.app.cameraOn());
  assert.deepEqual([on.kind, on.priority, on.videoTracks], ['video', 'high', 1]);
  assert.notEqual(on.sid, oldVideo.sid);
  await waitEvent(b, { type: 'trackPublished', identity: 'ana', kind: 'video', sid: on.sid });
  await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'video', sid: on.sid });
  await waitFrames(b, 'ana');
  assert.equal(await call(a, () => window.app.setCameraPriority('low')), 'low');
  await waitEvent(b, { type: 'trackPublishPriorityChanged', identity: 'ana', sid: on.sid, priority: 'low' });

  // A new capture of the camera (restart) reaches the other side.
  const restarted = await call(a, () => window.app.restartCamera(320, 240));
  assert.deepEqual(restarted, { dimensions: { width: 320, height: 240 }, oldCapture: 'ended', same: false });
  await waitFor(b, () => ({ ok: window.app.remoteVideo('ana').width === 320, ...window.app.remoteVideo('ana') }),
    undefined, 'ana\'s restarted 320x240 camera');
  await waitFrames(b, 'ana');

  // Screen share: a second video track, seen and decoded remotely, then
  // stopped.
  const shared = await call(a, () => window.app.shareScreen());
  assert.deepEqual(shared, { name: 'screen', kind: 'video', priority: 'high', videoTracks: 2 });
  await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'video', name: 'screen' });
  const screen = await waitFrames(b, 'ana', 'screen');
  assert.equal(screen.width, 1280, 'Chromium\'s fake screen is 1280x720');
  assert.deepEqual(await call(a, () => window.app.publishDuplicate('screen')), {
    published: false, code: 53304, name: 'TrackNameIsDuplicatedError', event: { code: 53304, kind: 'video' },
  });
  assert.deepEqual(await call(a, () => window.app.stopScreen()), { name: 'screen', videoTracks: 1 });
  // A data track in a group room: carried by the signalling connection
  // (tests/sdk/extensions.test.mjs sends on them).
  const data = await call(a, () => window.app.publishData('chat'));
  assert.deepEqual(data, { kind: 'data', name: 'chat', dataTracks: 1 });
  await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'data', name: 'chat' });
  await waitInPage(b.page, () => window.app.remoteVideo('ana', 'screen').elements === 0, undefined, 30000,
    'the screen element removed');

  // Dominant speaker: whoever is not muted (both fake microphones beep).
  await call(b, () => window.app.setEnabled('audio', false));
  await waitEvent(b, { type: 'dominantSpeakerChanged', identity: 'ana' });
  await call(b, () => window.app.setEnabled('audio', true));

  // Network quality: levels for ourselves and (remote verbosity 1) the other.
  for (const [p, other] of [[a, 'ben'], [b, 'ana']]) {
    const mine = await waitEvent(p, { type: 'networkQualityLevelChanged', identity: p.identity });
    const theirs = await waitEvent(p, { type: 'networkQualityLevelChanged', identity: other });
    for (const e of [mine, theirs]) {
      assert.ok(Number.isInteger(e.level) && e.level >= 0 && e.level <= 5, JSON.stringify(e));
      assert.equal(e.statsLevel, e.level);
    }
  }

  // getStats in the StatsReport shape, counting what flowed.
  const stats = await call(a, () => window.app.stats());
  assert.equal(stats.reports, 2, 'publish and subscribe connections');
  assert.ok(stats.bytesSent > 0 && stats.bytesReceived > 0, JSON.stringify(stats));
  assert.equal(stats.audioStats, 1);

  // Leaving: the other side sees it, and the leaver's room says so.
  const left = await call(b, () => window.app.disconnect());
  assert.equal(left.state, 'disconnected');
  await waitEvent(b, { type: 'disconnected', code: null });
  await waitEvent(a, { type: 'participantDisconnected', identity: 'ben' });
  await waitEvent(a, { type: 'trackUnsubscribed', identity: 'ben', kind: 'video' });
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.page.close();
  await b.page.close();
});

test('three pages; tracks connect() captured stop when the room is left', async () => {
  await createRoom('sdk-three');
  const pages = [await appPage('kim'), await appPage('lee'), await appPage('max')];
  for (const p of pages) {
    await call(p, ([t]) => window.app.join(t, 'sdk-three', true), [await token(p.identity, 'sdk-three')]);
  }
  // An observer that subscribes to nothing (automaticSubscription: false).
  const obs = await appPage('obs');
  await call(obs, ([t]) => window.app.join(t, 'sdk-three', false, [], { automaticSubscription: false }),
    [await token('obs', 'sdk-three')]);
  for (const p of pages) {
    for (const other of pages) {
      if (other !== p) await waitFrames(p, other.identity);
    }
  }
  assert.deepEqual(await call(obs, () => window.app.received()),
    { participants: 3, publications: 6, subscribed: 0, events: 0 }, 'the observer knows all, receives nothing');
  await obs.page.close();
  // bandwidthProfile with no video track on (maxTracks 0): audio only.
  const aud = await appPage('aud');
  await call(aud, ([t]) => window.app.join(t, 'sdk-three', false, [], {
    bandwidthProfile: { video: { mode: 'collaboration', maxTracks: 0 } },
  }), [await token('aud', 'sdk-three')]);
  for (const p of pages) await waitEvent(aud, { type: 'trackSubscribed', identity: p.identity, kind: 'audio' });
  const got = await call(aud, () => window.app.received());
  assert.deepEqual([got.publications, got.subscribed, got.events], [6, 3, 3], 'three audio tracks, no video');
  assert.deepEqual((await eventsOf(aud, 'trackSubscribed')).map((e) => e.kind), ['audio', 'audio', 'audio']);
  await aud.page.close();
  const [kim, lee, max] = pages;
  const left = await call(max, () => window.app.disconnect());
  assert.deepEqual(left.captures, ['ended', 'ended'], 'the camera and microphone were released');
  for (const p of [kim, lee]) {
    await waitEvent(p, { type: 'participantDisconnected', identity: 'max' });
    await waitInPage(p.page, () => window.app.remoteVideo('max').elements === 0, undefined, 30000,
      'max\'s video element removed');
    await waitFrames(p, p === kim ? 'lee' : 'kim');
  }
  for (const p of pages) assert.deepEqual(p.problems, []);
  for (const p of pages) await p.page.close();
});

test('a refused token and a room that does not exist give Twilio\'s error codes', async () => {
  await createRoom('sdk-errors');
  const p = await appPage('eve');
  const good = await token('eve', 'sdk-errors');
  const [head, body] = good.split('.');
  const bad = await call(p, ([t]) => window.app.tryConnect(t, 'sdk-errors'), [`${head}.${body}.AAAA`]);
  assert.deepEqual([bad.connected, bad.isTwilioError], [false, true]);
  assert.equal(bad.code, 20107, bad.message); // AccessTokenSignatureInvalidError
  const garbage = await call(p, ([t]) => window.app.tryConnect(t, 'sdk-errors'), ['not-a-token']);
  assert.equal(garbage.code, 20101, garbage.message); // AccessTokenInvalidError
  assert.equal(garbage.name, 'AccessTokenInvalidError');
  const missing = await call(p, ([t]) => window.app.tryConnect(t, 'sdk-nowhere'), [await token('eve', 'sdk-nowhere')]);
  assert.equal(missing.code, 53106, missing.message); // RoomNotFoundError
  const ok = await call(p, ([t]) => window.app.tryConnect(t, 'sdk-errors'), [good]);
  assert.deepEqual(ok, { connected: true });
  // Without a name: the room the token grants.
  assert.deepEqual(await call(p, ([t]) => window.app.tryConnect(t), [good]), { connected: true });

  // The signalling errors a failed join logs are expected here.
  await p.page.close();
});

test('disconnected carries Twilio\'s error: same identity elsewhere, removed by REST, room completed', async () => {
  await createRoom('sdk-end');
  const [kid, dup, dup2] = [await appPage('kid'), await appPage('dup'), await appPage('dup')];
  const join = (p) => call(p, ([t]) => window.app.join(t, 'sdk-end', false, []), [p.token]);
  kid.token = await token('kid', 'sdk-end');
  dup.token = dup2.token = await token('dup', 'sdk-end');
  const kidJoined = await join(kid);
  await join(dup);
  await join(dup2);
  await waitEvent(dup, { type: 'disconnected', code: 53205 }, 'ParticipantDuplicateIdentityError');
  assert.equal(await call(dup, () => window.app.room.state), 'disconnected');
  await rest(`/v1/Rooms/sdk-end/Participants/${kidJoined.participantSid}`, { Status: 'disconnected' }, 200);
  await waitEvent(kid, { type: 'disconnected', code: 53204 }, 'ParticipantNotFoundError');
  await waitEvent(dup2, { type: 'participantDisconnected', identity: 'kid' });
  await rest('/v1/Rooms/sdk-end', { Status: 'completed' }, 200);
  await waitEvent(dup2, { type: 'disconnected', code: 53118 }, 'RoomCompletedError');
  for (const p of [kid, dup, dup2]) await p.page.close();
});

test('a peer-to-peer room: two pages see each other directly, mute, camera off and on', async () => {
  await rest('/v1/Rooms', { UniqueName: 'sdk-p2p', Type: 'peer-to-peer' });
  const a = await appPage('ana');
  const b = await appPage('ben');
  for (const p of [a, b]) {
    await call(p, () => window.app.preview());
    await call(p, ([t]) => window.app.join(t, 'sdk-p2p'), [await token(p.identity, 'sdk-p2p')]);
  }
  await waitFrames(b, 'ana');
  await waitFrames(a, 'ben');
  const stats = await call(a, () => window.app.stats());
  assert.equal(stats.reports, 1, 'one connection, to ben');
  assert.ok(stats.bytesSent > 0 && stats.bytesReceived > 0, JSON.stringify(stats));

  await call(a, () => window.app.setEnabled('audio', false));
  await waitEvent(b, { type: 'trackDisabled', identity: 'ana', kind: 'audio' });
  const off = await call(a, () => window.app.cameraOff());
  await waitEvent(b, { type: 'trackUnsubscribed', identity: 'ana', kind: 'video', sid: off.unpublished });
  const on = await call(a, () => window.app.cameraOn());
  await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'video', sid: on.sid });
  await waitFrames(b, 'ana');
  await waitFrames(a, 'ben');
  for (const p of [a, b]) assert.deepEqual(p.problems, []);
  for (const p of [a, b]) await p.page.close();
});

// A mesh of three: each pair negotiates its own direct connection, both
// sides at once when the third joins.  Intermittent before the SDK ran its
// offers in the connection's queue (docs/sdk.md, "Fixed faults").
test('a peer-to-peer room of three: everyone decodes everyone, data tracks both ways, leave', async () => {
  await rest('/v1/Rooms', { UniqueName: 'sdk-p2p3', Type: 'peer-to-peer' });
  const [a, b, c] = [await appPage('ana'), await appPage('ben'), await appPage('cy')];
  for (const p of [a, b]) {
    await call(p, ([t]) => window.app.join(t, 'sdk-p2p3', true), [await token(p.identity, 'sdk-p2p3')]);
  }
  await waitFrames(b, 'ana');
  await waitFrames(a, 'ben');
  // A third: everyone decodes everyone over a mesh of direct connections.
  await call(c, ([t]) => window.app.join(t, 'sdk-p2p3', true), [await token('cy', 'sdk-p2p3')]);
  for (const [p, q] of [[a, c], [b, c], [c, a], [c, b]]) await waitFrames(p, q.identity);
  assert.equal((await call(c, () => window.app.stats())).reports, 2, 'cy has a connection to each');

  // Data tracks: messages, text and binary, both ways.
  assert.deepEqual(await call(a, () => window.app.publishData('chat')), { kind: 'data', name: 'chat', dataTracks: 1 });
  assert.deepEqual(await call(b, () => window.app.publishData('chat')), { kind: 'data', name: 'chat', dataTracks: 1 });
  for (const [p, from] of [[b, 'ana'], [c, 'ana'], [a, 'ben']]) {
    await waitEvent(p, { type: 'trackSubscribed', identity: from, kind: 'data', name: 'chat' });
  }
  await call(a, () => window.app.sendText('hello from ana'));
  await call(b, () => window.app.sendBytes(1000));
  await waitEvent(b, { type: 'trackMessage', identity: 'ana', name: 'chat', text: 'hello from ana' });
  await waitEvent(c, { type: 'trackMessage', identity: 'ana', name: 'chat', text: 'hello from ana' });
  await waitEvent(a, { type: 'trackMessage', identity: 'ben', name: 'chat', bytes: 1000 });

  await call(b, () => window.app.disconnect());
  for (const p of [a, c]) {
    await waitEvent(p, { type: 'participantDisconnected', identity: 'ben' });
    assert.equal((await call(p, () => window.app.remoteVideo('ben'))).elements, 0);
  }
  await waitFrames(a, 'cy');
  for (const p of [a, b, c]) assert.deepEqual(p.problems, []);
  for (const p of [a, b, c]) await p.page.close();
});

// An hq-server on a given data directory and address, to restart it there.
const serverAt = (dataDir, listen, env) => startServer(env, { dataDir, listen });

test('a server restart: reconnecting, reconnected, media again; a server that stays away: disconnected 53001', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hq-sdk-restart-'));
  const env = { ...serverEnv(), HQ_RECONNECT_GRACE_MS: '8000' };
  let first = await serverAt(dataDir, '127.0.0.1:0', env);
  const listen = new URL(first.url).host;
  const pages = [];
  try {
    await rest('/v1/Rooms', { UniqueName: 'sdk-restart', Type: 'group' }, 201, first.url);
    const tok = async (id) => (await rest('/v1/AccessTokens', { Identity: id, Room: 'sdk-restart' }, 201,
      first.url)).token;
    const [a, b] = [await appPage('ana', first.url), await appPage('ben', first.url)];
    pages.push(a, b);
    for (const p of [b, a]) {
      await call(p, () => window.app.preview());
      await call(p, ([t]) => window.app.join(t, 'sdk-restart'), [await tok(p.identity)]);
    }
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    assert.equal(await first.stop(), 0);
    for (const p of pages) await waitEvent(p, { type: 'reconnecting', code: 53001 });
    first = await serverAt(dataDir, listen, env);
    for (const p of pages) {
      await waitEvent(p, { type: 'reconnected' });
      assert.equal(await call(p, () => window.app.room.state), 'connected');
    }
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    assert.deepEqual(await eventsOf(a, 'disconnected'), []);

    assert.equal(await first.stop(), 0);
    first = null;
    for (const p of pages) {
      await waitEvent(p, { type: 'reconnecting', code: 53001 });
      await waitEvent(p, { type: 'disconnected', code: 53001 });
    }
  } finally {
    for (const p of pages) await p.page.close();
    if (first) await first.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// Who is in the room and what they publish, by sid, as a page sees it.
const sidsOf = (p) => call(p, () => {
  const r = window.app.room;
  return {
    room: r.sid, local: r.localParticipant.sid, localTracks: [...r.localParticipant.tracks.keys()].sort(),
    remote: [...r.participants.values()].map((x) => [x.sid, [...x.tracks.keys()].sort()]),
  };
});

// A drop of the signalling connection alone (the server lives on): the
// test carries ana's WebSocket through playwright's routing and cuts it,
// both sides at once, as a network drop would.  The SDK resumes the same
// participant on a new WebSocket; its media connections never stopped.
test('a signalling drop the server survives: reconnecting, reconnected, same sids, media on', async () => {
  await createRoom('sdk-drop');
  const a = await appPage('ana');
  const b = await appPage('ben');
  const routes = [];
  await a.page.routeWebSocket(/\/v1\/signal$/, (ws) => {
    routes.push({ ws, server: ws.connectToServer() });
  });
  try {
    for (const p of [b, a]) {
      await call(p, () => window.app.preview());
      await call(p, ([t]) => window.app.join(t, 'sdk-drop'), [await token(p.identity, 'sdk-drop')]);
    }
    assert.equal(routes.length, 1, 'ana\'s signalling went through the route');
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    const before = [await sidsOf(a), await sidsOf(b)];

    const [cut] = routes;
    await cut.server.close({ code: 1001, reason: 'test: connection cut' });
    await cut.ws.close({ code: 1006, reason: 'test: connection cut' });
    await waitEvent(a, { type: 'reconnecting', code: 53001 });
    await waitEvent(a, { type: 'reconnected' });
    assert.equal(routes.length, 2, 'a new WebSocket');
    // The server says it resumed ana (whether it had noticed the drop
    // first, and so told ben participantReconnecting, is a race).
    assert.ok(server.events().some((e) => e.what === 'participant-resumed' && e.participant_sid === before[0].local),
      'the server resumed ana');
    assert.equal(await call(a, () => window.app.room.state), 'connected');
    // Resumed, not joined anew: every sid as before, on both sides.
    assert.deepEqual([await sidsOf(a), await sidsOf(b)], before);
    // Media never stopped, and still flows both ways.
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    for (const p of [a, b]) {
      assert.deepEqual(await eventsOf(p, 'disconnected'), []);
      assert.deepEqual(await eventsOf(p, 'participantDisconnected'), []);
      assert.deepEqual((await eventsOf(p, 'trackUnsubscribed')).length, 0);
    }
    // The new connection carries requests: a mute reaches ben.
    await call(a, () => window.app.setEnabled('audio', false));
    await waitEvent(b, { type: 'trackDisabled', identity: 'ana', kind: 'audio' });
    for (const p of [a, b]) assert.deepEqual(p.problems, []);
  } finally {
    await a.page.close();
    await b.page.close();
  }
});

// The track of a subscriber's first m-line (the BUNDLE tag) goes away:
// the server's subscribe offer must keep that m-line (inactive, still in
// the group, docs/sdp.md), else Chromium builds a new transport for the
// subscribe connection that the server never answers and the subscriber
// receives nothing more from anyone.  Deterministic here: ana publishes
// only video, ben joins (ana's video is ben's first m-line), ana adds
// audio and then turns her camera off.
test('unpublishing the track of a subscriber\'s first m-line keeps its other tracks flowing', async () => {
  await createRoom('sdk-bundle');
  const a = await appPage('ana');
  const b = await appPage('ben');
  try {
    await call(a, () => window.app.preview());
    await call(a, ([t]) => window.app.join(t, 'sdk-bundle', false, ['video']), [await token('ana', 'sdk-bundle')]);
    await call(b, ([t]) => window.app.join(t, 'sdk-bundle', false, []), [await token('ben', 'sdk-bundle')]);
    await waitFrames(b, 'ana');
    await call(a, () => window.app.room.localParticipant.publishTrack(window.app.localTrack('audio')));
    await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'audio' });
    await call(a, () => window.app.cameraOff());
    await waitEvent(b, { type: 'trackUnsubscribed', identity: 'ana', kind: 'video' });
    const before = await call(b, () => window.app.audioPackets('ana'));
    await waitFor(b, async (n) => ({ ok: (await window.app.audioPackets('ana')) > n + 50 }), before,
      'ana\'s audio to keep coming', 20000);
  } finally {
    await a.page.close();
    await b.page.close();
  }
});

// A UDP relay between the page and the server for one media connection:
// `a` faces the page, `b` the server.  While `dark`, every datagram is
// dropped, as on a network that went away.
class MediaRelay {
  constructor() {
    this.dark = false;
    this.page = null; // the page's real candidate {address, port}
    this.server = null; // the server's
    this.forwarded = 0;
    this.a = dgram.createSocket('udp4');
    this.b = dgram.createSocket('udp4');
    this.a.on('message', (m) => this._pass(m, this.b, this.server));
    this.b.on('message', (m) => this._pass(m, this.a, this.page));
  }

  _pass(m, out, to) {
    if (this.dark || !to) return;
    this.forwarded++;
    out.send(m, to.port, to.address);
  }

  async start() {
    await Promise.all([this.a, this.b].map((s) => new Promise((r) => s.bind(0, '127.0.0.1', r))));
  }

  close() {
    this.a.close();
    this.b.close();
  }
}

// Puts a page's media through relays: its signalling goes through a
// route that keeps only the 127.0.0.1 host candidates of both sides and
// replaces each with the relay's socket facing the other side.
async function relayMedia(p) {
  const relays = { publish: new MediaRelay(), subscribe: new MediaRelay() };
  await Promise.all(Object.values(relays).map((r) => r.start()));
  const rewrite = (text, fromPage) => {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return text;
    }
    if (msg.type !== 'candidate' || !relays[msg.transport]) return text;
    const relay = relays[msg.transport];
    const f = msg.candidate.split(' ');
    if (f.length < 8 || f[2].toLowerCase() !== 'udp' || f[4] !== '127.0.0.1' || f[7] !== 'host') return null;
    relay[fromPage ? 'page' : 'server'] = { address: f[4], port: Number(f[5]) };
    f[5] = String((fromPage ? relay.b : relay.a).address().port);
    return JSON.stringify({ ...msg, candidate: f.join(' ') });
  };
  await p.page.routeWebSocket(/\/v1\/signal$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const out = rewrite(String(m), true);
      if (out !== null) server.send(out);
    });
    server.onMessage((m) => {
      const out = rewrite(String(m), false);
      if (out !== null) ws.send(out);
    });
  });
  return relays;
}

test('a media path that goes dark and heals: reconnecting (53405), ICE restart, reconnected, media again', async () => {
  await createRoom('sdk-dark');
  const a = await appPage('ana');
  const b = await appPage('ben');
  const relays = await relayMedia(a);
  try {
    for (const p of [b, a]) {
      await call(p, () => window.app.preview());
      await call(p, ([t]) => window.app.join(t, 'sdk-dark'), [await token(p.identity, 'sdk-dark')]);
    }
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    assert.ok(relays.publish.forwarded > 0 && relays.subscribe.forwarded > 0,
      'ana\'s media crosses the relays');

    for (const r of Object.values(relays)) r.dark = true;
    // Chromium gives up on a connection after about 30 s without
    // consent; the room then restarts it.
    await waitEvent(a, { type: 'reconnecting', code: 53405 });
    for (const r of Object.values(relays)) r.dark = false;
    await waitEvent(a, { type: 'reconnected' });
    assert.equal(await call(a, () => window.app.room.state), 'connected');
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    // The server restarted ICE on ana's connections, and on ana's
    // offer or request: no new participant, no lost track.
    const restarts = server.events().filter((e) => e.event === 'ice_restart');
    assert.ok(restarts.length > 0, 'the server logged an ICE restart');
    for (const p of [a, b]) {
      assert.deepEqual(await eventsOf(p, 'disconnected'), []);
      assert.deepEqual(await eventsOf(p, 'participantDisconnected'), []);
      assert.deepEqual((await eventsOf(p, 'trackUnsubscribed')).length, 0);
    }
  } finally {
    await a.page.close();
    await b.page.close();
    for (const r of Object.values(relays)) r.close();
  }
});
