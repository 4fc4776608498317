// The consultation web app at / (web/, on the browser SDK) with a real
// hq-server and headless Chromium: a clinician, a patient and a family
// member go through each flow, and each test checks what they see.  Suite
// `web`; screenshots under $HQ_WEB_SHOTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import {
  ROOT, DESKTOP, PHONE, fillJoin, join, waitTile, waitFrames, waitAudio, shoot, axeViolations,
} from './webpage.mjs';
import { webSession } from './session.mjs';

const WEB_ENV = { HQ_WEB_DIR: path.join(ROOT, 'web') };
let browser;
let server;
const web = webSession(WEB_ENV, (s) => ({ browser, server } = s));
const { app, closeAll } = web;

// A visit the clinic made (REST, with the API key).
async function visit(name, base) {
  const res = await (base ? base.rest : server.rest)('POST', '/v1/Rooms', { UniqueName: name });
  assert.equal(res.status, 201, await res.text());
}

const passcode = () => server.credentials().passcode;

async function text(p, sel) {
  return (await p.page.textContent(sel)).trim();
}

// Every control of the call bar is on screen, enabled and the element
// under its centre (nothing covers it).
async function controlsUsable(p) {
  return p.page.evaluate(() => [...document.querySelectorAll('.controls button')].filter((b) => !b.hidden).map((b) => {
    const r = b.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return {
      id: b.id,
      label: b.getAttribute('aria-label'),
      inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight && r.width >= 40 && r.height >= 36,
      reachable: b === hit || b.contains(hit),
      enabled: !b.disabled,
    };
  }));
}

function assertControlsUsable(list, where) {
  assert.ok(list.length >= 6, `${where}: ${JSON.stringify(list)}`);
  for (const c of list) {
    assert.ok(c.inside && c.reachable && c.enabled && c.label, `${where}: ${JSON.stringify(c)}`);
  }
}

