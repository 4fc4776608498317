// End-to-end encryption between the browser SDK and the room elements
// (docs/e2ee.md), through a real hq-server group room and headless
// Chromium (suite e2ee): hqroomsink encrypts a solid colour, a Chromium
// page with connect(..., {e2ee: {secret}}) shows that colour; the page's
// camera, encrypted by the SDK, decodes in an hqroomsrc with the same
// secret; a page with another secret shows nothing and says why.  Key
// epochs across both: when a page leaves, the page whose identity sorts
// first seals a new epoch to hqroomsink (WebCrypto to OpenSSL); when that
// page leaves, hqroomsink seals the next to the last page (OpenSSL to
// WebCrypto); each time both show the same verification code and the
// page still shows hqroomsink's colour.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage, launchPipeline } from '../browser/hqserver.mjs';
import { restPost, testSite } from './common.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const KEY = { sid: 'SK' + 'e2'.repeat(16), secret: 'sdk-e2ee-test-secret-0123456789' };
const SECRET = 'a room secret the server never sees';
const COLOUR = [0xe0, 0x40, 0x20];
let browser;
let server;
let site;
const pipelines = [];

before(async () => {
  site = testSite();
  server = await startServer({
    HQ_WEB_DIR: path.join(site, 'web'),
    HQ_ACCOUNT_SID: 'AC' + 'e3'.repeat(16), HQ_API_KEY_SID: KEY.sid, HQ_API_KEY_SECRET: KEY.secret,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  for (const p of pipelines) p.stop();
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  if (site) rmSync(site, { recursive: true, force: true });
});

const rest = (pathname, params, status) => restPost(server.url, KEY, pathname, params, status);
const token = async (identity, room) => (await rest('/v1/AccessTokens', { Identity: identity, Room: room }, 201)).token;

// gst-launch-1.0 with the build tree's plugins; token and secret in the
// environment, never on the command line.
const gstLaunch = (args, tok) => launchPipeline(args, { HQ_ACCESS_TOKEN: tok, HQ_E2EE_SECRET: SECRET },
  pipelines);

// A page of the SDK test app (tests/sdk/ext-page.js) that has joined
// `room` with `e2ee`; console lines kept.
async function join(identity, room, e2ee) {
  const page = await browser.newPage({ bypassCSP: true });
  const problems = [];
  const consoleLines = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => consoleLines.push(m.text()));
  await page.goto(`${server.url}/`);
  await page.addScriptTag({ path: path.join(HERE, 'ext-page.js'), type: 'module' });
  await waitInPage(page, () => window.extReady === true, undefined, 30000, 'the page to load the SDK');
  const t = await token(identity, room);
  await page.evaluate(([tok, r, x]) => window.ext.start(tok, r, x), [t, room, { e2ee }]);
  const res = await page.evaluate(() => window.ext.connected());
  assert.equal(res.ok, true, JSON.stringify(res));
  return { page, problems, consoleLines };
}

// The mean colour of the video `p` shows for `identity`, or null.
const colourOf = (p, identity) => p.page.evaluate((who) => {
  const v = document.querySelector(`video[data-identity="${who}"]`);
  if (!v || !v.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = 64;
  c.height = 48;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, c.width, c.height);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += px[i + k];
  return sum.map((x) => x / (px.length / 4));
}, identity);

const near = (got, want) => Boolean(got) && got.every((v, i) => Math.abs(v - want[i]) < 24);

test('hqroomsink to Chromium and Chromium to hqroomsrc, end-to-end encrypted', async () => {
  const room = 'e2ee-browser';
  await rest('/v1/Rooms', { UniqueName: room, Type: 'group' }, 201);
  const hex = COLOUR.map((c) => c.toString(16).padStart(2, '0')).join('');
  gstLaunch(['hqroomsink', 'name=s', `server=${server.url}`, `room=${room}`,
    'videotestsrc', 'is-live=true', 'pattern=solid-color', `foreground-color=0xff${hex}`, '!',
    'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.video_0',
    'audiotestsrc', 'is-live=true', 'wave=sine', 'volume=0.5', '!', 's.audio_0'],
  await token('gst-alice', room));

  const carol = await join('carol', room, { secret: SECRET });
  let seen = null;
  for (const deadline = Date.now() + 60000; !near(seen, COLOUR);) {
    assert.ok(Date.now() < deadline, `carol never showed gst-alice's colour; last ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 200));
    seen = await colourOf(carol, 'gst-alice');
  }
  assert.ok(near(seen, COLOUR), JSON.stringify(seen));

  // Chromium's fake camera, encrypted by the SDK, decoded by hqroomsrc
  // (only after decryption: it drops what does not decrypt).
  const viewer = gstLaunch(['-v', 'hqroomsrc', `server=${server.url}`, `room=${room}`,
    'participants=<carol>', 'kinds=video', '!', 'fakesink', 'silent=false', 'sync=false'],
  await token('gst-viewer', room));
  await viewer.waitFor((o) => (o.match(/last-message = chain/g) || []).length >= 30,
    '30 video frames from carol decrypted and decoded');
  assert.doesNotMatch(viewer.output(), /cannot decrypt/);

  // Another secret: nothing shown, and the page says why.
  const eve = await join('eve', room, { secret: 'not the room secret' });
  const deadline = Date.now() + 60000;
  while (!eve.consoleLines.some((l) => l.includes('cannot decrypt video from gst-alice: wrong or missing room secret'))) {
    assert.ok(Date.now() < deadline, `eve never said why: ${eve.consoleLines.slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(near(await colourOf(eve, 'gst-alice'), COLOUR), false);
  assert.deepEqual(carol.problems, []);
  assert.deepEqual(eve.problems, []);
});

// hqroomsink's hq-e2ee-epoch message of `epoch` (gst-launch-1.0 -m): its code.
const pipelineCode = (p, epoch) => p.waitFor(
  (o) => o.match(new RegExp(`hq-e2ee-epoch, epoch=\\(uint\\)${epoch}, code=\\(string\\)"?(\\d{6})"?`))?.[1],
  `hqroomsink at key epoch ${epoch}`, 90000);

async function pageEpoch(p, epoch) {
  const deadline = Date.now() + 90000;
  for (;;) {
    const info = await p.page.evaluate(() => window.ext.e2ee());
    if (info?.epoch === epoch) return info;
    assert.ok(Date.now() < deadline, `the page never reached key epoch ${epoch}: ${JSON.stringify(info)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitColour(p, what) {
  let seen = null;
  for (const deadline = Date.now() + 60000; !near(seen, COLOUR);) {
    assert.ok(Date.now() < deadline, `${what}: never showed gst-alice's colour; last ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 200));
    seen = await colourOf(p, 'gst-alice');
  }
}

test('key epochs between the SDK and hqroomsink: new keys each time someone leaves, one code', async () => {
  const room = 'e2ee-epochs';
  await rest('/v1/Rooms', { UniqueName: room, Type: 'group' }, 201);
  const hex = COLOUR.map((c) => c.toString(16).padStart(2, '0')).join('');
  const alice = gstLaunch(['-m', 'hqroomsink', 'name=s', `server=${server.url}`, `room=${room}`,
    'videotestsrc', 'is-live=true', 'pattern=solid-color', `foreground-color=0xff${hex}`, '!',
    'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.video_0'],
  await token('gst-alice', room));
  const bob = await join('bob', room, { secret: SECRET });
  const zoe = await join('zoe', room, { secret: SECRET });
  const carol = await join('carol', room, { secret: SECRET });
  for (const [p, who] of [[bob, 'bob'], [zoe, 'zoe'], [carol, 'carol']]) await waitColour(p, who);
  const code0 = await pipelineCode(alice, 0);
  assert.equal((await pageEpoch(zoe, 0)).code, code0);

  // carol leaves: bob sorts first ("bob" < "gst-alice" < "zoe") and
  // seals epoch 1 to hqroomsink and zoe.
  await carol.page.evaluate(() => window.ext.disconnect());
  const code1 = await pipelineCode(alice, 1);
  const bob1 = await pageEpoch(bob, 1);
  assert.equal(bob1.from, 'bob');
  assert.equal(bob1.code, code1);
  assert.equal((await pageEpoch(zoe, 1)).code, code1);
  assert.notEqual(code1, code0);
  assert.match(alice.output(), /from=\(string\)bob/);
  await waitColour(zoe, 'zoe in epoch 1');

  // bob leaves: hqroomsink sorts first and seals epoch 2 to zoe.
  await bob.page.evaluate(() => window.ext.disconnect());
  const code2 = await pipelineCode(alice, 2);
  const zoe2 = await pageEpoch(zoe, 2);
  assert.equal(zoe2.from, 'gst-alice');
  assert.equal(zoe2.code, code2);
  await waitColour(zoe, 'zoe in epoch 2');
  for (const p of [bob, zoe, carol]) assert.deepEqual(p.problems, []);
  alice.stop();
});
