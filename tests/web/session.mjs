// What every web test file shares: one hq-server (with `env`) and one
// Chromium for the file, the pages a test opens, and closing them with
// their errors checked.  `ready(s)` is called once the server and the
// browser are up (s.server, s.browser).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import { openApp } from './webpage.mjs';

export function webSession(env, ready = () => {}) {
  const s = {
    server: null,
    browser: null,
    opened: [],
    // A page of the app (opts as openApp's, and `browser`, `query`), on
    // this file's server or at `base`.
    async app(opts = {}, base = s.server.url) {
      const p = await openApp(opts.browser || s.browser, `${base}/${opts.query || ''}`, opts);
      s.opened.push(p);
      return p;
    },
    // Closes the pages; none may have had an error, but for the `expected` ones.
    async closeAll(expected = null) {
      const problems = s.opened.flatMap((p) => p.problems).filter((m) => !expected?.test(m));
      for (const p of s.opened.splice(0)) await p.context.close();
      assert.deepEqual(problems, []);
    },
  };
  before(async () => {
    s.server = await startServer(env);
    s.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    ready(s);
  });
  after(async () => {
    await s.browser?.close();
    if (s.server) assert.equal(await s.server.stop(), 0, s.server.log());
  });
  return s;
}
