// @hqrooms/video installs in place of twilio-video: an app whose
// package.json names it `twilio-video` (a `file:` dependency) next to a
// tool that declares the peer dependency `twilio-video: ^2` installs with
// npm, offline, without ERESOLVE.  That holds because the package's
// version is 2.x (docs/sdk.md, "Version"); a copy of it numbered 0.1.0,
// as it was before, is refused, which shows the check bites.  Suite `sdk`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const SDK = path.resolve(HERE, '..', '..', 'sdk', 'js', 'video');
let top;
let toolTarball;

const npm = (cwd, ...args) => spawnSync('npm', [...args, '--offline', '--no-audit', '--no-fund'],
  { cwd, encoding: 'utf8' });

// A tool as found on npm (a tarball, so npm installs it into the app's
// node_modules and checks its peers there, as it does for registry
// packages) that needs twilio-video 2.x beside it.
before(() => {
  top = mkdtempSync(path.join(tmpdir(), 'hq-sdk-package-'));
  const tool = path.join(top, 'video-tool');
  mkdirSync(tool);
  writeFileSync(path.join(tool, 'package.json'), JSON.stringify({
    name: 'video-tool', version: '1.0.0', type: 'module', main: 'index.js',
    peerDependencies: { 'twilio-video': '^2' },
  }));
  writeFileSync(path.join(tool, 'index.js'), 'export const needs = "twilio-video";\n');
  const packed = npm(tool, 'pack', '--pack-destination', top);
  assert.equal(packed.status, 0, packed.stderr);
  toolTarball = path.join(top, 'video-tool-1.0.0.tgz');
});

after(() => {
  if (top) rmSync(top, { recursive: true, force: true });
});

function appWith(name, sdk) {
  const app = path.join(top, name);
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name, private: true,
    dependencies: { 'twilio-video': `file:${sdk}`, 'video-tool': `file:${toolTarball}` },
  }));
  return app;
}

test('installs as twilio-video beside a tool with the peer dependency twilio-video ^2', () => {
  const version = JSON.parse(readFileSync(path.join(SDK, 'package.json'), 'utf8')).version;
  assert.match(version, /^2\.\d+\.\d+$/, 'a release version 2.x.y (no prerelease tag: ^2 would not match it)');
  const app = appWith('app', SDK);
  const out = npm(app, 'install');
  assert.doesNotMatch(out.stdout + out.stderr, /ERESOLVE|peer dep/i);
  assert.equal(out.status, 0, out.stdout + out.stderr);
  const installed = JSON.parse(readFileSync(path.join(app, 'node_modules', 'twilio-video', 'package.json'), 'utf8'));
  assert.deepEqual([installed.name, installed.version], ['@hqrooms/video', version]);
  const ls = npm(app, 'ls', '--all');
  assert.equal(ls.status, 0, ls.stdout + ls.stderr);
  assert.doesNotMatch(ls.stdout, /invalid|UNMET/);
});

test('the same package numbered 0.1.0 would be refused (ERESOLVE)', () => {
  const old = path.join(top, 'sdk-0.1.0');
  cpSync(SDK, old, { recursive: true });
  const pkg = JSON.parse(readFileSync(path.join(old, 'package.json'), 'utf8'));
  writeFileSync(path.join(old, 'package.json'), JSON.stringify({ ...pkg, version: '0.1.0' }));
  const out = npm(appWith('app-old', old), 'install');
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /ERESOLVE/);
  assert.match(out.stderr, /peer twilio-video@"\^2" from video-tool@1\.0\.0/);
});
