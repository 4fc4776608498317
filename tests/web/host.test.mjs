// Invite links, the waiting room and the clinician's tools in the
// consultation page (web/invite.js, waiting.js, host.js) with a real
// hq-server and headless Chromium: a clinician, a patient and a family
// member, each flow checked on what they see.  Suite `web`; screenshots
// under $HQ_WEB_SHOTS (docs/web.md shows them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import {
  ROOT, DESKTOP, PHONE, openApp, waitTile, waitFrames, waitAudio, shoot,
} from './webpage.mjs';

let browser;
let server;
const opened = [];
// What the browser logs for a refused /token: the page's expected answer
// to a used, unknown, expired or not yet started link.
const REFUSED = /status of 40[49]|status of 410/;

before(async () => {
  server = await startServer({ HQ_WEB_DIR: path.join(ROOT, 'web') });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

async function app(opts = {}) {
  const p = await openApp(browser, `${server.url}/${opts.link || ''}`, { bypassCSP: true, ...opts });
  opened.push(p);
  return p;
}

async function closeAll() {
  const problems = opened.flatMap((p) => p.problems).filter((m) => !REFUSED.test(m));
  for (const p of opened.splice(0)) await p.context.close();
  assert.deepEqual(problems, []);
}

// A visit the clinic's back-end made (REST, with the API key).
async function visit(fields) {
  const res = await server.rest('POST', '/v1/Visits', fields);
  const body = await res.text();
  assert.equal(res.status, 201, body);
  return JSON.parse(body);
}

const link = (l) => `#invite=${l.code}`;

async function text(p, sel) {
  return (await p.page.textContent(sel)).trim();
}

// Types the name and clicks Join (the link chose the visit).
async function joinByLink(p, name) {
  await p.page.fill('#name', name);
  await p.page.click('#join');
}

async function joined(p) {
  await p.page.waitForSelector('#call:not([hidden])');
}

async function joinError(p, words) {
  await p.page.waitForFunction((w) => document.getElementById('join-error').textContent.includes(w), words);
  return text(p, '#join-error');
}

async function axeClean(p, where) {
  await p.page.addScriptTag({ path: path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  const found = await p.page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })));
  assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 1)}`);
}

// The row of the host panel's list `list` (waiting or people) for `name`.
const row = (p, list, name) => p.page.locator(`#host-${list} li`, { hasText: name });

