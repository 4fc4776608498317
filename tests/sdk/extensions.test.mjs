// What @hqrooms/video adds to twilio-video's API, and what twilio-video
// has that needed the server's help (docs/sdk.md, "Extensions"), against a
// real hq-server (with its recorder child) and headless Chromium: the
// recording events, the waiting room, host moderation, data tracks in a
// group room, the subscriber's track priority and a server that drains.
// Suite `sdk`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';
import { restPost, testSite, waitFor } from './common.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const KEY = { sid: 'SK' + 'c3'.repeat(16), secret: 'sdk-ext-test-secret-0123456789' };
let browser;
let server;
let site;

before(async () => {
  site = testSite();
  server = await startServer({
    HQ_WEB_DIR: path.join(site, 'web'),
    HQ_ACCOUNT_SID: 'AC' + 'd4'.repeat(16), HQ_API_KEY_SID: KEY.sid, HQ_API_KEY_SECRET: KEY.secret,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  if (site) rmSync(site, { recursive: true, force: true });
});

const rest = (pathname, params, status) => restPost(server.url, KEY, pathname, params, status);
const createRoom = (name, extra = {}) => rest('/v1/Rooms', { UniqueName: name, Type: 'group', ...extra }, 201);
const NAMES = { dr: 'Dr Who' }; // display names in the tokens; others have none
const token = async (identity, room, role = 'guest') => (await rest('/v1/AccessTokens', {
  Identity: identity, Room: room, Role: role, ...(NAMES[identity] ? { Name: NAMES[identity] } : {}),
}, 201)).token;

async function page(identity, base = server.url) {
  // bypassCSP: the served page allows only its own scripts, and the test's
  // code comes inline.
  const p = await browser.newPage({ bypassCSP: true });
  const problems = [];
  p.on('pageerror', (e) => problems.push(String(e)));
  await p.goto(`${base}/`);
  // The page's code (ext-page.js) as an inline module of the served page.
  await p.addScriptTag({ path: path.join(HERE, 'ext-page.js'), type: 'module' });
  await waitInPage(p, () => window.extReady === true, undefined, 30000, 'the page to load the SDK');
  return { page: p, identity, problems };
}

const call = (p, fn, arg) => p.page.evaluate(fn, arg);

async function join(p, room, role = 'guest', extra = {}) {
  const t = await token(p.identity, room, role);
  await call(p, ([tok, name, x]) => window.ext.start(tok, name, x), [t, room, extra]);
}

async function joined(p) {
  const result = await call(p, () => window.ext.connected());
  assert.equal(result.ok, true, `${p.identity}: ${JSON.stringify(result)}`);
}

async function waitEvent(p, match, what) {
  return waitInPage(p.page, (m) => window.ext.events.find((e) => Object.entries(m).every(
    ([k, v]) => e[k] === v)), match, 60000, `${p.identity}: ${what || JSON.stringify(match)}`);
}

const count = (p, type) => call(p, (t) => window.ext.events.filter((e) => e.type === t).length, type);

async function waitFrames(p, from) {
  const first = await waitFor(p, (who) => {
    const v = window.ext.remoteVideo(who);
    return { ok: v.elements === 1 && v.width > 0 && v.frames >= 5, ...v };
  }, from, `decoded video from ${from}`);
  await waitFor(p, ([who, n]) => {
    const v = window.ext.remoteVideo(who);
    return { ok: v.frames >= n + 10, ...v };
  }, [from, first.frames], `video from ${from} to keep coming`);
}

async function close(...pages) {
  for (const p of pages) {
    await call(p, () => window.ext.disconnect());
    assert.deepEqual(p.problems, [], `${p.identity}: page errors`);
    await p.page.close();
  }
}

test('recording: started and stopped by REST rules and by the host, seen on every page, and by those who join meanwhile', async () => {
  const { sid } = await createRoom('ext-rec');
  const dr = await page('dr');
  const pat = await page('pat');
  await join(dr, 'ext-rec', 'host');
  await joined(dr);
  await join(pat, 'ext-rec');
  await joined(pat);
  for (const p of [dr, pat]) assert.equal(await call(p, () => window.ext.isRecording()), false);

  // A back end's RecordingRules: everything.
  await rest(`/v1/Rooms/${sid}/RecordingRules`, { Rules: JSON.stringify([{ type: 'include', all: true }]) }, 200);
  for (const p of [dr, pat]) {
    await waitEvent(p, { type: 'recordingStarted', isRecording: true });
    // The recorder takes each participant's tracks as they come: both,
    // named, by the rules (no host).
    const rec = await waitFor(p, () => {
      const r = window.ext.recording();
      return { ok: r?.participants.length === 2, ...r };
    }, undefined, 'both participants recorded');
    assert.deepEqual(rec.participants.map((x) => x.identity).sort(), ['dr', 'pat']);
    assert.equal(rec.source, 'rules');
    assert.equal(rec.by, null);
  }
  // Who joins while it records knows at once, without an event.
  const fam = await page('fam');
  await join(fam, 'ext-rec');
  await joined(fam);
  assert.equal(await call(fam, () => window.ext.isRecording()), true);
  assert.equal((await call(fam, () => window.ext.events.find((e) => e.type === 'connected'))).isRecording, true);

  await rest(`/v1/Rooms/${sid}/RecordingRules`, { Rules: '[]' }, 200);
  for (const p of [dr, pat, fam]) {
    await waitEvent(p, { type: 'recordingStopped', isRecording: false });
    assert.equal(await call(p, () => window.ext.isRecording()), false);
  }

  // A guest may not start it: a TwilioError with the server's sentence.
  const refused = await call(pat, () => window.ext.call('hqStartRecording'));
  assert.equal(refused.ok, false);
  assert.equal(refused.code, 20403);
  assert.match(refused.message, /Only a host may start or stop recording/);

  // The host starts and stops it from the call.
  const started = await call(dr, () => window.ext.call('hqStartRecording'));
  assert.equal(started.ok, true, JSON.stringify(started));
  assert.deepEqual(started.value.rules, [{ type: 'include', all: true }]);
  // Every page hears one more start (fam joined during the first).
  for (const [p, n] of [[dr, 2], [pat, 2], [fam, 1]]) {
    await waitFor(p, (k) => ({ ok: window.ext.events.filter((e) => e.type === 'recordingStarted').length === k }),
      n, 'the host\'s recordingStarted');
    const rec = await call(p, () => window.ext.recording());
    assert.equal(rec.source, 'host');
    assert.equal(rec.by.identity, 'dr');
  }
  const stopped = await call(dr, () => window.ext.call('hqStopRecording'));
  assert.deepEqual(stopped.value.rules, []);
  for (const p of [dr, pat, fam]) {
    await waitFor(p, () => ({ ok: window.ext.events.filter((e) => e.type === 'recordingStopped').length === 2 }),
      undefined, 'the second recordingStopped');
    assert.equal(await call(p, () => window.ext.isRecording()), false);
  }
  for (const p of [dr, pat, fam]) assert.equal(await count(p, 'recordingStopped'), 2);
  await close(dr, pat, fam);
});

test('waiting room: the host sees a patient wait, admits them, both decode each other; a denied patient is told why', async () => {
  await createRoom('ext-wait', { WaitingRoom: 'true' });
  const dr = await page('dr');
  const pat = await page('pat');
  await join(dr, 'ext-wait', 'host');
  await joined(dr);
  await join(pat, 'ext-wait');
  await waitEvent(pat, { type: 'waiting' }, 'the patient told it waits');
  await waitEvent(dr, { type: 'participantWaiting', identity: 'pat' });
  assert.deepEqual(await call(dr, () => window.ext.lobby()), ['pat']);
  // Still waiting: connect() has not settled.
  assert.equal(await call(pat, () => window.ext.events.some((e) => e.type === 'connected' || e.type === 'connectFailed')),
    false);

  assert.deepEqual(await call(dr, () => window.ext.call('hqAdmit', 'pat')), { ok: true, value: null });
  await joined(pat);
  await waitEvent(dr, { type: 'participantConnected', identity: 'pat' });
  await waitFrames(dr, 'pat');
  await waitFrames(pat, 'dr');
  // Names and roles for the screen, the server's resume window.
  assert.deepEqual(await call(dr, () => window.ext.people()), {
    me: { name: 'Dr Who', role: 'host' }, others: [{ identity: 'pat', name: 'pat', role: 'guest' }], graceMs: 30000,
  });
  assert.deepEqual((await call(pat, () => window.ext.people())).others, [{ identity: 'dr', name: 'Dr Who', role: 'host' }]);
  await waitFor(dr, () => ({ ok: window.ext.lobby().length === 0 }), undefined, 'the lobby empty');

  // Another patient, turned away with a reason.
  const late = await page('late');
  await join(late, 'ext-wait');
  await waitEvent(dr, { type: 'participantWaiting', identity: 'late' });
  assert.deepEqual(await call(dr, () => window.ext.call('hqDeny', 'late', 'The clinic is closed for today.')),
    { ok: true, value: null });
  const denied = await call(late, () => window.ext.connected());
  assert.deepEqual([denied.ok, denied.name, denied.code], [false, 'RoomConnectFailedError', 53104]);
  assert.equal(denied.message, 'A host declined to admit you to this room: The clinic is closed for today.');

  // One who gives up waiting (cancel()) leaves the host's queue.
  const quitter = await page('quitter');
  await join(quitter, 'ext-wait');
  await waitEvent(quitter, { type: 'waiting' });
  await waitFor(dr, () => ({ ok: window.ext.lobby().includes('quitter') }), undefined, 'quitter in the lobby');
  await call(quitter, () => window.ext.cancel());
  await waitFor(dr, () => ({ ok: window.ext.lobby().length === 0, lobby: window.ext.lobby() }), undefined,
    'the lobby empty after the cancel');
  await close(dr, pat, late, quitter);
});

test('moderation: the host mutes a participant (everyone sees trackDisabled), removes one, who is told why, and ends the room for all', async () => {
  await createRoom('ext-mod');
  const dr = await page('dr');
  const pat = await page('pat');
  const fam = await page('fam');
  await join(dr, 'ext-mod', 'host');
  await joined(dr);
  for (const p of [pat, fam]) {
    await join(p, 'ext-mod');
    await joined(p);
  }
  await waitFor(dr, () => ({ ok: window.ext.remoteAudioSid('fam') !== null }), undefined, 'fam\'s audio published');

  // A guest may not mute others.
  const refused = await call(pat, () => window.ext.call('hqMute', 'fam'));
  assert.deepEqual([refused.ok, refused.code], [false, 20403]);

  assert.equal((await call(dr, () => window.ext.call('hqMute', 'fam'))).ok, true);
  await waitEvent(fam, { type: 'localTrackDisabled', kind: 'audio' }, 'fam told its microphone was muted');
  for (const p of [dr, pat]) await waitEvent(p, { type: 'trackDisabled', identity: 'fam', kind: 'audio' });

  assert.equal((await call(dr, () => window.ext.call('hqRemove', 'fam', 'Only the patient may attend.'))).ok, true);
  const gone = await waitEvent(fam, { type: 'disconnected' });
  assert.deepEqual([gone.name, gone.code], ['ParticipantNotFoundError', 53204]);
  assert.equal(gone.message, 'A host removed you from this room: Only the patient may attend.');
  for (const p of [dr, pat]) await waitEvent(p, { type: 'participantDisconnected', identity: 'fam' });

  // Ending the visit for everyone: a guest may not; the host may.
  assert.deepEqual((await call(pat, () => window.ext.call('hqEndRoom'))).code, 20403);
  assert.deepEqual(await call(dr, () => window.ext.call('hqEndRoom')), { ok: true, value: null });
  for (const p of [dr, pat]) {
    const ended = await waitEvent(p, { type: 'disconnected' });
    assert.deepEqual([ended.name, ended.code, ended.message],
      ['RoomCompletedError', 53118, 'A host ended the Room for everyone']);
  }
  await close(dr, pat, fam);
});

test('data tracks in a group room: strings and binary both ways, in order; an oversize message is refused', async () => {
  await createRoom('ext-data');
  const ana = await page('ana');
  const ben = await page('ben');
  for (const p of [ana, ben]) {
    await join(p, 'ext-data');
    await joined(p);
  }
  for (const p of [ana, ben]) {
    const pub = await call(p, (n) => window.ext.publishData(n), `${p.identity}-data`);
    assert.deepEqual([pub.ok, pub.kind, pub.name], [true, 'data', `${p.identity}-data`], JSON.stringify(pub));
  }
  for (const [p, other] of [[ana, 'ben'], [ben, 'ana']]) {
    await waitEvent(p, { type: 'trackSubscribed', identity: other, kind: 'data', name: `${other}-data` });
  }
  const messages = (from) => [
    `hello from ${from}`, 'ünïcödé ✓', { bytes: 1000, fill: 7 },
    ...Array.from({ length: 20 }, (_, i) => `${from} #${i}`), { bytes: 16384, fill: 3 },
  ];
  for (const p of [ana, ben]) assert.deepEqual(await call(p, (m) => window.ext.send(m), messages(p.identity)), { ok: true });
  for (const [p, other] of [[ana, 'ben'], [ben, 'ana']]) {
    const got = await waitFor(p, (n) => ({ ok: window.ext.received.length === n, got: window.ext.received }),
      messages(other).length, `${other}'s ${messages(other).length} messages`);
    const expected = messages(other).map((m) => (typeof m === 'string'
      ? { identity: other, name: `${other}-data`, text: m, bytes: null }
      : { identity: other, name: `${other}-data`, text: null, bytes: m.bytes }));
    assert.deepEqual(got.got.map(({ sum, ...rest }) => rest), expected);
    // The bytes themselves: sums of (i * fill + 1) % 256.
    for (const [i, m] of messages(other).entries()) {
      if (typeof m === 'string') continue;
      const sum = Array.from({ length: m.bytes }, (_, k) => (k * m.fill + 1) % 256).reduce((a, b) => (a + b) % 65536, 0);
      assert.equal(got.got[i].sum, sum);
    }
  }

  // Oversize: the SDK refuses before sending, in words...
  const big = await call(ana, () => window.ext.send([{ bytes: 16385, fill: 1 }]));
  assert.deepEqual([big.ok, big.name, big.code], [false, 'TrackInvalidError', 53300]);
  assert.equal(big.message, 'A data track message carries at most 16384 bytes in a group room; this one has 16385. Nothing was sent.');
  // ...and so does the server, to a client that sends it anyway.
  const refused = await call(ana, ([t]) => window.ext.rawDataSend(t, 'ext-data', 'raw', [
    { data: 'x'.repeat(16385) }, { data: 'not base64!', binary: true }, { data: 'fine' },
  ]), [await token('raw', 'ext-data')]);
  assert.deepEqual(refused.map((e) => [e.id, e.code]), [['s0', 'message_too_big'], ['s1', 'invalid_field']]);
  assert.equal(refused[0].message, 'A data track message carries at most 16384 bytes; this one has 16385. Nobody received it.');
  assert.match(refused[1].message, /not base64/);
  // Of those, ben got only the one that was fine.
  await waitFor(ben, () => ({ ok: window.ext.received.some((m) => m.identity === 'raw') }), undefined, 'raw\'s message');
  assert.deepEqual(await call(ben, () => window.ext.received.filter((m) => m.identity === 'raw').map((m) => m.text)),
    ['fine']);

  // The rate limit: 250 messages at once from one participant, more than
  // the 100 a second it may send: some are refused, each with an error;
  // the others arrive, in order.
  const burst = Array.from({ length: 250 }, (_, i) => ({ data: `burst ${i}` }));
  const limited = await call(ana, ([t, b]) => window.ext.rawDataSend(t, 'ext-data', 'burst', b),
    [await token('burst', 'ext-data'), burst]);
  assert.ok(limited.length >= 50, `${limited.length} refused`);
  assert.ok(limited.every((e) => e.code === 'rate_limited'), JSON.stringify(limited[0]));
  assert.equal(limited[0].message,
    'Data tracks carry at most 100 messages and 262144 bytes a second from one participant; this message was dropped.');
  const refusedIds = new Set(limited.map((e) => e.id));
  const passed = burst.filter((_, i) => !refusedIds.has(`s${i}`)).map((m) => m.data);
  await waitFor(ben, (n) => ({ ok: window.ext.received.filter((m) => m.identity === 'burst').length === n }),
    passed.length, `the ${passed.length} messages not refused`);
  assert.deepEqual(await call(ben, () => window.ext.received.filter((m) => m.identity === 'burst').map((m) => m.text)),
    passed);
  await close(ana, ben);
});

test('subscriber priority: RemoteVideoTrack.setPriority reaches the server, a bad value is refused', async () => {
  await createRoom('ext-prio');
  const ana = await page('ana');
  const ben = await page('ben');
  for (const p of [ana, ben]) {
    await join(p, 'ext-prio');
    await joined(p);
  }
  await waitFrames(ben, 'ana');
  assert.deepEqual(await call(ben, () => window.ext.setPriority('ana', 'high')), { ok: true, priority: 'high' });
  assert.deepEqual(await call(ben, () => window.ext.setPriority('ana', null)), { ok: true, priority: null });
  const bad = await call(ben, () => window.ext.setPriority('ana', 'urgent'));
  assert.deepEqual([bad.ok, bad.name], [false, 'RangeError']);
  assert.equal(bad.message, 'priority must be low, standard, high or null, not urgent');
  await waitFrames(ben, 'ana');
  await close(ana, ben);
});

test('a server stopping with a drain: every page hears hqServerDraining with the deadline, a new join fails with 53006, the call goes on and the server stops when it ends', async () => {
  const drained = await startServer({
    HQ_WEB_DIR: path.join(site, 'web'), HQ_DRAIN_TIMEOUT: '600',
    HQ_ACCOUNT_SID: 'AC' + 'd4'.repeat(16), HQ_API_KEY_SID: KEY.sid, HQ_API_KEY_SECRET: KEY.secret,
  });
  const restD = (pathname, params, status) => restPost(drained.url, KEY, pathname, params, status);
  await restD('/v1/Rooms', { UniqueName: 'ext-drain', Type: 'group' }, 201);
  const start = async (p) => {
    const t = (await restD('/v1/AccessTokens', { Identity: p.identity, Room: 'ext-drain' }, 201)).token;
    await call(p, ([tok]) => window.ext.start(tok, 'ext-drain'), [t]);
  };
  const dr = await page('dr', drained.url);
  const pat = await page('pat', drained.url);
  for (const p of [dr, pat]) {
    await start(p);
    await joined(p);
  }
  await waitFrames(dr, 'pat');

  const stopped = drained.stop(); // SIGTERM; resolves with the exit code
  for (const p of [dr, pat]) {
    const ev = await waitEvent(p, { type: 'hqServerDraining' }, 'told the server is stopping');
    assert.ok(ev.seconds > 500 && ev.seconds <= 600, JSON.stringify(ev));
    assert.ok(Date.parse(ev.deadline) > Date.now() + 500000, ev.deadline);
  }
  const fam = await page('fam', drained.url);
  await start(fam);
  const refused = await call(fam, () => window.ext.connected());
  assert.deepEqual([refused.ok, refused.name, refused.code], [false, 'SignalingServerBusyError', 53006]);
  assert.match(refused.message, /shutting down/);
  // The call goes on, and its end stops the server.
  await waitFrames(dr, 'pat');
  await close(dr, pat, fam);
  assert.equal(await stopped, 0, drained.log());
  assert.match(drained.log(), /drained: no participant is left/);
});
