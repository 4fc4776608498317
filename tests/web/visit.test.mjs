// The consultation web app's chat panel, recording notice, the others'
// reconnecting state and the phone pre-join layout, with a real hq-server
// (its recorder child too) and headless Chromium: two or three people per
// flow, each test checking what they see.  Suite `web`; screenshots under
// $HQ_WEB_SHOTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { startServer } from '../browser/hqserver.mjs';
import { ROOT, PHONE, join, waitTile, waitFrames, shoot, axeViolations } from './webpage.mjs';
import { tcpRelay } from './tcprelay.mjs';
import { webSession } from './session.mjs';

const MAX_SIZE = 100000; // the test server's largest attachment
const WEB_ENV = { HQ_WEB_DIR: path.join(ROOT, 'web'), HQ_CHAT_MEDIA_MAX_SIZE: String(MAX_SIZE) };
const PHONE_360 = { width: 360, height: 640 };
let server;
const web = webSession(WEB_ENV, (s) => ({ server } = s));
const { closeAll } = web;
// Pages axe-core can be injected into.
const app = (opts = {}, base = undefined) => web.app({ bypassCSP: true, ...opts }, base);

async function visit(name, srv = server) {
  const res = await srv.rest('POST', '/v1/Rooms', { UniqueName: name });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  return JSON.parse(body).sid;
}

const who = (srv = server) => ({ passcode: srv.credentials().passcode });