test('invite links: the host link starts the visit, the patient link works once, clear words for every other link', async () => {
  const v = await visit({ UniqueName: 'visit-link', WaitingRoom: false });
  // The patient opens the link before the clinician: only a name to type,
  // and "not started yet" (the link still works later).
  const pat = await app({ who: 'patient', viewport: PHONE, link: link(v.patient) });
  for (const id of ['#room', '#passcode', '#create']) assert.ok(await pat.page.locator(id).isHidden(), id);
  assert.match(await text(pat, '#pre-intro-invite'), /You were invited to a video visit/);
  await pat.page.fill('#name', 'Pat');
  await shoot(pat, 'invite-prejoin');
  await pat.page.click('#join');
  assert.equal(await joinError(pat, 'not started'),
    'This visit has not started yet. Keep this page open and try again at the time of your visit.');
  await shoot(pat, 'invite-not-started');

  // The clinician's link starts it: a host, with the host tools.
  const doc = await app({ who: 'clinician', link: link(v.host) });
  await joinByLink(doc, 'Dr Ana');
  await joined(doc);
  assert.ok(await doc.page.locator('#host-btn').isVisible());
  assert.equal(await doc.page.evaluate(() => window.hqApp.room.localParticipant.hqRole), 'host');
  // The code left the address bar (and so the history entry).
  assert.equal(await doc.page.evaluate(() => location.href), `${server.url}/`);

  // Now the patient's same link works: each sees and hears the other.
  await pat.page.click('#join');
  await joined(pat);
  assert.equal(await pat.page.evaluate(() => location.href), `${server.url}/`);
  assert.equal(await pat.page.locator('#host-btn').count(), 0, 'no host tools for a patient');
  await waitFrames(doc, 'Pat');
  await waitAudio(doc, 'Pat');
  await waitFrames(pat, 'Dr Ana');

  // The same patient link again (single-use): told so, in plain words.
  const again = await app({ who: 'again', link: link(v.patient) });
  await joinByLink(again, 'Pat');
  assert.equal(await joinError(again, 'already'), 'This link has already been used. Ask your clinic for a new one.');
  await shoot(again, 'invite-used');
  // A link with a code the server never made.
  const unknown = await app({ who: 'unknown', link: '#invite=ZZZZZZZZZZ' });
  await joinByLink(unknown, 'Pat');
  assert.equal(await joinError(unknown, 'not valid'),
    'This link is not valid. Check that you opened the whole link from your invitation, or ask your clinic for a new one.');
  // Expired links (their time set past in the store, as a day passing
  // would), in English and in Spanish.
  const old = await visit({ UniqueName: 'visit-link', MaxUses: 0 });
  execFileSync('python3', ['-c', 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); '
    + 'db.execute("UPDATE invites SET expires = 1"); db.commit()', path.join(server.dataDir, 'hq-server.db')]);
  const late = await app({ who: 'late', link: link(old.patient) });
  await joinByLink(late, 'Pat');
  assert.equal(await joinError(late, 'expired'), 'The link has expired, ask your clinic for a new one.');
  await shoot(late, 'invite-expired');
  const tarde = await app({ who: 'tarde', locale: 'es-ES', viewport: PHONE, link: link(old.patient) });
  await joinByLink(tarde, 'Lucía');
  assert.equal(await joinError(tarde, 'caducado'), 'El enlace ha caducado, pida uno nuevo a su clínica.');

  // The clinician makes new links in the page; the family joins by one.
  await doc.page.click('#host-btn');
  await doc.page.click('#host-links');
  await doc.page.waitForFunction(() => /#invite=[2-9A-Z]{10}$/.test(document.getElementById('host-link-patient')?.value || ''));
  const famLink = await doc.page.inputValue('#host-link-patient');
  assert.ok(famLink.startsWith(`${server.url}/#invite=`), famLink);
  assert.match(await doc.page.inputValue('#host-link-host'), /#invite=[2-9A-Z]{10}$/);
  assert.match(await text(doc, '#host'), /The patient link works once/);
  await shoot(doc, 'host-links');
  assert.equal(await text(doc, '#host-links-visit'), 'Links for this visit (visit-link):');
  const fay = await app({ who: 'family', link: famLink.slice(server.url.length + 1) });
  await joinByLink(fay, 'Fay');
  await joined(fay);
  await waitFrames(doc, 'Fay');
  await waitFrames(fay, 'Dr Ana');
  // And links for a new visit: another room, not started until its host
  // link is used.
  await doc.page.click('#host-new-visit');
  await doc.page.waitForFunction(() => /new visit, visit-/.test(document.getElementById('host-links-visit')?.textContent));
  const newVisit = (await text(doc, '#host-links-visit')).match(/(visit-[0-9a-z]{10})/)[1];
  const newCode = (await doc.page.inputValue('#host-link-patient')).split('#invite=')[1];
  const early = await fetch(`${server.url}/token`, {
    method: 'POST', body: JSON.stringify({ invite: newCode, user_identity: 'Pat' }),
  });
  assert.equal(early.status, 409, `${newVisit}: ${await early.text()}`);
  assert.equal((await server.rest('GET', `/v1/Rooms/${newVisit}`)).status, 404);
  await closeAll();
});

test('the waiting room: the patient waits with their preview, the clinician admits and sees and hears them, denies another with a reason', async () => {
  const v = await visit({ UniqueName: 'visit-wait' });
  const doc = await app({ who: 'clinician', link: link(v.host) });
  await joinByLink(doc, 'Dr Ana');
  await joined(doc);
  const pat = await app({ who: 'patient', viewport: PHONE, link: link(v.patient) });
  await joinByLink(pat, 'Pat');
  // The waiting screen: own camera playing, the words, a way out.
  await pat.page.waitForSelector('#waiting:not([hidden])');
  assert.equal(await text(pat, '#wait-title'), 'Waiting for your clinician');
  assert.match(await text(pat, '#waiting'), /Your clinician will let you in shortly/);
  await pat.page.waitForFunction(() => {
    const v = document.getElementById('wait-preview');
    return v.videoWidth > 0 && !v.paused && v.checkVisibility();
  });
  assert.ok(await pat.page.locator('#wait-leave').isEnabled());
  await shoot(pat, 'waiting');
  await axeClean(pat, 'waiting screen, phone');
  await pat.page.setViewportSize(DESKTOP);
  await axeClean(pat, 'waiting screen, desktop');
  await pat.page.setViewportSize(PHONE);
  // Not in the call yet: the clinician has no tile of them.
  assert.equal((await waitTile(doc, 'Pat', () => true, 'nothing')).present, false);

  // The clinician: a badge on Host tools, the queue with Admit and Deny.
  await doc.page.waitForFunction(() => document.querySelector('#host-btn .badge')?.dataset.n === '1' && !document.querySelector('#host-btn .badge').hidden);
  assert.equal(await doc.page.getAttribute('#host-btn', 'aria-label'), 'Host tools 1 waiting');
  await doc.page.click('#host-btn');
  const waitingRow = row(doc, 'waiting', 'Pat');
  await waitingRow.waitFor();
  assert.ok(await waitingRow.locator('button.admit').isEnabled());
  assert.ok(await waitingRow.locator('button.deny').isEnabled());
  await shoot(doc, 'host-waiting');
  await axeClean(doc, 'host panel, desktop');
  await doc.page.setViewportSize(PHONE);
  await axeClean(doc, 'host panel, phone');
  await doc.page.setViewportSize(DESKTOP);

  // Admitted: the patient publishes, the clinician sees and hears them.
  await waitingRow.locator('button.admit').click();
  await joined(pat);
  await waitFrames(doc, 'Pat');
  await waitAudio(doc, 'Pat');
  await waitFrames(pat, 'Dr Ana');
  await waitAudio(pat, 'Dr Ana');
  await doc.page.waitForFunction(() => document.querySelector('#host-btn .badge').hidden);
  assert.match(await text(doc, '#host-waiting-title'), /Waiting room \(0\)/);

  // Another patient (a new link of the same visit) is denied, with why.
  const more = await visit({ UniqueName: 'visit-wait' });
  const fay = await app({ who: 'second patient', link: link(more.patient) });
  await joinByLink(fay, 'Fay');
  await fay.page.waitForSelector('#waiting:not([hidden])');
  await row(doc, 'waiting', 'Fay').waitFor();
  await doc.page.fill('#host-reason', 'Please call the clinic to book a new time.');
  await row(doc, 'waiting', 'Fay').locator('button.deny').click();
  await fay.page.waitForSelector('#postcall:not([hidden])');
  assert.equal(await text(fay, '#post-title'), 'You were not let into the visit');
  assert.equal(await text(fay, '#post-reason'),
    'The clinic did not let you into this visit. The clinician said: "Please call the clinic to book a new time."');
  assert.ok(await fay.page.locator('#rejoin').isHidden());
  assert.equal(await fay.page.evaluate(() => document.getElementById('wait-preview').srcObject), null);
  await shoot(fay, 'denied');
  // A third one changes their mind: Leave goes back to the start, and
  // the clinician's queue lets them go.
  const last = await visit({ UniqueName: 'visit-wait' });
  const sam = await app({ who: 'third patient', link: link(last.patient) });
  await joinByLink(sam, 'Sam');
  await sam.page.waitForSelector('#waiting:not([hidden])');
  await row(doc, 'waiting', 'Sam').waitFor();
  await sam.page.click('#wait-leave');
  await sam.page.waitForSelector('#prejoin:not([hidden])');
  assert.ok(await sam.page.locator('#join-error').isHidden());
  await row(doc, 'waiting', 'Sam').waitFor({ state: 'detached' });
  // The admitted patient is still seen.
  await waitFrames(doc, 'Pat');
  await closeAll();
});

test('host controls: mute, remove with a reason, recording, end the visit for everyone', async () => {
  const v = await visit({ UniqueName: 'visit-host', WaitingRoom: false, MaxUses: 0 });
  const doc = await app({ who: 'clinician', link: link(v.host) });
  await joinByLink(doc, 'Dr Ana');
  await joined(doc);
  const pat = await app({ who: 'patient', viewport: PHONE, link: link(v.patient) });
  const fay = await app({ who: 'family', link: link(v.patient) });
  await joinByLink(pat, 'Pat');
  await joinByLink(fay, 'Fay');
  await joined(pat);
  await joined(fay);
  for (const [p, other] of [[doc, 'Pat'], [doc, 'Fay'], [pat, 'Dr Ana'], [fay, 'Pat']]) await waitFrames(p, other);
  // On a 360 px wide phone a host's bar, one button longer, still fits.
  await doc.page.setViewportSize({ width: 360, height: 640 });
  const bar = await doc.page.$$eval('.controls button:not([hidden])', (bs) => bs.map((b) => {
    const r = b.getBoundingClientRect();
    return { id: b.id, fits: r.left >= 0 && r.right <= innerWidth && r.width >= 36 };
  }));
  assert.ok(bar.length >= 8 && bar.every((b) => b.fits), JSON.stringify(bar));
  await doc.page.setViewportSize(DESKTOP);
  await doc.page.click('#host-btn');
  assert.equal(await doc.page.getAttribute('#host-btn', 'aria-expanded'), 'true');

  // Mute the patient: their own Mute button says so, everyone sees the icon.
  await row(doc, 'people', 'Pat').locator('button.mute').click();
  await pat.page.waitForSelector('#mic[aria-label="Unmute"]');
  assert.equal(await pat.page.textContent('#announce'), 'A host muted your microphone. Press Unmute to speak again.');
  for (const p of [doc, fay]) await waitTile(p, 'Pat', (s) => s.micOff, 'the muted-microphone icon');
  const muted = row(doc, 'people', 'Pat').locator('button.mute');
  await doc.page.waitForFunction(() => [...document.querySelectorAll('#host-people li')]
    .some((li) => li.textContent.includes('Pat') && li.querySelector('button.mute').disabled));
  assert.equal(await muted.textContent(), 'Muted');
  assert.equal(await muted.getAttribute('aria-label'), 'Pat is muted');
  // The patient may speak again.
  await pat.page.click('#mic');
  await waitTile(doc, 'Pat', (s) => !s.micOff, 'no muted-microphone icon');

  // Recording, started and stopped from the host tools.
  await doc.page.click('#host-record');
  await doc.page.waitForFunction(() => document.getElementById('host-rec-status').textContent === 'This visit is being recorded.');
  assert.equal(await text(doc, '#host-record'), 'Stop recording');
  assert.equal(await doc.page.getAttribute('#host-record', 'aria-pressed'), 'true');
  assert.ok(await pat.page.evaluate(() => window.hqApp.room.isRecording));
  // The patient is asked to acknowledge it; the host who started it only
  // sees the mark.
  await pat.page.waitForSelector('#rec-consent[open]');
  await doc.page.waitForSelector('#rec-indicator:not([hidden])');
  await doc.page.waitForFunction(() => !document.getElementById('rec-consent').open);
  await pat.page.click('#rec-ack');
  await shoot(doc, 'host-panel');
  await doc.page.click('#host-record');
  await doc.page.waitForFunction(() => document.getElementById('host-rec-status').textContent === 'Not recording.');
  assert.equal(await text(doc, '#host-record'), 'Start recording');

  // Remove the family member, with a reason they are shown.
  await doc.page.fill('#host-reason', 'The doctor will talk with Pat alone now.');
  await row(doc, 'people', 'Fay').locator('button.remove').click();
  await fay.page.waitForSelector('#postcall:not([hidden])');
  assert.equal(await text(fay, '#post-title'), 'You were removed from the visit');
  assert.equal(await text(fay, '#post-reason'),
    'A host removed you from the visit. The clinician said: "The doctor will talk with Pat alone now."');
  assert.ok(await fay.page.locator('#rejoin').isHidden());
  for (const p of [doc, pat]) await waitTile(p, 'Fay', (s) => !s.present, 'the removed tile to go');
  assert.equal(await doc.page.inputValue('#host-reason'), '', 'the reason is not kept for the next one');
  await shoot(fay, 'removed');

  // End the visit for everyone, after a second click to be sure.
  await doc.page.click('#host-end');
  assert.equal(await text(doc, '#host-end-q'), 'End the visit for everyone? Everyone will leave the call.');
  await shoot(doc, 'host-end-confirm');
  await doc.page.click('#host-end-yes');
  for (const p of [pat, doc]) {
    await p.page.waitForSelector('#postcall:not([hidden])');
    assert.equal(await text(p, '#post-title'), 'The visit has ended');
    assert.equal(await text(p, '#post-reason'), 'The clinician ended the visit for everyone.');
    assert.ok(await p.page.locator('#rejoin').isHidden());
  }
  await shoot(pat, 'ended');
  const room = await (await server.rest('GET', '/v1/Rooms/visit-host')).json();
  assert.equal(room.status, 'completed');
  assert.equal(room.end_reason, 'completed_by_host');
  await closeAll();
});
