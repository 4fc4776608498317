// SFU with real browsers: pages join a group room on a real hq-server
// through the web client it serves, publish their fake camera and
// microphone, and must decode each other's video and hear each other's
// audio through the server.  Suite `sfu`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from './hqserver.mjs';

let browser;
let server;

before(async () => {
  // A short reconnect grace, so a participant who vanishes is removed soon.
  server = await startServer({ HQ_RECONNECT_GRACE_MS: '2000' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

// A page of the web client in `room` as `identity`, with a back-end's
// token (the web client's own /token path is tested on its own below).
async function joinPage(identity, room, token) {
  if (!token) token = await server.token(identity, room);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(server.url + '/');
  await page.evaluate(async ([id, r, tok]) => {
    window.events = [];
    const client = await window.hqJoin(id, r, tok);
    for (const t of ['dominant_speaker', 'network_quality', 'participant_disconnected',
      'track_disabled', 'error', 'transport_state']) {
      client.addEventListener(t, (e) => window.events.push({ type: t, ...e.detail }));
    }
  }, [identity, room, token]);
  return { page, problems, identity };
}

// Frames decoded from, and audio received from, `fromIdentity`'s tracks.
function mediaFrom(page, fromIdentity) {
  return page.evaluate(async (who) => {
    const frames = await window.hq.framesDecoded();
    const audio = await window.hq.audioReceived();
    const out = { frames: 0, audioPackets: 0, audioEnergy: 0 };
    for (const t of window.hq.subTracks.values()) {
      if (t.identity !== who) continue;
      if (t.kind === 'video') out.frames += frames[t.track_sid] || 0;
      if (t.kind === 'audio' && audio[t.track_sid]) {
        out.audioPackets += audio[t.track_sid].packets;
        out.audioEnergy += audio[t.track_sid].energy;
      }
    }
    return out;
  }, fromIdentity);
}

async function waitMedia(p, from, minFrames) {
  const deadline = Date.now() + 60000;
  let m;
  while (Date.now() < deadline) {
    m = await mediaFrom(p.page, from);
    if (m.frames >= minFrames && m.audioPackets >= 50 && m.audioEnergy > 0) return m;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.identity} did not get media from ${from}: ${JSON.stringify(m)}`);
}

test('two pages see and hear each other through the SFU', async () => {
  const a = await joinPage('alice', 'sfu-two');
  const b = await joinPage('bob', 'sfu-two');
  const fromB = await waitMedia(a, 'bob', 10);
  const fromA = await waitMedia(b, 'alice', 10);
  // And it keeps flowing.
  await waitMedia(a, 'bob', fromB.frames + 10);
  await waitMedia(b, 'alice', fromA.frames + 10);
  assert.ok(await forwarded('sfu-two') > 100, 'the SFU forwarded the media');
  // Sender reports reach the subscriber in its terms (what lets it play a
  // participant's audio and video in sync): one per kind, counting what
  // the SFU sent it.
  const reports = await waitInPage(a.page, async () => {
    const found = {};
    (await window.hq.sub.getStats()).forEach((r) => {
      if (r.type === 'remote-outbound-rtp' && r.reportsSent > 0) found[r.kind] = r;
    });
    return found.audio && found.video ? found : null;
  }, undefined, 30000, 'sender reports for audio and video');
  assert.ok(reports.video.packetsSent > 0 && reports.audio.packetsSent > 0);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.page.close();
  await b.page.close();
});

async function video(p, from) {
  return (await mediaFrom(p.page, from)).frames;
}

test('three pages, one leaves: the others are re-offered and keep decoding', async () => {
  const [a, b, c] = [await joinPage('ann', 'sfu-three'), await joinPage('ben', 'sfu-three'),
    await joinPage('cat', 'sfu-three')];
  await waitMedia(a, 'ben', 5);
  await waitMedia(a, 'cat', 5);
  await waitMedia(b, 'cat', 5);
  const revisionBefore = await a.page.evaluate(() => window.hq.subTracks.size);
  assert.equal(revisionBefore, 4, 'ann receives two tracks from each of the others');
  await c.page.evaluate(() => window.hq.leave());
  for (const p of [a, b]) {
    await waitInPage(p.page, () => window.events.some(
      (e) => e.type === 'participant_disconnected' && e.participant.identity === 'cat'),
    undefined, 60000, 'participant_disconnected');
    // Re-offered without cat's tracks.
    await waitInPage(p.page, () => [...window.hq.subTracks.values()].every(
      (t) => t.identity !== 'cat'), undefined, 60000, 'a re-offer without cat');
  }
  const fromBen = await video(a, 'ben');
  await waitMedia(a, 'ben', fromBen + 10);
  const fromAnn = await video(b, 'ann');
  await waitMedia(b, 'ann', fromAnn + 10);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  for (const p of [a, b, c]) await p.page.close();
});

test('a late joiner gets a keyframe and decodes at once', async () => {
  const a = await joinPage('early', 'sfu-late');
  const b = await joinPage('watcher', 'sfu-late');
  // Let the publisher's first keyframes pass: the late joiner needs a new one.
  await waitMedia(b, 'early', 60);
  const late = await joinPage('late', 'sfu-late');
  const t0 = Date.now();
  await waitInPage(late.page, async () => {
    const frames = await window.hq.framesDecoded();
    return Object.values(frames).some((f) => f > 0);
  }, undefined, 20000, 'a first decoded frame');
  console.log(`# late joiner: first frame ${Date.now() - t0} ms after joining`);
  for (const p of [a, b, late]) await p.page.close();
});

test('dominant speaker follows who is not muted', async () => {
  const a = await joinPage('speaker-a', 'sfu-dsi');
  const b = await joinPage('speaker-b', 'sfu-dsi');
  await waitMedia(a, 'speaker-b', 1);
  await waitMedia(b, 'speaker-a', 1);
  const mute = (p, enabled) => p.page.evaluate(async (on) => {
    const audio = window.hq.published.find((d) => d.track.kind === 'audio');
    await window.hq.setTrackEnabled(audio.trackSid, on);
  }, enabled);
  // A switch needs the new speaker's levels to hold for the detector's
  // window, after the unmute reaches the server: slow under sanitizers.
  const dominantIs = (p, who) => waitInPage(p.page, (w) => {
    const d = window.events.filter((e) => e.type === 'dominant_speaker').pop();
    return d && d.identity === w;
  }, who, 90000, `${who} dominant`);
  await mute(a, false);
  await dominantIs(a, 'speaker-b');
  await dominantIs(b, 'speaker-b');
  await mute(a, true);
  await mute(b, false);
  await dominantIs(a, 'speaker-a');
  await dominantIs(b, 'speaker-a');
  for (const p of [a, b]) await p.page.close();
});

const rest = (...args) => server.rest(...args);

async function hostToken(identity, room) {
  return server.token(identity, room, 'host');
}

async function forwarded(room) {
  const res = await rest('GET', `/v1/Rooms/${room}`);
  assert.equal(res.status, 200);
  return (await res.json()).media.forwarded_packets;
}

test('a host mutes a participant: nobody receives that track any more', async () => {
  const guest = await joinPage('guest', 'sfu-mute');
  const host = await joinPage('host', 'sfu-mute', await hostToken('host', 'sfu-mute'));
  const other = await joinPage('other', 'sfu-mute');
  await waitMedia(other, 'guest', 5);
  const target = await guest.page.evaluate(() => ({
    participant: window.hq.me.sid,
    track: window.hq.published.find((d) => d.track.kind === 'video').trackSid,
  }));
  await host.page.evaluate((t) => window.hq.request('mute',
    { participant_sid: t.participant, track_sid: t.track }), target);
  await waitInPage(other.page, (sid) => window.events.some(
    (e) => e.type === 'track_disabled' && e.track.sid === sid), target.track, 30000,
  'track_disabled');
  // From now on the guest's video stops while its audio goes on.  Audio
  // packets are the clock: after one second of them what was in flight has
  // been decoded; over the next two seconds no video frame may arrive.
  const afterAudio = async (base, n) => {
    const deadline = Date.now() + 60000;
    let m = await mediaFrom(other.page, 'guest');
    while (m.audioPackets < base + n && Date.now() < deadline) {
      await other.page.waitForTimeout(100);
      m = await mediaFrom(other.page, 'guest');
    }
    assert.ok(m.audioPackets >= base + n, 'audio kept flowing');
    return m;
  };
  const settled = await afterAudio((await mediaFrom(other.page, 'guest')).audioPackets, 50);
  const later = await afterAudio(settled.audioPackets, 100);
  assert.equal(later.frames, settled.frames, 'no video frame after the mute');
  for (const p of [guest, host, other]) await p.page.close();
});

// The server's media port of one of the page's connections.
function serverPort(page, which) {
  return page.evaluate(async (w) => {
    const pc = w === 'publish' ? window.hq.pub : window.hq.sub;
    const stats = await pc.getStats();
    let pair;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    return pair ? stats.get(pair.remoteCandidateId).port : 0;
  }, which);
}

test('garbage on the media ports and a vanished participant disturb nobody', async () => {
  const dgram = await import('node:dgram');
  const a = await joinPage('steady-a', 'sfu-garbage');
  const b = await joinPage('steady-b', 'sfu-garbage');
  const gone = await joinPage('vanishing', 'sfu-garbage');
  await waitMedia(a, 'steady-b', 5);
  await waitMedia(b, 'steady-a', 5);
  const ports = [await serverPort(a.page, 'publish'), await serverPort(a.page, 'subscribe'),
    await serverPort(b.page, 'publish'), await serverPort(b.page, 'subscribe')];
  assert.ok(ports.every((p) => p > 0), `media ports ${ports}`);
  const sock = dgram.createSocket('udp4');
  const send = (buf, port) => new Promise((resolve) => sock.send(buf, port, '127.0.0.1', resolve));
  for (const port of ports) {
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.alloc(20 + (i % 200));
      for (let j = 0; j < buf.length; j++) buf[j] = (i * 131 + j * 7) & 0xff;
      if (i % 3 === 0) { buf[0] = 0x80; buf[1] = 96; } // RTP-looking
      if (i % 3 === 1) { buf[0] = 0x81; buf[1] = 201; } // RTCP-looking
      await send(buf, port);
    }
  }
  sock.close();
  // The vanishing page disappears without a goodbye.
  await gone.page.close();
  for (const p of [a, b]) {
    await waitInPage(p.page, () => window.events.some(
      (e) => e.type === 'participant_disconnected' && e.participant.identity === 'vanishing'),
    undefined, 60000, 'the vanished participant removed');
  }
  const fa = await video(a, 'steady-b');
  const fb = await video(b, 'steady-a');
  await waitMedia(a, 'steady-b', fa + 10);
  await waitMedia(b, 'steady-a', fb + 10);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.page.close();
  await b.page.close();
});

test('peer-to-peer room: pages connect directly, the server forwards nothing', async () => {
  const created = await rest('POST', '/v1/Rooms', { UniqueName: 'p2p-room', Type: 'peer-to-peer' });
  assert.equal(created.status, 201);
  const a = await joinPage('direct-a', 'p2p-room');
  const b = await joinPage('direct-b', 'p2p-room');
  for (const [p, from] of [[a, 'direct-b'], [b, 'direct-a']]) {
    await waitInPage(p.page, async (who) => {
      const m = (await window.hq.peerMedia())[who];
      return m && m.frames >= 10 && m.audioPackets >= 50 && m.audioEnergy > 0;
    }, from, 60000, `${p.identity} decoding ${from} directly`);
  }
  assert.equal(await forwarded('p2p-room'), 0);
  // Media messages meant for the SFU are refused with a reason.
  const err = await a.page.evaluate(() => window.hq.request('publish_offer', { sdp: 'v=0' })
    .then(() => null, (e) => ({ code: e.code, message: e.message })));
  assert.equal(err.code, 'invalid_field');
  assert.match(err.message, /peer to peer/);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.page.close();
  await b.page.close();
});

test('network quality at the verbosity each participant asks for', async () => {
  const a = await joinPage('nq-a', 'sfu-netq');
  const b = await joinPage('nq-b', 'sfu-netq');
  await waitMedia(a, 'nq-b', 5);
  const ok = await a.page.evaluate(() =>
    window.hq.request('network_quality_configure', { local: 3, remote: 2 }));
  assert.equal(ok.type, 'ok');
  const bad = await a.page.evaluate(() =>
    window.hq.request('network_quality_configure', { local: 7 })
      .then(() => null, (e) => e.code));
  assert.equal(bad, 'invalid_field');
  // A: detailed about itself, moderate about B.
  const seen = await waitInPage(a.page, () => {
    const m = window.events.filter((e) => e.type === 'network_quality').pop();
    const me = m && m.participants.find((p) => p.identity === 'nq-a');
    const other = m && m.participants.find((p) => p.identity === 'nq-b');
    return me && me.stats && other && 'send' in other && !other.stats ? { me, other } : null;
  }, undefined, 30000, 'a detailed network_quality');
  assert.ok(seen.me.level >= 1 && seen.me.level <= 5);
  assert.ok(seen.me.stats.send.video && 'fraction_lost' in seen.me.stats.send.video);
  assert.ok(seen.me.stats.recv.audio && 'jitter_ms' in seen.me.stats.recv.audio);
  assert.ok(seen.other.video.send >= 1);
  // The RTT of A's leg, from Chromium's receiver reports on the SFU's own
  // sender reports, is a number in the detailed figures.
  const rtt = await waitInPage(a.page, () => {
    const m = window.events.filter((e) => e.type === 'network_quality').pop();
    const me = m && m.participants.find((p) => p.identity === 'nq-a');
    const v = me && me.stats && me.stats.recv.video;
    return v && typeof v.rtt_ms === 'number' ? v.rtt_ms : null;
  }, undefined, 30000, 'a numeric rtt_ms in detailed network_quality');
  assert.ok(rtt >= 0 && rtt < 1000, `rtt_ms ${rtt}`);
  // And the publisher learns its RTT from the SFU's receiver reports.
  await waitInPage(a.page, async () => {
    let found = null;
    (await window.hq.pub.getStats()).forEach((r) => {
      if (r.type === 'remote-inbound-rtp' && r.kind === 'video'
          && typeof r.roundTripTime === 'number') found = r;
    });
    return found;
  }, undefined, 30000, 'remote-inbound-rtp with a round-trip time at the publisher');
  // Transport-wide congestion control (docs/sfu.md): the publish answer
  // negotiates it, and the server's feedback feeds Chromium's send-side
  // estimator, which then reports an available outgoing bitrate.
  const twcc = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
  const sdps = await a.page.evaluate(() => ({
    pub: window.hq.pub.remoteDescription.sdp, sub: window.hq.sub.localDescription.sdp }));
  assert.match(sdps.pub, /a=rtcp-fb:\d+ transport-cc/);
  assert.ok(sdps.pub.includes(twcc), 'the publish answer maps the sequence number extension');
  assert.ok(sdps.sub.includes(twcc), 'the subscribe answer maps the sequence number extension');
  const outgoing = await waitInPage(a.page, async () => {
    let found = null;
    (await window.hq.pub.getStats()).forEach((r) => {
      if (r.type === 'candidate-pair' && r.nominated
          && typeof r.availableOutgoingBitrate === 'number') found = r.availableOutgoingBitrate;
    });
    return found > 300000 ? found : null;
  }, undefined, 30000, 'availableOutgoingBitrate over 300 kbit/s at the publisher');
  console.log(`publisher availableOutgoingBitrate: ${outgoing} bit/s`);
  // A's subscribe leg: Chromium returns transport-wide feedback, and the
  // server's estimate from it is A's available_bps.
  const avail = await waitInPage(a.page, () => {
    const m = window.events.filter((e) => e.type === 'network_quality').pop();
    const me = m && m.participants.find((p) => p.identity === 'nq-a');
    const v = me && me.stats && me.stats.recv.video;
    return v && v.available_bps > 300000 ? v.available_bps : null;
  }, undefined, 30000, 'available_bps over 300 kbit/s for what A receives');
  console.log(`subscriber available_bps: ${avail} bit/s`);
  // B, at the defaults: levels only, of both; on loopback they settle at
  // good or excellent (the level falls at once on a bad second, as at
  // setup, and recovers over a few).
  const plain = await waitInPage(b.page, () => {
    const m = window.events.filter((e) => e.type === 'network_quality').pop();
    return m && m.participants.length === 2 && m.participants.every((p) => p.level >= 4)
      ? m : null;
  }, undefined, 60000, 'a minimal network_quality at level 4 or 5');
  for (const p of plain.participants) {
    assert.deepEqual(Object.keys(p).sort(), ['identity', 'level', 'participant_sid']);
  }
  await a.page.close();
  await b.page.close();
});
