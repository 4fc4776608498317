// Driving the consultation page (web/) as a person would, for the web
// tests and bench/web.mjs: open it, fill the form, join, and read what the
// page shows (tiles, icons, frames decoded on a tile's <video>).
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// A new page of the app at `url` (a fresh context: its own storage and
// permissions).  `problems` collects page errors and console errors.
export async function openApp(browser, url, { viewport = DESKTOP, locale = 'en-US', who = 'page', bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, locale, bypassCSP });
  // Deadlines, not waits: generous for a machine shared with other work.
  context.setDefaultTimeout(90000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${who}: ${e}`));
  page.on('console', (m) => {
    // A refused /token is the page's expected answer to a wrong passcode.
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(`${who}: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.hqApp?.ready === true);
  return { page, context, problems, who };
}

export async function fillJoin(p, { name, room, passcode, create = false }) {
  await p.page.fill('#name', name);
  await p.page.fill('#room', room);
  await p.page.fill('#passcode', passcode || '');
  await p.page.setChecked('#create', create);
}

// Fills the form, clicks Join and waits for the call screen.
export async function join(p, fields) {
  await fillJoin(p, fields);
  await p.page.click('#join');
  await p.page.waitForSelector('#call:not([hidden])');
}

// What the tile named `name` shows: {video: decoded width and frames
// presented so far (requestVideoFrameCallback), time}, whether the name
// tile (no video) and the muted-microphone icon are shown.
export function tileState(p, name) {
  return p.page.evaluate((n) => {
    const tile = [...document.querySelectorAll('#stage .tile')].find((t) => t.dataset.name === n);
    if (!tile) return { present: false };
    const v = tile.querySelector('video');
    if (!v.hqFrames) {
      v.hqFrames = { n: 0 };
      const tick = () => {
        v.hqFrames.n += 1;
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
    }
    const shown = (el) => Boolean(el) && el.checkVisibility();
    return {
      present: true,
      width: v.videoWidth,
      height: v.videoHeight,
      frames: v.hqFrames.n,
      time: v.currentTime,
      videoShown: shown(v),
      nameTile: shown(tile.querySelector('.avatar')),
      micOff: shown(tile.querySelector('.mic-off')),
      main: tile.classList.contains('main'),
      dominant: tile.classList.contains('dominant'),
    };
  }, name);
}

// Polls `fn(state)` on tileState until it holds; the error says what the
// tile showed last.
export async function waitTile(p, name, fn, what, ms = 90000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await tileState(p, name);
    if (fn(last)) return last;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.who}: timed out waiting for ${what} on the tile "${name}"; last: ${JSON.stringify(last)}`);
}

// Video really decoded and shown on `name`'s tile, and still coming.
export async function waitFrames(p, name, ms = 90000) {
  const first = await waitTile(p, name, (s) => s.present && s.videoShown && s.width > 0 && s.frames >= 3,
    'decoded video', ms);
  return waitTile(p, name, (s) => s.frames >= first.frames + 10 && s.time > first.time,
    'video to keep coming', ms);
}

// Audio bytes received from the participant shown as `name` (the room's
// getStats(), as the SDK reports it), 0 when none.
export function audioBytesFrom(p, name) {
  return p.page.evaluate(async (n) => {
    const room = window.hqApp.room;
    const who = [...room.participants.values()].find((x) => x.name === n);
    if (!who) return 0;
    const sids = new Set([...who.audioTracks.keys()]);
    let bytes = 0;
    for (const report of await room.getStats()) {
      for (const s of report.remoteAudioTrackStats) if (sids.has(s.trackSid)) bytes += s.bytesReceived || 0;
    }
    return bytes;
  }, name);
}

export async function waitAudio(p, name, ms = 90000) {
  const deadline = Date.now() + ms;
  const first = await audioBytesFrom(p, name);
  let last = first;
  while (Date.now() < deadline) {
    last = await audioBytesFrom(p, name);
    if (last > first + 2000) return last;
    await p.page.waitForTimeout(200);
  }
  throw new Error(`${p.who}: no audio received from ${name} (bytes ${first} -> ${last})`);
}

// Screenshots of the page as it is now at desktop and phone sizes, as
// <HQ_WEB_SHOTS>/<name>-<w>x<h>.png; the page returns to its size.
export async function shoot(p, name) {
  const dir = process.env.HQ_WEB_SHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const before = p.page.viewportSize();
  // The page's own size first, untouched (a resize loses the scroll position).
  const sizes = before.width === PHONE.width && before.height === PHONE.height ? [PHONE, DESKTOP] : [DESKTOP, PHONE];
  for (const size of sizes) {
    await p.page.setViewportSize(size);
    // Two animation frames: the layout follows the new size.
    await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await p.page.screenshot({ path: path.join(dir, `${name}-${size.width}x${size.height}.png`) });
  }
  await p.page.setViewportSize(before);
}

// axe-core's (node_modules/axe-core) serious and critical violations on
// the page as it is now (the page must be opened with bypassCSP).
export async function axeViolations(p) {
  await p.page.addScriptTag({ path: path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  return p.page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })));
}
