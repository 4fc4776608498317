// What the sdk suite's tests share: a back end's REST call with an API
// key, and waiting in a page of a test app (tests/sdk/app/app.js or the
// TypeScript one, tests/sdk/tsapp/) for what it records and decodes.
import assert from 'node:assert/strict';
import { waitInPage } from '../browser/hqserver.mjs';

// A back end's REST call with the API key (docs/rooms.md, docs/tokens.md).
export async function restCall(key, base, pathname, params, status = 201) {
  const res = await fetch(base + pathname, {
    method: 'POST',
    headers: {
      Authorization: 'Basic ' + Buffer.from(`${key.sid}:${key.secret}`).toString('base64'),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  });
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  return body;
}

// A page `{page, problems, identity}` of a test app at `url`, once the app
// says it is ready.
export async function openApp(browser, url, identity) {
  const page = await browser.newPage();
  const problems = [];
  const lines = []; // the page's last console lines, shown when a wait fails
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
    lines.push(`${m.type()}: ${m.text()}`);
    if (lines.length > 40) lines.shift();
  });
  await page.goto(url);
  await waitInPage(page, () => window.appReady === true, undefined, 30000, 'the app to load the SDK');
  return { page, problems, identity, lines };
}

// Adds to a failed wait's error what the page recorded and logged last.
async function explained(p, wait, match) {
  try {
    return await wait;
  } catch (err) {
    const seen = await p.page.evaluate((t) => window.app.events.filter((e) => !t || e.type === t), match?.type)
      .catch(() => []);
    err.message += `\n${p.identity} recorded: ${JSON.stringify(seen.slice(-20))}`
      + `\n${p.identity} logged:\n  ${(p.lines || []).join('\n  ')}`;
    throw err;
  }
}

export const call = (p, fn, arg) => p.page.evaluate(fn, arg);

export function eventsOf(p, type) {
  return call(p, (t) => window.app.events.filter((e) => e.type === t), type);
}

export async function waitEvent(p, match, what) {
  return explained(p, waitInPage(p.page, (m) => window.app.events.find((e) => Object.entries(m).every(
    ([k, v]) => e[k] === v)), match, 60000, `${p.identity}: ${what || JSON.stringify(match)}`), match);
}

// Polls `fn` in the page until it returns a truthy value; on timeout the
// error shows what it returned last.
export async function waitFor(p, fn, arg, what, ms = 60000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await p.page.evaluate(fn, arg);
    if (last && last.ok !== false) return last;
    await p.page.waitForTimeout(100);
  }
  return explained(p, Promise.reject(new Error(`${p.identity}: timed out waiting for ${what}; last: ${JSON.stringify(last)}`)));
}

// Frames really decoded on the <video> attached for `from`'s video:
// videoWidth > 0, and the frame count and currentTime advance.
export async function waitFrames(p, from, name = null) {
  const first = await waitFor(p, ([who, n]) => {
    const v = window.app.remoteVideo(who, n);
    return { ok: v.elements === 1 && v.width > 0 && v.frames[0] >= 5, ...v };
  }, [from, name], `decoded video from ${from}${name ? ` (${name})` : ''}`);
  return waitFor(p, ([who, n, before]) => {
    const v = window.app.remoteVideo(who, n);
    return { ok: v.frames[0] >= before.frames[0] + 10 && v.time[0] > before.time[0], ...v };
  }, [from, name, first], `video from ${from} to keep coming`);
}
