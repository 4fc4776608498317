// A Twilio Video customer's back-end, written against the official
// `twilio` npm package, run unchanged against hq-server: only the host of
// each request is rewritten (helpers.mjs).  Suite `twilio`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../browser/hqserver.mjs';
import { credentials, client } from './helpers.mjs';

let srv, creds, tw;

before(async () => {
  srv = await startServer({ HQ_CALLBACK_RETRY_MS: '50' });
  creds = credentials(srv.dataDir);
  tw = client(srv.url, creds);
});

after(async () => {
  assert.equal(await srv.stop(), 0, srv.log());
});

// Every refusal reads through err.status, err.code and err.message.
async function rejects(promise, status, code, words) {
  const err = await promise.then(() => null, (e) => e);
  assert.ok(err, 'the call should have failed');
  assert.equal(err.status, status, err.message);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, words);
  assert.match(err.moreInfo, /^https:\/\//);
}

test('errors read through err.code and err.message', async () => {
  await rejects(tw.video.v1.rooms('RM00000000000000000000000000000000').fetch(),
    404, 20404, /no room|There is/i);
  await rejects(tw.video.v1.rooms.create({ type: 'no-such-type' }), 400, 20001, /type/i);
  await tw.video.v1.rooms.create({ uniqueName: 'taken' });
  await rejects(tw.video.v1.rooms.create({ uniqueName: 'taken' }), 409, 53113, /in progress/);
  const wrong = client(srv.url, { ...creds, key_secret: 'x'.repeat(32) });
  await rejects(wrong.video.v1.rooms.list(), 401, 20003, /secret is wrong/);
});
