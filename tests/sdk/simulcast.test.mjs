// Simulcast and bandwidth profiles in the browser (issue 20; suite
// `simulcast`): a real hq-server and headless Chromium.  One publisher
// page sends its 1280x720 fake camera with twilio-video's VP8 simulcast
// option (three layers, q h f); two subscriber pages show it, one in a
// 160x90 element (clientTrackSwitchOffControl and contentPreferencesMode
// 'auto': the SDK sends the element's size and visibility), one at
// 1280x720 with both 'manual' (setContentPreferences, switchOff/switchOn).
// One session checks, in order: the publish offer's layers; the small page
// decodes the low layer's frames, the large one the high layer's; the
// layer nobody receives stops being sent; an element scrolled out of view
// switches its track off (switchedOff, no more bytes) and back on; a
// manual switchOff() likewise.  Screenshots under $HQ_SIMULCAST_SHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, siteFor, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import { call, openApp, waitEvent, waitFor } from './helpers.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const SHOTS = process.env.HQ_SIMULCAST_SHOTS || tmpdir();
const ROOM = 'simulcast';
let browser;
let server;
let site;

before(async () => {
  site = siteFor(path.join(HERE, 'simulcast-app'));
  server = await startServer({ HQ_WEB_DIR: site.webDir });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  site?.remove();
});

async function page(identity, viewport) {
  const context = await browser.newContext({ viewport });
  const p = await openApp(context, `${server.url}/`, identity);
  return p;
}

const shot = (p, name) => p.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

// Bytes of the page's incoming video now, and again once `other` has
// received `more` bytes more: what `p` got meanwhile.
async function bytesWhile(p, other, more, what) {
  const mine = (await call(p, () => window.app.incoming())).bytes;
  const theirs = (await call(other, () => window.app.incoming())).bytes;
  await waitFor(other, (b) => window.app.incoming().then((s) => ({ ok: s.bytes >= b, ...s })),
    theirs + more, `${other.identity} to receive ${more} bytes more (${what})`);
  return (await call(p, () => window.app.incoming())).bytes - mine;
}

