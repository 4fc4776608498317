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
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

async function joinPage(identity, room) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(server.url + '/');
  await page.evaluate(async ([id, r]) => {
    window.events = [];
    const client = await window.hqJoin(id, r);
    for (const t of ['dominant_speaker', 'network_quality', 'participant_disconnected',
      'track_disabled', 'error', 'transport_state']) {
      client.addEventListener(t, (e) => window.events.push({ type: t, ...e.detail }));
    }
  }, [identity, room]);
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
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.page.close();
  await b.page.close();
});