async function noAxe(p, where) {
  const found = await axeViolations(p);
  assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 1)}`);
}

// A small PNG of one colour (w x h), made here.
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: h }, () => row)))), chunk('IEND', Buffer.alloc(0))]);
}

// What the chat panel shows: one entry per message.
function chatLog(p) {
  return p.page.$$eval('#chat-log li', (lis) => lis.map((li) => ({
    author: li.querySelector('.author').textContent,
    time: Boolean(li.querySelector('time').dateTime && li.querySelector('time').textContent),
    body: li.querySelector('.body')?.textContent ?? null,
    file: li.querySelector('.file-name')?.textContent ?? null,
    image: li.querySelector('img')?.naturalWidth ?? null,
  })));
}

async function waitLog(p, n, what) {
  await p.page.waitForFunction((k) => document.querySelectorAll('#chat-log li').length >= k, n)
    .catch((e) => { throw new Error(`${p.who}: ${what}: ${e.message}`); });
  return chatLog(p);
}

// The chat button's badge and label as the person sees them.
function chatButton(p) {
  return p.page.evaluate(() => {
    const b = document.getElementById('chat-btn');
    const badge = b.querySelector('.badge');
    return { label: b.getAttribute('aria-label'), badge: badge.checkVisibility() ? badge.textContent : null };
  });
}

// Picks a file through the attach button's file chooser, as a person does.
async function attach(p, file) {
  const [chooser] = await Promise.all([p.page.waitForEvent('filechooser'), p.page.click('#chat-attach')]);
  await chooser.setFiles(file);
}

test('chat: messages both ways, unread count, attachments opened by the other, plain errors, history for a late joiner', async () => {
  await visit('visit-chat');
  const doc = await app({ who: 'clinician' });
  const pat = await app({ who: 'patient', viewport: PHONE_360 });
  await join(doc, { name: 'Dr Ana', room: 'visit-chat', ...who() });
  await join(pat, { name: 'Pat', room: 'visit-chat', ...who() });
  await waitFrames(doc, 'Pat');
  // The chat button is on the bar, usable on a 360 px phone, nothing unread.
  for (const p of [doc, pat]) {
    const b = await p.page.locator('#chat-btn').boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= p.page.viewportSize().width && b.width >= 40, `${p.who}: ${JSON.stringify(b)}`);
    assert.deepEqual(await chatButton(p), { label: 'Chat', badge: null });
  }

  // The clinician opens the chat (focus goes to the message box) and
  // sends two messages with Enter; Shift+Enter makes a new line.
  await doc.page.click('#chat-btn');
  assert.equal(await doc.page.getAttribute('#chat-btn', 'aria-expanded'), 'true');
  await doc.page.waitForFunction(() => document.activeElement.id === 'chat-input' && !document.activeElement.disabled);
  await doc.page.keyboard.type('Hello Pat, can you hear me?');
  await doc.page.keyboard.press('Enter');
  await waitLog(doc, 1, 'its own message');
  assert.equal(await doc.page.inputValue('#chat-input'), '');
  await doc.page.keyboard.type('Line one');
  await doc.page.keyboard.press('Shift+Enter');
  await doc.page.keyboard.type('line two');
  await doc.page.keyboard.press('Enter');
  // The patient, chat closed, sees the unread count grow.
  await pat.page.waitForFunction(() => document.querySelector('#chat-btn .badge').textContent === '2');
  assert.deepEqual(await chatButton(pat), { label: 'Chat, 2 unread', badge: '2' });
  await shoot(pat, 'call-chat-unread');
  // Opening the chat shows both, who and when, and clears the count.
  await pat.page.click('#chat-btn');
  assert.deepEqual(await waitLog(pat, 2, 'the two messages'), [
    { author: 'Dr Ana', time: true, body: 'Hello Pat, can you hear me?', file: null, image: null },
    { author: 'Dr Ana', time: true, body: 'Line one\nline two', file: null, image: null },
  ]);
  assert.deepEqual(await chatButton(pat), { label: 'Chat', badge: null });
  // The panel covers the phone's screen; its box and buttons fit 360 px.
  for (const sel of ['#chat-input', '#chat-send', '#chat-attach', '#chat .close']) {
    const b = await pat.page.locator(sel).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 360 && b.y + b.height <= 640 && b.height >= 40, `${sel}: ${JSON.stringify(b)}`);
  }
  await pat.page.fill('#chat-input', 'Yes, I hear you well.');
  await pat.page.click('#chat-send');
  assert.equal((await waitLog(doc, 3, 'the reply'))[2].body, 'Yes, I hear you well.');
  assert.equal((await chatLog(pat))[2].author, 'You');
  // The clinician had the chat open: nothing counted as unread.
  assert.deepEqual(await chatButton(doc), { label: 'Chat', badge: null });

  // Attachments: a text file, downloaded by the other with the same bytes,
  // and a picture, shown as a preview.
  const notes = Buffer.from('Blood pressure 120/80\nTake one tablet a day.\n');
  await attach(pat, { name: 'notes.txt', mimeType: 'text/plain', buffer: notes });
  const log4 = await waitLog(doc, 4, 'the text file');
  assert.deepEqual(log4[3], { author: 'Pat', time: true, body: null, file: 'notes.txt', image: null });
  assert.equal((await doc.page.textContent('#chat-log li:nth-child(4) a.file')).trim(), `Download notes.txt (${notes.length} bytes)`);
  const [download] = await Promise.all([doc.page.waitForEvent('download'),
    doc.page.click('#chat-log li:nth-child(4) a.file')]);
  assert.equal(download.suggestedFilename(), 'notes.txt');
  assert.deepEqual(readFileSync(await download.path()), notes);
  await attach(doc, { name: 'rash.png', mimeType: 'image/png', buffer: png(64, 48, [200, 40, 40]) });
  await pat.page.waitForFunction(() => document.querySelector('#chat-log li:nth-child(5) img')?.naturalWidth === 64);
  assert.deepEqual((await chatLog(pat))[4], { author: 'Dr Ana', time: true, body: null, file: 'rash.png', image: 64 });
  await shoot(pat, 'call-chat');

  // What the server does not take, said plainly; nothing is sent.
  await attach(pat, { name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') });
  await pat.page.waitForSelector('#chat-error:not([hidden])');
  assert.equal((await pat.page.textContent('#chat-error')).trim(), '"setup.exe" cannot be sent: this kind of file '
    + 'is not allowed. You can send: PDF, JPEG, PNG, GIF, WebP, text files.');
  await attach(pat, { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(150000, 1) });
  await pat.page.waitForFunction(() => /too large/.test(document.getElementById('chat-error').textContent));
  assert.equal((await pat.page.textContent('#chat-error')).trim(),
    '"scan.pdf" is too large to send (146 KB). Files can be at most 98 KB.');
  await shoot(pat, 'call-chat-error');
  await pat.page.fill('#chat-input', 'Sorry, the scan is too big.');
  await pat.page.keyboard.press('Enter');
  await pat.page.waitForSelector('#chat-error', { state: 'hidden' });
  const log6 = await waitLog(doc, 6, 'the message after the refusals');
  assert.equal(log6.length, 6);
  assert.equal(log6[5].body, 'Sorry, the scan is too big.');

  // axe-core with the chat open, desktop and phone.
  await noAxe(doc, 'chat open, desktop');
  await noAxe(pat, 'chat open, phone');

  // 45 more (through the page's chat, to be quick): the visit now has 51.
  await doc.page.evaluate(async () => {
    for (let i = 1; i <= 45; i++) await window.hqApp.chat.conversation.sendMessage(`Note ${i}`);
  });
  await waitLog(pat, 51, 'the 45 notes');

  // A late joiner (Spanish browser) finds the earlier messages, attachments
  // included, none counted as unread: the last 50, then the first one
  // with "earlier messages"; a new one is counted.
  const fay = await app({ who: 'family', locale: 'es-ES' });
  await join(fay, { name: 'Fay', room: 'visit-chat', ...who() });
  await fay.page.waitForFunction(() => window.hqApp.chat.conversation && !document.getElementById('chat-input').disabled);
  assert.deepEqual(await chatButton(fay), { label: 'Chat', badge: null });
  await fay.page.click('#chat-btn');
  assert.equal(await fay.page.getAttribute('#chat-input', 'placeholder'), 'Escriba un mensaje');
  const last50 = await waitLog(fay, 50, 'the last 50');
  assert.deepEqual([last50.length, last50[0].body, last50[49].body], [50, 'Line one\nline two', 'Note 45']);
  assert.equal((await fay.page.textContent('#chat-earlier')).trim(), 'Ver mensajes anteriores');
  await fay.page.click('#chat-earlier');
  const history = (await waitLog(fay, 51, 'the first message')).slice(0, 6);
  assert.ok(await fay.page.locator('#chat-earlier').isHidden());
  assert.deepEqual(history.map((m) => [m.author, m.body ?? m.file]), [
    ['Dr Ana', 'Hello Pat, can you hear me?'], ['Dr Ana', 'Line one\nline two'], ['Pat', 'Yes, I hear you well.'],
    ['Pat', 'notes.txt'], ['Dr Ana', 'rash.png'], ['Pat', 'Sorry, the scan is too big.']]);
  await fay.page.waitForFunction(() => document.querySelector('#chat-log li:nth-child(5) img')?.naturalWidth === 64);
  const [again] = await Promise.all([fay.page.waitForEvent('download'), fay.page.click('#chat-log li:nth-child(4) a.file')]);
  assert.deepEqual(readFileSync(await again.path()), notes);
  await fay.page.click('#chat .close');
  await doc.page.fill('#chat-input', 'Welcome, Fay.');
  await doc.page.keyboard.press('Enter');
  await fay.page.waitForFunction(() => document.querySelector('#chat-btn .badge').textContent === '1');
  assert.deepEqual(await chatButton(fay), { label: 'Chat, 1 sin leer', badge: '1' });
  // The patient's phone had the chat open: the new message, no count.
  await waitLog(pat, 52, 'the welcome');
  assert.deepEqual(await chatButton(pat), { label: 'Chat', badge: null });
  await closeAll();
});

// Every page's recording mark and consent notice, as a person sees them.
function recordingSeen(p) {
  return p.page.evaluate(() => {
    const dialog = document.getElementById('rec-consent');
    return {
      mark: document.getElementById('rec-indicator').checkVisibility(),
      markLabel: document.getElementById('rec-indicator').getAttribute('aria-label'),
      notice: dialog.open && dialog.checkVisibility(),
      title: dialog.querySelector('h2').textContent,
      text: document.getElementById('rec-text').textContent,
    };
  });
}

async function waitRecording(p, fn, what) {
  const deadline = Date.now() + 120000;
  let last;
  while (Date.now() < deadline) {
    last = await recordingSeen(p);
    if (fn(last)) return last;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.who}: timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

test('recording notice: the mark and the consent notice on every page while the clinic records, gone when it stops', async () => {
  const sid = await visit('visit-rec');
  const doc = await app({ who: 'clinician' });
  const pat = await app({ who: 'patient', viewport: PHONE });
  await join(doc, { name: 'Dr Ana', room: 'visit-rec', ...who() });
  await join(pat, { name: 'Pat', room: 'visit-rec', ...who() });
  await waitFrames(doc, 'Pat');
  for (const p of [doc, pat]) {
    const seen = await recordingSeen(p);
    assert.equal(seen.mark || seen.notice, false, `${p.who}: nothing recorded yet`);
  }
  // The clinic's back-end starts recording (REST recording rules, API key).
  const rules = await server.rest('POST', `/v1/Rooms/${sid}/RecordingRules`, { Rules: JSON.stringify([{ type: 'include', all: true }]) });
  assert.equal(rules.status, 200, await rules.text());
  for (const p of [doc, pat]) {
    const seen = await waitRecording(p, (s) => s.mark && s.notice, 'the recording mark and notice');
    assert.equal(seen.title, 'This visit is being recorded');
    assert.equal(seen.markLabel, 'This visit is being recorded');
    assert.equal(seen.text, 'Your clinic is recording this visit. What you say and show from now on is recorded.');
    assert.equal(await p.page.evaluate(() => document.activeElement.id), 'rec-ack');
  }
  await shoot(pat, 'call-recording-notice');
  await noAxe(pat, 'the recording notice, phone');
  // Escape does not dismiss it; "I understand" does, and the mark stays.
  await pat.page.keyboard.press('Escape');
  assert.equal((await recordingSeen(pat)).notice, true);
  await pat.page.click('#rec-ack');
  const after = await recordingSeen(pat);
  assert.deepEqual([after.mark, after.notice], [true, false]);
  await shoot(pat, 'call-recording');
  await noAxe(pat, 'the recording mark, phone');
  // Who joins while it records is told at once.
  const fay = await app({ who: 'family' });
  await join(fay, { name: 'Fay', room: 'visit-rec', ...who() });
  await waitRecording(fay, (s) => s.mark && s.notice, 'the notice on joining');
  await fay.page.click('#rec-ack');

  // Stopped: the mark goes on every page, and the notice the clinician
  // never answered closes by itself.
  const stop = await server.rest('POST', `/v1/Rooms/${sid}/RecordingRules`, { Rules: '[]' });
  assert.equal(stop.status, 200, await stop.text());
  for (const p of [doc, pat, fay]) {
    await waitRecording(p, (s) => !s.mark && !s.notice, 'the mark to go');
    assert.equal((await p.page.textContent('#announce')).trim(), 'Recording has stopped.');
  }
  await waitFrames(doc, 'Pat');
  await closeAll();
});

// The tile and people-list row of `name` on `p`: reconnecting or not.
function reconnectingSeen(p, name) {
  return p.page.evaluate((n) => {
    const tile = document.querySelector(`#stage .tile[data-name="${n}"]`);
    const row = [...document.querySelectorAll('#people-list li')].find((li) => li.querySelector('.who').textContent === n);
    return {
      tile: tile ? (tile.querySelector('.reconn').checkVisibility() ? tile.querySelector('.reconn').textContent : '') : null,
      row: row ? row.querySelector('.states').textContent : null,
    };
  }, name);
}

