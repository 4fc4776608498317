// The consultation web app in an end-to-end encrypted visit (docs/e2ee.md):
// three pages opened with the room secret in the link's fragment see each
// other, each shows "End-to-end encrypted" with one verification code;
// when one leaves, the others get new keys (a new epoch), keep seeing
// each other, and both show the same new code.  Suites `web` and `e2ee`;
// screenshots under $HQ_WEB_SHOTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, PHONE, join, waitFrames, shoot, axeViolations } from './webpage.mjs';
import { webSession } from './session.mjs';

const SECRET = 'k7Qe2ZpL0wXv9sR4tYbN1mC8';
let server;
const web = webSession({ HQ_WEB_DIR: path.join(ROOT, 'web') }, (s) => ({ server } = s));
const app = (opts = {}) => web.app({ bypassCSP: true, query: `#e2ee=${encodeURIComponent(SECRET)}`, ...opts });

// What the page's mark says: shown, its words, its code.
function mark(p) {
  return p.page.evaluate(() => {
    const el = document.getElementById('e2ee-indicator');
    return {
      shown: Boolean(el) && el.checkVisibility(),
      text: el?.textContent ?? '',
      code: el?.dataset.code ?? null,
      label: el?.getAttribute('aria-label') ?? '',
    };
  });
}

async function waitMark(p, fn, what) {
  const deadline = Date.now() + 90000;
  let m = await mark(p);
  while (!fn(m)) {
    if (Date.now() > deadline) throw new Error(`${p.who}: ${what}; the mark is ${JSON.stringify(m)}`);
    await p.page.waitForTimeout(100);
    m = await mark(p);
  }
  return m;
}

test('end-to-end encrypted visit: the mark and one verification code on every page, a new code for those left when someone leaves', async () => {
  const res = await server.rest('POST', '/v1/Rooms', { UniqueName: 'visit-e2ee' });
  assert.equal(res.status, 201, await res.text());
  const passcode = server.credentials().passcode;
  const doc = await app({ who: 'clinician' });
  const pat = await app({ who: 'patient', viewport: PHONE });
  const fam = await app({ who: 'family' });
  // The fragment never reaches the server: the page asked for `/` only.
  assert.doesNotMatch(server.log(), new RegExp(SECRET));
  await join(doc, { name: 'Dr Ana', room: 'visit-e2ee', passcode });
  await join(pat, { name: 'Pat', room: 'visit-e2ee', passcode });
  await join(fam, { name: 'Fay', room: 'visit-e2ee', passcode });
  // Decrypted video both ways.
  await waitFrames(doc, 'Pat');
  await waitFrames(pat, 'Dr Ana');
  await waitFrames(fam, 'Dr Ana');
  const first = await waitMark(doc, (m) => m.shown && /^\d{6}$/.test(m.code), 'no code');
  assert.match(first.text, /End-to-end encrypted/);
  assert.match(first.label, new RegExp(`Verification code ${first.code.slice(0, 3)} ${first.code.slice(3)}`));
  for (const p of [pat, fam]) await waitMark(p, (m) => m.shown && m.code === first.code, `not code ${first.code}`);
  assert.deepEqual(await axeViolations(doc), []);
  // Fay leaves: Dr Ana and Pat get new keys and a new code, the same one.
  await fam.page.click('#leave');
  const after = await waitMark(doc, (m) => m.shown && m.code && m.code !== first.code, 'the code did not change');
  await waitMark(pat, (m) => m.code === after.code, `not the new code ${after.code}`);
  // Still decrypting each other in the new epoch.
  await waitFrames(doc, 'Pat');
  await waitFrames(pat, 'Dr Ana');
  const epochs = await Promise.all([doc, pat].map((p) => p.page.evaluate(() => window.hqApp.room.hqE2ee.epoch)));
  assert.deepEqual(epochs, [1, 1]);
  await shoot(doc, 'e2ee-call');
  await shoot(pat, 'e2ee-call-patient');
  await web.closeAll();
});
