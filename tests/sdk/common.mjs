// What the sdk suite's browser tests share: the site hq-server serves to
// the test pages, a back end's REST call, and polling a page.
import { restCall, waitFor } from './helpers.mjs';
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

// A back end's POST with the API key `key` ({sid, secret}), and polling a
// page: the suite's helpers (helpers.mjs), under the names the
// extensions test uses.
export const restPost = (base, key, pathname, params, status) => restCall(key, base, pathname, params, status);
export { waitFor };