async function waitReconnecting(p, name, want, what) {
  const deadline = Date.now() + 90000;
  let last;
  while (Date.now() < deadline) {
    last = await reconnectingSeen(p, name);
    if (last.tile === want.tile && last.row === want.row) return last;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.who}: timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

test('others reconnecting: a patient whose connection drops is shown reconnecting, then back; then gone when they do not return', async () => {
  const srv = await startServer({ ...WEB_ENV, HQ_RECONNECT_GRACE_MS: '15000' });
  // The patient reaches the server through a relay whose connections we
  // cut (a Wi-Fi drop); media goes straight to the server over UDP.
  const relay = await tcpRelay(srv.url);
  try {
    await visit('visit-drop', srv);
    const doc = await app({ who: 'clinician' }, srv.url);
    const pat = await app({ who: 'patient', viewport: PHONE }, relay.url);
    const fay = await app({ who: 'family', viewport: PHONE }, srv.url);
    await join(doc, { name: 'Dr Ana', room: 'visit-drop', ...who(srv) });
    await join(pat, { name: 'Pat', room: 'visit-drop', ...who(srv) });
    await join(fay, { name: 'Fay', room: 'visit-drop', ...who(srv) });
    await waitFrames(doc, 'Pat');
    await doc.page.click('#people-btn');
    await fay.page.click('#people-btn');
    const fine = { tile: '', row: '' };
    for (const p of [doc, fay]) await waitReconnecting(p, 'Pat', fine, 'Pat connected');

    relay.cut();
    const dropped = { tile: 'Reconnecting…', row: 'Reconnecting…' };
    for (const p of [doc, fay]) await waitReconnecting(p, 'Pat', dropped, 'Pat shown reconnecting');
    assert.equal((await doc.page.textContent('#announce')).trim(), 'Pat lost their connection. Reconnecting…');
    await doc.page.click('#people .close');
    await shoot(doc, 'call-other-reconnecting');
    await shoot(fay, 'call-other-reconnecting-people');
    await pat.page.waitForSelector('#banner:not([hidden])');

    relay.restore();
    for (const p of [doc, fay]) await waitReconnecting(p, 'Pat', fine, 'Pat back');
    assert.equal((await doc.page.textContent('#announce')).trim(), 'Pat is back.');
    await pat.page.waitForSelector('#banner', { state: 'hidden' });
    await waitFrames(doc, 'Pat');
    await waitFrames(pat, 'Dr Ana');

    // Dropped again, and this time the patient does not come back: after
    // the server's grace period the tile and the row go.
    relay.cut();
    for (const p of [doc, fay]) await waitReconnecting(p, 'Pat', dropped, 'Pat reconnecting again');
    await pat.context.close();
    for (const p of [doc, fay]) await waitReconnecting(p, 'Pat', { tile: null, row: null }, 'Pat gone');
    await waitTile(doc, 'Fay', (s) => s.present && s.frames > 0, 'Fay still there');
    // The patient's browser logs its refused reconnection attempts.
    await closeAll(/^patient: WebSocket connection to .* failed/);
  } finally {
    await relay.close();
    assert.equal(await srv.stop(), 0, srv.log());
  }
});

test('phone pre-join: scrolled, nothing covers the camera preview', async () => {
  const p = await app({ who: 'patient', viewport: PHONE });
  await p.page.click('#devices summary'); // the form is now taller than the screen
  const preview = p.page.locator('#prejoin .preview');
  const box0 = await preview.boundingBox();
  // Scroll as a finger would, a little at a time, over the preview; at
  // each step every visible row of the preview is the preview's own.
  for (let step = 0; step < 4; step++) {
    const r = await preview.boundingBox();
    await p.page.mouse.move(r.x + r.width / 2, Math.max(r.y, 60) + 5);
    await p.page.mouse.wheel(0, 50);
    await p.page.waitForFunction((top) => document.querySelector('#prejoin .preview').getBoundingClientRect().top < top, r.y);
    const covered = await p.page.evaluate(() => {
      const el = document.querySelector('#prejoin .preview');
      const b = el.getBoundingClientRect();
      const rows = [];
      for (let y = Math.max(0, Math.ceil(b.top)); y < Math.min(innerHeight, b.bottom); y += 4) {
        const hit = document.elementFromPoint(b.left + b.width / 2, y);
        if (!el.contains(hit)) rows.push({ y, by: hit?.className || hit?.tagName });
      }
      return rows;
    });
    assert.deepEqual(covered, [], `step ${step}: preview rows covered`);
  }
  assert.ok((await preview.boundingBox()).y < box0.y, 'the page scrolled');
  await shoot(p, 'prejoin-scrolled');
  await closeAll();
});
