// The room elements against a browser, both ways, through a real hq-server
// (suite `room`): Chromium publishes its fake camera and microphone and a
// gst-launch-1.0 pipeline with hqroomsrc decodes them; a pipeline with
// hqroomsink publishes test patterns and tones and Chromium decodes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage, launchPipeline } from './hqserver.mjs';

let browser;
let server;
const pipelines = [];

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  for (const p of pipelines) p.stop();
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

// A back-end's token (the room is made when it is not in progress).
async function tokenFor(identity, room) {
  return server.token(identity, room);
}

// gst-launch-1.0 with the build tree's plugins, the token in the
// environment (hqserver.mjs).
const gstLaunch = (args, token) => launchPipeline(args, { HQ_ACCESS_TOKEN: token }, pipelines);

async function joinPage(identity, room) {
  const token = await tokenFor(identity, room);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(server.url + '/');
  await page.evaluate(async ([id, r, t]) => { await window.hqJoin(id, r, t); }, [identity, room, token]);
  return { page, problems };
}

const count = (text, re) => (text.match(re) || []).length;

test('hqroomsrc decodes the video and audio a browser publishes', async () => {
  const room = 'ab-browser-publishes';
  const a = await joinPage('chrome-alice', room);
  const token = await tokenFor('gst-viewer', room);
  const common = [`server=${server.url}`, `room=${room}`, 'participants=<chrome-alice>'];
  // Video: every decoded frame shows as a fakesink last-message line, and
  // the negotiated raw caps name the frame size.
  const video = gstLaunch(['-v', '-t', 'hqroomsrc', ...common, 'kinds=video', '!',
    'fakesink', 'silent=false', 'sync=false'], token);
  // Audio: level messages on the bus (-m) carry the decoded peak.
  const audio = gstLaunch(['-m', '-t', 'hqroomsrc', ...common, 'kinds=audio', '!',
    'audioconvert', '!', 'level', 'interval=100000000', '!', 'fakesink', 'sync=false'],
  await tokenFor('gst-listener', room));
  await video.waitFor((o) => count(o, /last-message = chain/g) >= 30,
    '30 decoded video frames');
  assert.match(video.output(), /caps = video\/x-raw.*width=\(int\)\d+/);
  assert.match(video.output(), /chrome-alice/, 'the stream is labelled with the publisher');
  // Chromium's fake microphone beeps: some 100 ms interval must be loud.
  await audio.waitFor((o) => [...o.matchAll(/peak=\(GValueArray\)< ([-\d.e+]+)/g)]
    .some((m) => Number(m[1]) > -40), 'decoded audio with sound in it');
  assert.match(audio.output(), /chrome-alice/);
  assert.deepEqual(a.problems, []);
  await a.page.close();
});

test('Chromium decodes what hqroomsink publishes', async () => {
  const room = 'ab-gst-publishes';
  const pub = gstLaunch(['hqroomsink', 'name=room', `server=${server.url}`, `room=${room}`,
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!',
    'room.', 'audiotestsrc', 'is-live=true', 'wave=sine', 'volume=0.5', '!', 'room.'],
  await tokenFor('gst-bob', room));
  const b = await joinPage('chrome-carol', room);
  const got = await waitInPage(b.page, async () => {
    const frames = await window.hq.framesDecoded();
    const audio = await window.hq.audioReceived();
    const out = { frames: 0, audioPackets: 0, audioEnergy: 0 };
    for (const t of window.hq.subTracks.values()) {
      if (t.identity !== 'gst-bob') continue;
      if (t.kind === 'video') out.frames += frames[t.track_sid] || 0;
      if (t.kind === 'audio' && audio[t.track_sid]) {
        out.audioPackets += audio[t.track_sid].packets;
        out.audioEnergy += audio[t.track_sid].energy;
      }
    }
    return out.frames >= 20 && out.audioPackets >= 50 && out.audioEnergy > 0 ? out : null;
  }, undefined, 60000, 'video frames and audio from gst-bob');
  assert.ok(got.frames >= 20);
  assert.equal(pub.exited(), null, 'the publishing pipeline is still running');
  assert.deepEqual(b.problems, []);
  await b.page.close();
});