test('simulcast: three layers, small and large subscribers, unused layer paused, switch-off auto and manual', async () => {
  const made = await server.rest('POST', '/v1/Rooms', { UniqueName: ROOM, Type: 'group' });
  assert.equal(made.status, 201, await made.text());
  const pub = await page('pub', { width: 640, height: 400 });
  const small = await page('small', { width: 640, height: 400 });
  const large = await page('large', { width: 1300, height: 760 });

  // The publisher: three RID layers in the offer, lowest first.
  await call(pub, ([t, r]) => window.app.publish(t, r), [await server.token('pub', ROOM), ROOM]);
  const sending = await call(pub, () => window.app.publishing());
  assert.deepEqual(sending.rids, ['a=rid:q send', 'a=rid:h send', 'a=rid:f send']);
  assert.deepEqual(sending.simulcast, ['a=simulcast:send q;h;f']);
  assert.deepEqual(sending.encodings.map((e) => [e.rid, e.scale]), [['q', 4], ['h', 2], ['f', 1]]);
  assert.ok(sending.encodings.every((e) => e.maxBitrate > 0), JSON.stringify(sending.encodings));
  assert.deepEqual(sending.answered, ['a=simulcast:recv q;h;f'], 'the server takes the three layers');
  const layers = await waitFor(pub, () => window.app.layers().then((l) => ({
    ok: l.q?.width === 320 && l.h?.width === 640 && l.f?.width === 1280, ...l,
  })), undefined, 'three layers encoded at 320, 640 and 1280 pixels wide');
  console.log('publisher layers:', JSON.stringify(layers));

  // The subscribers.
  await call(small, ([t, r]) => window.app.subscribe(t, r, 'small', { mode: 'grid' }),
    [await server.token('small', ROOM), ROOM]);
  await call(large, ([t, r]) => window.app.subscribe(t, r, 'large', {
    mode: 'collaboration', clientTrackSwitchOffControl: 'manual', contentPreferencesMode: 'manual',
  }), [await server.token('large', ROOM), ROOM]);
  for (const p of [small, large]) await waitEvent(p, { type: 'trackSubscribed', identity: 'pub', kind: 'video' });
  await call(large, () => window.app.setRenderDimensions(1280, 720));

  // Decoded frame sizes: the low layer on the small page, the high one on
  // the large page (the publisher's current sizes of q and f: Chromium
  // may scale a layer down when short of CPU).
  const sizeOf = async (rid) => (await call(pub, () => window.app.layers()))[rid].width;
  for (const [p, rid] of [[small, 'q'], [large, 'f']]) {
    const want = await sizeOf(rid);
    const got = await waitFor(p, (w) => window.app.incoming().then((s) => ({
      ok: s.frameWidth === w && s.videoWidth === w && s.presented >= 10, ...s,
    })), want, `${p.identity}: frames of layer ${rid} (${want} wide)`);
    console.log(`${p.identity} decodes`, JSON.stringify(got));
  }
  await shot(small, 'simulcast-small');
  await shot(large, 'simulcast-large');

  // Nobody receives h: the publisher stops sending it (publish_layers),
  // and keeps sending q and f.
  await waitFor(pub, () => window.app.layers().then((l) => ({
    ok: l.h.active === false && l.q.active && l.f.active, ...l,
  })), undefined, 'the publisher to pause layer h');
  const before = await call(pub, () => window.app.layers());
  await waitFor(pub, (b) => window.app.layers().then((l) => ({ ok: l.f.bytes > b.f.bytes + 100000, ...l })),
    before, 'layer f to send 100 kB more');
  const afterwards = await call(pub, () => window.app.layers());
  assert.equal(afterwards.h.bytes, before.h.bytes, 'layer h sends nothing while paused');
  assert.deepEqual((await call(pub, () => window.app.publishing())).encodings.map((e) => e.active), [true, false, true]);

  // Auto switch-off: the small page's element scrolled out of view.
  const sid = (await call(small, () => window.app.remoteTrack().sid));
  await call(small, () => window.app.setAway(true));
  const off = await waitEvent(small, { type: 'switchedOff', sid });
  assert.deepEqual([off.reason, off.isSwitchedOff, off.switchOffReason],
    ['disabled-by-subscriber', true, 'disabled-by-subscriber']);
  await waitEvent(small, { type: 'roomTrackSwitchedOff', sid, publication: sid, identity: 'pub' });
  // In flight when the server stopped: a few packets at most.
  const leaked = await bytesWhile(small, large, 200000, 'small switched off');
  assert.ok(leaked < 5000, `the small page still received ${leaked} bytes while switched off`);
  await shot(small, 'simulcast-small-switched-off');
  // Nobody receives q now: paused too.
  await waitFor(pub, () => window.app.layers().then((l) => ({ ok: l.q.active === false && l.f.active, ...l })),
    undefined, 'the publisher to pause layer q');
  await call(small, () => window.app.setAway(false));
  await waitEvent(small, { type: 'switchedOn', sid, isSwitchedOff: false });
  await waitEvent(small, { type: 'roomTrackSwitchedOn', sid });
  const again = (await call(small, () => window.app.incoming())).presented;
  await waitFor(small, (n) => window.app.incoming().then((s) => ({ ok: s.presented >= n + 10 && s.frameWidth > 0, ...s })),
    again, 'the small page\'s video to move again');

  // Manual switch-off on the large page.
  await call(large, () => window.app.switchOff());
  const manual = await waitEvent(large, { type: 'switchedOff', sid });
  assert.equal(manual.reason, 'disabled-by-subscriber');
  const leakedLarge = await bytesWhile(large, small, 20000, 'large switched off');
  assert.ok(leakedLarge < 5000, `the large page still received ${leakedLarge} bytes while switched off`);
  await call(large, () => window.app.switchOn());
  await waitEvent(large, { type: 'switchedOn', sid });
  const want = await sizeOf('f');
  await waitFor(large, (w) => window.app.incoming().then((s) => ({ ok: s.frameWidth === w, ...s })), want,
    'the large page back on the high layer');
  const freezes = await call(large, () => window.app.incoming());
  console.log('large page after switching back on:', JSON.stringify(freezes));
  await shot(large, 'simulcast-large-back');
});
