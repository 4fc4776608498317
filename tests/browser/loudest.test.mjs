// Loudest-N audio with a real browser (suite `loudest`): a group room of
// ten on a real hq-server (the default: the loudest 3): two hqroomsink
// pipelines play tones (they speak), seven play silence, and a Chromium
// page whose fake microphone plays a silent WAV file listens.  hqroomsink
// and Chromium both send the RFC 6464 audio level.  The page hears both
// speakers; REST's per-publisher counts show that, once the room is full,
// the server forwards audio from the two speakers only and holds back the
// seven silent publishers'; the page receives no packet of theirs
// meanwhile.  (The pipelines only publish, so the page is the one
// listener here; tests/check/server/sfuloudest.c has ten listeners.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage, launchPipeline } from './hqserver.mjs';

const ROOM = 'loudest-of-ten';
const SPEAKERS = ['tone-1', 'tone-2'];
const SILENT = ['quiet-1', 'quiet-2', 'quiet-3', 'quiet-4', 'quiet-5', 'quiet-6', 'quiet-7'];
const LISTENER = 'chrome-listener';

let browser;
let server;
let wavDir;
const pipelines = [];

// One second of digital silence, 48 kHz mono 16-bit PCM (Chromium loops
// the file as its microphone).
function silentWav(file) {
  const rate = 48000;
  const data = Buffer.alloc(rate * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([h, data]));
}

before(async () => {
  wavDir = mkdtempSync(path.join(tmpdir(), 'hq-loudest-'));
  const wav = path.join(wavDir, 'silence.wav');
  silentWav(wav);
  server = await startServer({ HQ_MEDIA_LOUDEST_AUDIO: '' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wav}`],
  });
});

after(async () => {
  for (const p of pipelines) p.stop();
  await browser?.close();
  if (wavDir) rmSync(wavDir, { recursive: true, force: true });
  if (server) assert.equal(await server.stop(), 0, server.log());
});

// An audio-only hqroomsink publisher playing `wave`.
async function publisher(identity, wave, freq) {
  const token = await server.token(identity, ROOM);
  return launchPipeline(['hqroomsink', 'name=room', `server=${server.url}`, `room=${ROOM}`,
    'audiotestsrc', 'is-live=true', `wave=${wave}`, `freq=${freq}`, 'volume=0.5', '!', 'room.'],
  { HQ_ACCESS_TOKEN: token }, pipelines);
}

async function roomMedia() {
  const res = await server.rest('GET', `/v1/Rooms/${ROOM}`);
  assert.equal(res.status, 200);
  return (await res.json()).media;
}

async function sidsByIdentity() {
  const res = await server.rest('GET', `/v1/Rooms/${ROOM}/Participants?Status=connected`);
  assert.equal(res.status, 200);
  const out = {};
  for (const p of (await res.json()).participants) out[p.identity] = p.sid;
  return out;
}

// What the page received so far, per publishing identity.
const receivedBy = (page) => page.evaluate(async () => {
  const audio = await window.hq.audioReceived();
  const out = {};
  for (const t of window.hq.subTracks.values()) {
    if (t.kind !== 'audio' || !audio[t.track_sid]) continue;
    out[t.identity] = audio[t.track_sid];
  }
  return out;
});

async function until(fn, what, ms = 60000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a room of ten where two speak: only their audio is forwarded, and the page hears both', async () => {
  const token = await server.token(LISTENER, ROOM);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(server.url + '/');
  await page.evaluate(async ([id, r, t]) => { await window.hqJoin(id, r, t); }, [LISTENER, ROOM, token]);
  let freq = 440;
  for (const id of SPEAKERS) await publisher(id, 'sine', (freq += 220));
  for (const id of SILENT) await publisher(id, 'silence', 440);

  // The page hears both speakers: packets and sound energy from each.
  await waitInPage(page, async (who) => {
    const audio = await window.hq.audioReceived();
    let heard = 0;
    for (const t of window.hq.subTracks.values()) {
      const a = audio[t.track_sid];
      if (t.kind === 'audio' && who.includes(t.identity) && a && a.packets > 100 && a.energy > 0) heard++;
    }
    return heard === who.length;
  }, SPEAKERS, 90000, 'the page hearing both speakers');

  // Everyone is in and every silent publisher's hangover is over.
  const sids = await until(async () => {
    const s = await sidsByIdentity();
    return Object.keys(s).length === 10 ? s : null;
  }, 'ten participants');
  // (The page's own silence goes to nobody: the pipelines only publish.)
  const quiet = SILENT;
  let pubs;
  await until(async () => {
    pubs = (await roomMedia()).audio_publishers;
    return quiet.every((id) => pubs[sids[id]]?.silenced_packets > 0);
  }, 'every silent publisher held back', 30000).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify({ sids, pubs })}`);
  });

  const before = await roomMedia();
  const pageBefore = await receivedBy(page);
  // Two more seconds of audio from each speaker at the page (50 packets/s).
  await waitInPage(page, async ([who, then]) => {
    const audio = await window.hq.audioReceived();
    let n = 0;
    for (const t of window.hq.subTracks.values()) {
      const a = audio[t.track_sid];
      if (t.kind === 'audio' && who.includes(t.identity) && a
        && a.packets >= (then[t.identity]?.packets || 0) + 100) n++;
    }
    return n === who.length;
  }, [SPEAKERS, pageBefore], 30000, '100 more packets from each speaker');
  const pageAfter = await receivedBy(page);
  // The server's counts, read after the page's: packets it counted before
  // `before` may still have been on their way to the page then, so its
  // count catches up with the page's rather than matching it at once.
  const afterMedia = await until(async () => {
    const m = await roomMedia();
    const sent = (id) => (m.audio_publishers[sids[id]]?.forwarded_packets || 0)
      - (before.audio_publishers[sids[id]]?.forwarded_packets || 0);
    return SPEAKERS.every((id) => sent(id) >= 100) ? m : null;
  }, 'the server counting 100 forwarded packets of each speaker', 30000)
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await roomMedia())}`); });

  const delta = (id, what) => (afterMedia.audio_publishers[sids[id]]?.[what] || 0)
    - (before.audio_publishers[sids[id]]?.[what] || 0);
  for (const id of SPEAKERS) {
    // to the page, the one subscriber
    assert.ok(delta(id, 'forwarded_packets') >= 100, `${id} forwarded: ${delta(id, 'forwarded_packets')}`);
    assert.equal(delta(id, 'silenced_packets'), 0, `${id} held back`);
  }
  for (const id of quiet) {
    assert.equal(delta(id, 'forwarded_packets'), 0, `${id} forwarded`);
    assert.ok(delta(id, 'silenced_packets') > 0, `${id} not held back`);
  }
  for (const id of SILENT) {
    assert.equal((pageAfter[id]?.packets || 0) - (pageBefore[id]?.packets || 0), 0,
      `the page received ${id}'s silence`);
  }
  for (const id of SPEAKERS) assert.ok(pageAfter[id].audioLevel > 0.01, `${id} sounds at the page`);
  assert.ok(afterMedia.silenced_audio_packets > before.silenced_audio_packets);
  assert.deepEqual(problems, []);
  await page.close();
});