test('the way in: preview, meter, devices, clear errors, passcode, same names, Spanish', async () => {
  await visit('visit-in');
  const ana = await app({ who: 'ana' });
  const { page } = ana;
  // The preview plays the camera before joining; the meter moves with the microphone.
  assert.equal(await text(ana, '#pre-title'), 'Join your video visit');
  await page.waitForFunction(() => {
    const v = document.getElementById('preview');
    return v.videoWidth === 640 && !v.paused && v.checkVisibility();
  }, undefined);
  await page.waitForFunction(() => Number(document.getElementById('meter').getAttribute('aria-valuenow')) > 10,
    undefined);
  await page.click('#devices summary');
  for (const kind of ['camera', 'microphone']) {
    const sel = page.locator(`#prejoin select[data-kind=${kind}]`);
    assert.ok(await sel.isEnabled(), kind);
    assert.ok((await sel.locator('option').count()) >= 1, kind);
  }
  for (const id of ['#pre-mic', '#pre-cam', '#join']) assert.ok(await page.locator(id).isEnabled(), id);
  if (await page.locator('#prejoin select[data-kind=speaker]').count()) {
    await page.click('#prejoin .test-sound');
  }
  await shoot(ana, 'prejoin');

  // Nothing typed: told what is missing.
  await page.click('#join');
  assert.equal(await text(ana, '#join-error'), 'Please type your name.');
  // A visit that needs a passcode, then a wrong one, then a visit that
  // does not exist: each said plainly, and no room is made.
  await fillJoin(ana, { name: 'Ana', room: 'visit-typo' });
  await page.click('#join');
  await page.waitForFunction(() => /needs a passcode/.test(document.getElementById('join-error').textContent));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'passcode');
  await fillJoin(ana, { name: 'Ana', room: 'visit-typo', passcode: '000' });
  await page.click('#join');
  await page.waitForFunction(() => /passcode is not right/.test(document.getElementById('join-error').textContent));
  await fillJoin(ana, { name: 'Ana', room: 'visit-typo', passcode: passcode() });
  await page.click('#join');
  await page.waitForFunction(() => /has not started yet/.test(document.getElementById('join-error').textContent),
    undefined);
  assert.equal(await text(ana, '#join-error'),
    'This visit has not started yet. Check the visit name, or try again when your clinic has started it.');
  assert.ok(await page.locator('#join').isEnabled());
  assert.equal((await server.rest('GET', '/v1/Rooms/visit-typo')).status, 404);
  // On a phone the message is in sight, not under the Join button.
  await ana.page.setViewportSize(PHONE);
  await page.click('#join');
  await page.waitForFunction(() => !document.getElementById('join').disabled);
  const seen = await page.evaluate(() => {
    const r = document.getElementById('join-error').getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return r.top >= 0 && r.bottom <= innerHeight && document.getElementById('join-error').contains(hit);
  });
  assert.ok(seen, 'the error is in sight on a phone');
  await shoot(ana, 'prejoin-error');
  await ana.page.setViewportSize(DESKTOP);

  // Two people of the same name: both stay (the server makes identities).
  // The second one mutes before joining: the first sees it from the start.
  await join(ana, { name: 'Ana', room: 'visit-in', passcode: passcode() });
  const ana2 = await app({ who: 'ana2', viewport: PHONE });
  await ana2.page.click('#pre-mic');
  assert.equal(await ana2.page.getAttribute('#pre-mic', 'aria-pressed'), 'true');
  await join(ana2, { name: 'Ana', room: 'visit-in', passcode: passcode() });
  assert.equal(await ana2.page.getAttribute('#mic', 'aria-label'), 'Unmute');
  await waitFrames(ana, 'Ana');
  await waitTile(ana, 'Ana', (s) => s.micOff, 'the muted-microphone icon of the second Ana');
  await waitFrames(ana2, 'Ana');
  assert.ok(await page.locator('#call').isVisible());
  const ids = await page.evaluate(() => [window.hqApp.room.localParticipant.identity,
    ...[...window.hqApp.room.participants.values()].map((p) => p.identity)]);
  assert.equal(ids.length, 2);
  assert.notEqual(ids[0], ids[1]);
  for (const id of ids) assert.match(id, /^guest-[0-9a-f]{16}$/);

  // Spanish from the browser's language, English by the switch.
  const es = await app({ who: 'es', locale: 'es-ES', viewport: PHONE });
  assert.equal(await text(es, '#pre-title'), 'Entre a su consulta por video');
  assert.equal(await es.page.getAttribute('html', 'lang'), 'es');
  await fillJoin(es, { name: 'Lucía', room: 'visita-que-no-existe', passcode: passcode() });
  await es.page.click('#join');
  await es.page.waitForFunction(() => /todavía no ha empezado/.test(document.getElementById('join-error').textContent),
    undefined);
  await shoot(es, 'prejoin-spanish');
  await es.page.selectOption('#lang', 'en');
  assert.equal(await text(es, '#pre-title'), 'Join your video visit');
  assert.equal(await text(es, '#join'), 'Join the visit');
  await closeAll();
});

test('without camera or microphone: help, join with what you have, the others see the name tile', async () => {
  await visit('visit-nodev');
  const doc = await app({ who: 'doctor' });
  await join(doc, { name: 'Dr Ana', room: 'visit-nodev', passcode: passcode() });
  // Alone in the visit: told so until someone comes.
  assert.equal(await text(doc, '#alone'), 'Waiting for the others to join…');
  assert.ok(await doc.page.locator('#alone').isVisible());
  // The browser refuses the devices (no fake "allow"; prompts denied).
  const refusing = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream'), '--deny-permission-prompts'],
  });
  // No devices at all (permission granted, nothing plugged in).
  const bare = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-device-for-media-stream'),
  });
  try {
    const pat = await app({ who: 'pat', browser: refusing, viewport: PHONE });
    await pat.page.waitForSelector('#device-help:not([hidden])');
    assert.match(await text(pat, '#device-help'), /not allowed to use the camera and microphone.*join without them/);
    assert.ok(await pat.page.locator('#preview-off').isVisible());
    await shoot(pat, 'prejoin-denied');
    await join(pat, { name: 'Pat', room: 'visit-nodev', passcode: passcode() });
    const fay = await app({ who: 'fay', browser: bare });
    await fay.page.waitForSelector('#device-help:not([hidden])');
    assert.match(await text(fay, '#device-help'), /No camera or microphone was found/);
    await join(fay, { name: 'Fay', room: 'visit-nodev', passcode: passcode() });
    for (const name of ['Pat', 'Fay']) {
      await waitTile(doc, name, (s) => s.present && s.nameTile && !s.videoShown && s.micOff, 'the name tile, muted');
    }
    await waitFrames(pat, 'Dr Ana');
    assert.ok(await doc.page.locator('#alone').isHidden());
    await doc.page.click('#people-btn');
    await doc.page.waitForFunction(() => document.querySelectorAll('#people-list li').length === 3);
    const rows = await doc.page.$$eval('#people-list li', (lis) => lis.map((li) => li.textContent.trim()
      + [...li.querySelectorAll('[aria-label]')].map((e) => ` [${e.getAttribute('aria-label')}]`).join('')));
    assert.deepEqual(rows, ['Dr Ana (you)', 'Pat [Microphone off] [Camera off]', 'Fay [Microphone off] [Camera off]']);
    await shoot(doc, 'call-people');
    await closeAll();
  } finally {
    await refusing.close();
    await bare.close();
  }
});

