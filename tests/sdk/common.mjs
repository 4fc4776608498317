// What the sdk suite's browser tests share: the site hq-server serves to
// the test pages, a back end's REST call, and polling a page.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const HERE = path.dirname(new URL(import.meta.url).pathname);

// The test app (tests/sdk/app) stands where hq-server's web client stands
// (HQ_WEB_DIR), the SDK next to it as in the source tree: the server
// serves both.  Returns the folder; the caller removes it.
export function testSite() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hq-sdk-site-'));
  cpSync(path.join(HERE, 'app'), path.join(dir, 'web'), { recursive: true });
  cpSync(path.join(HERE, '..', '..', 'web', 'favicon.svg'), path.join(dir, 'web', 'favicon.svg'));
  mkdirSync(path.join(dir, 'sdk', 'js'), { recursive: true });
  symlinkSync(path.resolve(HERE, '..', '..', 'sdk', 'js', 'video'), path.join(dir, 'sdk', 'js', 'video'));
  return dir;
}

// A back end's POST with the API key `key` ({sid, secret}; docs/rooms.md,
// docs/tokens.md), checked to answer `status`; resolves with the body.
export async function restPost(base, key, pathname, params, status) {
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

// Polls `fn` in the page of `p` ({page, identity}) until it returns a
// value whose `ok` is not false; on timeout the error shows what it
// returned last.
export async function waitFor(p, fn, arg, what, ms = 60000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await p.page.evaluate(fn, arg);
    if (last && last.ok !== false) return last;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.identity}: timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}
