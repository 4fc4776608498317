// A TypeScript app moved onto hqrooms the way issue 16 promises: its
// package.json names `twilio-video` as a `file:` dependency on
// sdk/js/video, it type-checks with `tsc --strict` against the package's
// declarations, esbuild bundles it, and hq-server serves the build folder
// in place of its web client (HQ_APP_DIR).  Two pages of the built app run
// a call's flows in headless Chromium.  Suite `sdk`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';
import { call, eventsOf, openApp, restCall, waitEvent, waitFrames } from './helpers.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ROOT = path.resolve(HERE, '..', '..');
const SDK_JS = path.join(ROOT, 'sdk', 'js');
const ACCOUNT = 'AC' + 'd4'.repeat(16);
const KEY = { sid: 'SK' + 'c3'.repeat(16), secret: 'sdk-tsapp-secret-0123456789' };
let top;
let appDir;
let browser;
let server;

const rest = (pathname, params, status = 201) => restCall(KEY, server.url, pathname, params, status);
const token = async (identity, room) => (await rest('/v1/AccessTokens', { Identity: identity, Room: room })).token;

// The app's folder copied where its package.json's relative `file:` paths
// lead as in the source tree (tests/sdk/tsapp -> ../../../sdk/js/...), the
// SDK packages linked there, and `npm install` run as a developer would.
before(async () => {
  top = mkdtempSync(path.join(tmpdir(), 'hq-sdk-tsapp-'));
  appDir = path.join(top, 'tests', 'sdk', 'tsapp');
  cpSync(path.join(HERE, 'tsapp'), appDir, {
    recursive: true, filter: (src) => !/[/\\](node_modules|build)$/.test(src),
  });
  mkdirSync(path.join(top, 'sdk'));
  symlinkSync(SDK_JS, path.join(top, 'sdk', 'js'));
  const npm = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: appDir, encoding: 'utf8' });
  assert.equal(npm.status, 0, `npm install failed:\n${npm.stdout}\n${npm.stderr}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  if (top) rmSync(top, { recursive: true, force: true });
});

test('the TypeScript app type-checks with tsc --strict against the package\'s declarations', () => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const config = JSON.parse(readFileSync(path.join(appDir, 'tsconfig.json'), 'utf8'));
  assert.equal(config.compilerOptions.strict, true);
  const out = spawnSync(process.execPath, [tsc, '-p', appDir, '--strict', '--listFiles'],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(out.status, 0, `tsc --strict found errors:\n${out.stdout}${out.stderr}`);
  // What tsc read besides its own lib files: the app and, for
  // `twilio-video` (through the app's node_modules link), this package's
  // index.d.ts.
  const read = out.stdout.split('\n').filter((f) => f && !f.includes('/node_modules/typescript/'));
  assert.deepEqual(read.sort(), [path.join(SDK_JS, 'conversations', 'index.d.ts'), path.join(SDK_JS, 'video', 'index.d.ts'),
    path.join(appDir, 'src', 'app.ts')].sort());
});

// A token as a Twilio back-end mints it with twilio-node (docs/tokens.md).
function twilioNodeToken(identity, room) {
  const { jwt } = createRequire(import.meta.url)('twilio');
  const token = new jwt.AccessToken(ACCOUNT, KEY.sid, KEY.secret, { identity, ttl: 3600 });
  token.addGrant(new jwt.AccessToken.VideoGrant({ room }));
  token.addGrant(new jwt.AccessToken.ChatGrant({ serviceSid: 'IS' + '0'.repeat(32) }));
  return token.toJwt();
}

test('the app bundled with esbuild, served by hq-server from its build folder: two pages call each other', async () => {
  const out = path.join(appDir, 'build');
  const result = await build({
    absWorkingDir: appDir, entryPoints: ['src/app.ts'], bundle: true, format: 'esm', target: 'chrome100',
    outfile: path.join(out, 'app.js'), sourcemap: true, logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
  cpSync(path.join(appDir, 'index.html'), path.join(out, 'index.html'));
  const bundle = readFileSync(path.join(out, 'app.js'), 'utf8');
  assert.doesNotMatch(bundle, /from\s*['"]twilio-video['"]|\/sdk\/video\.js/, 'the SDK is inside the bundle');

  // Its own data directory, to restart the server there (below).
  const dataDir = path.join(top, 'data');
  const env = {
    HQ_APP_DIR: out, HQ_RECONNECT_GRACE_MS: '8000',
    HQ_ACCOUNT_SID: ACCOUNT, HQ_API_KEY_SID: KEY.sid, HQ_API_KEY_SECRET: KEY.secret,
  };
  server = await startServer(env, { dataDir });
  const listen = new URL(server.url).host;
  await rest('/v1/Rooms', { UniqueName: 'sdk-ts', Type: 'group' });
  // A single-page app's route: the server answers it with index.html.
  const a = await openApp(browser, `${server.url}/room/sdk-ts`, 'ana');
  const b = await openApp(browser, `${server.url}/room/sdk-ts`, 'ben');
  try {
    assert.deepEqual(await call(a, () => window.app.about()), { version: '2.90.0', isSupported: true });
    for (const p of [a, b]) {
      assert.deepEqual(await call(p, () => window.app.preview()), ['audio', 'video']);
      await waitInPage(p.page, () => window.app.previewFrames().frames >= 5, undefined, 30000, 'the preview plays');
    }
    const joined = await call(b, ([t]) => window.app.join(t, 'sdk-ts'), [await token('ben', 'sdk-ts')]);
    assert.deepEqual([joined.name, joined.state], ['sdk-ts', 'connected']);
    await call(a, ([t]) => window.app.join(t, 'sdk-ts'), [await token('ana', 'sdk-ts')]);
    await waitEvent(b, { type: 'participantConnected', identity: 'ana' });
    for (const [p, other] of [[a, 'ben'], [b, 'ana']]) {
      await waitEvent(p, { type: 'trackSubscribed', identity: other, kind: 'audio' });
      await waitEvent(p, { type: 'trackSubscribed', identity: other, kind: 'video' });
      await waitFrames(p, other);
    }
    // Mute seen remotely, and unmute.
    assert.equal(await call(a, () => window.app.setEnabled('audio', false)), false);
    await waitEvent(b, { type: 'trackDisabled', identity: 'ana', kind: 'audio', enabled: false });
    assert.equal(await call(a, () => window.app.setEnabled('audio', true)), true);
    await waitEvent(b, { type: 'trackEnabled', identity: 'ana', kind: 'audio', enabled: true });
    // Camera off and on again, decoded again.
    const off = await call(a, () => window.app.cameraOff());
    await waitEvent(b, { type: 'trackUnsubscribed', identity: 'ana', kind: 'video', sid: off.unpublished });
    const on = await call(a, () => window.app.cameraOn());
    await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'video', sid: on.sid });
    await waitFrames(b, 'ana');
    // Chat through @twilio/conversations, with tokens as the reference
    // app's token server mints them with twilio-node (VideoGrant and
    // ChatGrant): each side sees the other's message.
    const chatA = await call(a, ([t]) => window.app.chat(t, 'sdk-ts'), [twilioNodeToken('ana', 'sdk-ts')]);
    const chatB = await call(b, ([t]) => window.app.chat(t, 'sdk-ts'), [twilioNodeToken('ben', 'sdk-ts')]);
    assert.equal(chatA.uniqueName, 'sdk-ts');
    assert.equal(chatA.sid, chatB.sid);
    await call(a, () => window.app.say('hello from the TypeScript app'));
    await waitEvent(b, { type: 'messageAdded', author: 'ana', body: 'hello from the TypeScript app' });
    await call(b, () => window.app.say('hola'));
    await waitEvent(a, { type: 'messageAdded', author: 'ben', body: 'hola' });
    // Screen share: a second video track, decoded remotely, then stopped.
    const shared = await call(a, () => window.app.shareScreen());
    assert.deepEqual(shared, { name: 'screen', kind: 'video', priority: 'high', videoTracks: 2 });
    await waitEvent(b, { type: 'trackSubscribed', identity: 'ana', kind: 'video', name: 'screen' });
    await waitFrames(b, 'ana', 'screen');
    assert.deepEqual(await call(a, () => window.app.stopScreen()), { name: 'screen', videoTracks: 1 });
    await waitInPage(b.page, () => window.app.remoteVideo('ana', 'screen').elements === 0, undefined, 30000,
      'the screen element removed');
    // Data tracks, messages both ways.
    for (const [p, other] of [[a, 'ben'], [b, 'ana']]) {
      assert.deepEqual(await call(p, () => window.app.publishData('notes')), { kind: 'data', name: 'notes', dataTracks: 1 });
      await waitEvent(other === 'ben' ? b : a, { type: 'trackSubscribed', identity: p.identity, kind: 'data', name: 'notes' });
    }
    await call(a, () => window.app.sendText('from ana'));
    await waitEvent(b, { type: 'trackMessage', identity: 'ana', name: 'notes', text: 'from ana' });
    await call(b, () => window.app.sendText('from ben'));
    await waitEvent(a, { type: 'trackMessage', identity: 'ben', name: 'notes', text: 'from ben' });
    // Dominant speaker: whoever is not muted (both fake microphones beep).
    await call(b, () => window.app.setEnabled('audio', false));
    await waitEvent(b, { type: 'dominantSpeakerChanged', identity: 'ana' });
    await call(b, () => window.app.setEnabled('audio', true));
    // Network quality: levels for oneself and for the other.
    for (const [p, other] of [[a, 'ben'], [b, 'ana']]) {
      for (const who of [p.identity, other]) {
        const e = await waitEvent(p, { type: 'networkQualityLevelChanged', identity: who });
        assert.ok(Number.isInteger(e.level) && e.level >= 0 && e.level <= 5, JSON.stringify(e));
      }
    }
    // A server restart within the grace period: reconnecting, reconnected,
    // media again.
    assert.equal(await server.stop(), 0, server.log());
    for (const p of [a, b]) await waitEvent(p, { type: 'reconnecting', code: 53001 });
    server = await startServer(env, { dataDir, listen });
    for (const p of [a, b]) await waitEvent(p, { type: 'reconnected' });
    await waitFrames(b, 'ana');
    await waitFrames(a, 'ben');
    // (After a restart the others came back as new participants: what
    // follows must be seen anew.)
    for (const p of [a, b]) await call(p, () => window.app.clearEvents());
    // Leaving: the leaver's own captures stay its own (it passed them in),
    // the other side sees it go.
    const left = await call(b, () => window.app.disconnect());
    assert.equal(left.state, 'disconnected');
    await waitEvent(b, { type: 'disconnected', code: null });
    await waitEvent(a, { type: 'participantDisconnected', identity: 'ben' });
    await waitEvent(a, { type: 'trackUnsubscribed', identity: 'ben', kind: 'video' });
    assert.deepEqual(await eventsOf(a, 'disconnected'), []);
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
    // Tracks connect() captured are stopped by disconnect().
    await call(b, ([t]) => window.app.join(t, 'sdk-ts', true), [await token('ben', 'sdk-ts')]);
    await waitFrames(a, 'ben');
    const gone = await call(b, () => window.app.disconnect());
    assert.deepEqual(gone, { state: 'disconnected', captures: ['ended', 'ended'] });
    // A server that stays away past the grace period: disconnected 53001.
    assert.equal(await server.stop(), 0, server.log());
    server = null;
    await waitEvent(a, { type: 'reconnecting', code: 53001 });
    await waitEvent(a, { type: 'disconnected', code: 53001 });
  } finally {
    await a.page.close();
    await b.page.close();
  }
});