test('in the call: see and hear, mute, camera off and on, screen share, layouts, pin, speaker, quality, devices, leave and rejoin', async () => {
  const doc = await app({ who: 'clinician' });
  const pat = await app({ who: 'patient', viewport: PHONE });
  const fay = await app({ who: 'family' });
  // The clinician starts the visit; the patient and family join it.
  await join(doc, { name: 'Dr Ana', room: 'visit-call', passcode: passcode(), create: true });
  await join(pat, { name: 'Pat', room: 'visit-call', passcode: passcode() });
  await join(fay, { name: 'Fay', room: 'visit-call', passcode: passcode() });
  const people = [[doc, 'Dr Ana'], [pat, 'Pat'], [fay, 'Fay']];
  for (const [p] of people) {
    for (const [, other] of people.filter(([q]) => q !== p)) {
      await waitFrames(p, other);
      await waitAudio(p, other);
    }
    await waitFrames(p, `${people.find(([q]) => q === p)[1]} (you)`);
    assertControlsUsable(await controlsUsable(p), p.who);
  }
  await shoot(doc, 'call-gallery');

  // Mute from the keyboard: the others see the muted microphone.
  await pat.page.focus('#mic');
  await pat.page.keyboard.press('Space');
  assert.equal(await pat.page.getAttribute('#mic', 'aria-label'), 'Unmute');
  for (const p of [doc, fay]) await waitTile(p, 'Pat', (s) => s.micOff, 'the muted-microphone icon');
  await pat.page.keyboard.press('Enter');
  for (const p of [doc, fay]) await waitTile(p, 'Pat', (s) => !s.micOff, 'no muted-microphone icon');

  // Camera off: the capture stops, the others see the name tile, not a frozen frame.
  const camBefore = await pat.page.evaluate(() => {
    window.patCam = window.hqApp.local.video.mediaStreamTrack;
    return window.patCam.readyState;
  });
  assert.equal(camBefore, 'live');
  await pat.page.click('#cam');
  assert.equal(await pat.page.evaluate(() => window.patCam.readyState), 'ended');
  assert.equal(await pat.page.getAttribute('#cam', 'aria-label'), 'Start camera');
  for (const p of [doc, fay]) await waitTile(p, 'Pat', (s) => s.nameTile && !s.videoShown, 'the name tile');
  await shoot(doc, 'call-camera-off');
  await pat.page.click('#cam');
  for (const p of [doc, fay]) await waitFrames(p, 'Pat');

  // Screen share: seen by the others on its own tile, large.
  await doc.page.click('#share');
  await doc.page.waitForSelector('#share[aria-label="Stop sharing"]');
  for (const p of [pat, fay]) {
    const s = await waitFrames(p, 'Screen of Dr Ana');
    assert.ok(s.main, `${p.who}: the shared screen is the large tile`);
  }
  await shoot(fay, 'call-screen-share');
  await doc.page.click('#share');
  for (const p of [pat, fay]) await waitTile(p, 'Screen of Dr Ana', (s) => !s.present, 'the screen tile to go');

  // Layouts and pinning.
  await fay.page.click('#layout');
  assert.ok(await fay.page.locator('#stage.speaker').isVisible());
  await fay.page.click('.tile[data-name="Pat"] .pin');
  await waitTile(fay, 'Pat', (s) => s.main, 'Pat pinned as the large tile');
  assert.equal(await fay.page.getAttribute('.tile[data-name="Pat"] .pin', 'aria-pressed'), 'true');
  await shoot(fay, 'call-speaker-pinned');
  await fay.page.click('.tile[data-name="Pat"] .pin');
  await fay.page.click('#layout');
  assert.ok(await fay.page.locator('#stage.gallery').isVisible());

  // The dominant speaker: the only one not muted.
  await doc.page.click('#mic');
  await fay.page.click('#mic');
  await waitTile(doc, 'Pat', (s) => s.dominant, 'Pat highlighted as the speaker');

  // Network quality bars with the figures in their tooltip.
  const q = await doc.page.waitForFunction(() => {
    const el = document.querySelector('.tile[data-name="Dr Ana (you)"] .quality');
    return !el.hidden && /kbit\/s/.test(el.title) && el.title;
  }, undefined);
  assert.match(await q.jsonValue(), /^Connection: [1-5] of 5\./);
  const remoteQ = await doc.page.waitForFunction(() => {
    const el = document.querySelector('.tile[data-name="Pat"] .quality');
    return !el.hidden && el.dataset.level && el.getAttribute('aria-label');
  }, undefined);
  assert.match(await remoteQ.jsonValue(), /^Connection: [1-5] of 5/);

  // Another camera chosen mid-call: a new capture, still seen.
  await doc.page.click('#settings-btn');
  const cam = doc.page.locator('#settings select[data-kind=camera]');
  assert.ok(await cam.isVisible());
  const oldTrack = await doc.page.evaluate(() => window.hqApp.local.video.mediaStreamTrack.id);
  const options = await cam.locator('option').evaluateAll((os) => os.map((o) => o.value));
  await cam.selectOption(options[options.length - 1]);
  await doc.page.waitForFunction((id) => window.hqApp.local.video.mediaStreamTrack.id !== id
    && window.hqApp.local.video.mediaStreamTrack.readyState === 'live', oldTrack);
  await shoot(doc, 'call-settings');
  await doc.page.keyboard.press('Escape');
  assert.ok(await doc.page.locator('#settings').isHidden());
  await waitFrames(pat, 'Dr Ana');

  // Leave: capture stops, the post-call screen offers Rejoin; the others
  // no longer show the family's tile.  Rejoin brings it back.
  await fay.page.evaluate(() => {
    window.leftTracks = [window.hqApp.local.audio.mediaStreamTrack, window.hqApp.local.video.mediaStreamTrack];
  });
  await fay.page.click('#leave');
  await fay.page.waitForSelector('#postcall:not([hidden])');
  assert.deepEqual(await fay.page.evaluate(() => window.leftTracks.map((t) => t.readyState)), ['ended', 'ended']);
  assert.ok(await fay.page.locator('#rejoin').isEnabled());
  for (const p of [doc, pat]) await waitTile(p, 'Fay', (s) => !s.present, 'the family tile to go');
  await shoot(fay, 'postcall');
  await fay.page.click('#rejoin');
  await fay.page.waitForSelector('#call:not([hidden])');
  for (const p of [doc, pat]) await waitFrames(p, 'Fay');
  await waitFrames(fay, 'Pat');
  await closeAll();
});

test('a server restart within the grace period: the reconnecting banner, then the call again', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hq-web-restart-'));
  const env = { ...WEB_ENV, HQ_RECONNECT_GRACE_MS: '15000' };
  let srv = await startServer(env, { dataDir });
  const listen = new URL(srv.url).host;
  try {
    await visit('visit-restart', srv);
    const code = srv.credentials().passcode;
    const doc = await app({ who: 'clinician' }, srv.url);
    const pat = await app({ who: 'patient', viewport: PHONE }, srv.url);
    await join(doc, { name: 'Dr Ana', room: 'visit-restart', passcode: code });
    await join(pat, { name: 'Pat', room: 'visit-restart', passcode: code });
    await waitFrames(doc, 'Pat');
    await waitFrames(pat, 'Dr Ana');
    assert.equal(await srv.stop(), 0);
    srv = null;
    for (const p of [doc, pat]) {
      await p.page.waitForSelector('#banner:not([hidden])');
      assert.equal(await text(p, '#banner'), 'Connection lost. Reconnecting…');
    }
    await shoot(pat, 'call-reconnecting');
    srv = await startServer(env, { dataDir, listen });
    for (const p of [doc, pat]) await p.page.waitForSelector('#banner', { state: 'hidden' });
    await waitFrames(doc, 'Pat');
    await waitFrames(pat, 'Dr Ana');
    assert.ok(await pat.page.locator('#call').isVisible());
    // The browser logs each refused reconnection attempt while the server is down.
    await closeAll(/WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/);
  } finally {
    if (srv) await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('phones: every control reachable at 360 px wide, portrait and landscape', async () => {
  await visit('visit-phone');
  const doc = await app({ who: 'clinician' });
  await join(doc, { name: 'Dr Ana', room: 'visit-phone', passcode: passcode() });
  for (const viewport of [{ width: 360, height: 640 }, { width: 640, height: 360 }, PHONE]) {
    const pat = await app({ who: `patient ${viewport.width}x${viewport.height}`, viewport });
    // Before joining every field and button can be scrolled to and used.
    await pat.page.click('#devices summary');
    for (const sel of ['#lang', '#pre-mic', '#pre-cam', '#name', '#room', '#passcode', '#create',
      '#prejoin select[data-kind=camera]', '#prejoin select[data-kind=microphone]', '#join']) {
      const el = pat.page.locator(sel);
      await el.scrollIntoViewIfNeeded();
      const box = await el.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width + 0.5
        && box.y >= 0 && box.y + box.height <= viewport.height + 0.5, `${pat.who} ${sel}: ${JSON.stringify(box)}`);
    }
    // The Join button is in sight from the start.
    await pat.page.evaluate(() => document.scrollingElement.scrollTo(0, 0));
    const joinBox = await pat.page.locator('#join').boundingBox();
    assert.ok(joinBox.y + joinBox.height <= viewport.height, `${pat.who}: Join in sight ${JSON.stringify(joinBox)}`);
    await join(pat, { name: 'Pat', room: 'visit-phone', passcode: passcode() });
    await waitFrames(pat, 'Dr Ana');
    assertControlsUsable(await controlsUsable(pat), pat.who);
    await pat.page.click('#people-btn');
    const close = pat.page.locator('#people .close');
    assert.ok(await close.isVisible());
    await close.click();
    assert.ok(await pat.page.locator('#people').isHidden());
    if (viewport.width === 640) await pat.page.screenshot({ path: path.join(process.env.HQ_WEB_SHOTS || tmpdir(), 'call-landscape-640x360.png') });
    await pat.page.click('#leave');
    await pat.page.waitForSelector('#postcall:not([hidden])');
    await pat.context.close();
    web.opened.splice(web.opened.indexOf(pat), 1);
  }
  await closeAll();
});

test('accessibility: no serious or critical axe-core violation before joining and in the call', async () => {
  await visit('visit-axe');
  const check = async (p, where) => {
    const found = await axeViolations(p);
    assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 1)}`);
  };
  for (const viewport of [DESKTOP, PHONE]) {
    const doc = await app({ who: 'clinician', viewport, bypassCSP: true });
    const pat = await app({ who: 'patient', viewport, bypassCSP: true });
    await check(doc, `pre-join ${viewport.width}`);
    await fillJoin(doc, { name: 'Dr Ana', room: 'no-such-visit', passcode: passcode() });
    await doc.page.click('#join');
    await doc.page.waitForSelector('#join-error:not([hidden])');
    await check(doc, `pre-join with an error ${viewport.width}`);
    await join(doc, { name: 'Dr Ana', room: 'visit-axe', passcode: passcode() });
    await join(pat, { name: 'Pat', room: 'visit-axe', passcode: passcode() });
    await waitFrames(doc, 'Pat');
    await waitTile(doc, 'Pat', (s) => s.present, 'Pat');
    await doc.page.waitForSelector('.tile[data-name="Pat"] .quality:not([hidden])');
    await check(doc, `in the call ${viewport.width}`);
    await doc.page.click('#people-btn');
    await check(doc, `people list ${viewport.width}`);
    await doc.page.click('#leave');
    await doc.page.waitForSelector('#postcall:not([hidden])');
    await check(doc, `after the call ${viewport.width}`);
    await closeAll();
  }
});

test('the page itself: the old protocol client is gone, the SDK is what it uses', async () => {
  const res = await fetch(`${server.url}/hqclient.js`);
  assert.equal(res.status, 404);
  const page = await (await fetch(`${server.url}/app.js`)).text();
  assert.match(page, /from '\/sdk\/video\.js'/);
  // Every file of web/ is served (hq-server serves a fixed list).
  for (const file of readdirSync(path.join(ROOT, 'web')).filter((f) => /\.(js|css|svg)$/.test(f))) {
    assert.equal((await fetch(`${server.url}/${file}`)).status, 200, file);
  }
});
