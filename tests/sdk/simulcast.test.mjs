// Simulcast and bandwidth profiles in the browser (issue 20; suite
// `simulcast`): a real hq-server and headless Chromium.  One publisher
// page sends its 1280x720 fake camera with twilio-video's VP8 simulcast
// option (three layers, q h f); two subscriber pages show it, one in a
// 160x90 element (clientTrackSwitchOffControl and contentPreferencesMode
// 'auto': the SDK sends the element's size and visibility), one at
// 1280x720 with both 'manual' (setContentPreferences, switchOff/switchOn).
// One session checks, in order: the publish offer's layers; the small page
// decodes the low layer's frames, the large one the high layer's; the
// layer nobody receives stops being sent; an element scrolled out of view
// switches its track off (switchedOff, no more bytes) and back on; a
// manual switchOff() likewise.  A second test puts a fourth page, in a
// network namespace behind a veth pair, behind a `tc tbf` bandwidth cap
// (docs/relay.md: this kernel has tbf there, no netem): it drops to a
// lower layer within 5 s and comes back when the cap lifts, with no
// freeze over 500 ms.
// Screenshots under $HQ_SIMULCAST_SHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, siteFor, CHROMIUM, CHROMIUM_ARGS } from '../browser/hqserver.mjs';
import { call, openApp, waitEvent, waitFor } from './helpers.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const SHOTS = process.env.HQ_SIMULCAST_SHOTS || tmpdir();
const ROOM = 'simulcast';
let browser;
let server;
let site;
let pub;
let published = false; // the first test's publisher sends its layers
let net = null; // the capped page's network namespace, when one can be made

// A network namespace with a veth pair: the host's end (`dev`, `host`)
// and the namespace's (`peer`); null where this machine cannot (not
// root, no `ip`).  The host end's egress is the way to the namespace.
function makeNamespace() {
  const n = process.pid % 200 + 20;
  const ns = `hqsim${process.pid}`;
  const dev = `hqs${process.pid}`;
  const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    ip('netns', 'add', ns);
  } catch (err) {
    console.log(`no network namespace (${String(err.stderr || err.message).trim()}): the cap test is skipped`);
    return null;
  }
  const made = { ns, dev, host: `10.97.${n}.1`, peer: `10.97.${n}.2`, dir: mkdtempSync(path.join(tmpdir(), 'hq-simns-')) };
  ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
  ip('link', 'set', `${dev}p`, 'netns', ns);
  ip('addr', 'add', `${made.host}/24`, 'dev', dev);
  ip('link', 'set', dev, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${made.peer}/24`, 'dev', `${dev}p`);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', `${dev}p`, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  // Chromium started inside the namespace (playwright talks to it
  // through pipes, which cross namespaces).
  made.chromium = path.join(made.dir, 'chromium');
  writeFileSync(made.chromium, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
  chmodSync(made.chromium, 0o755);
  return made;
}

function dropNamespace(n) {
  for (const args of [['link', 'del', n.dev], ['netns', 'del', n.ns]]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  rmSync(n.dir, { recursive: true, force: true });
}

// `tc tbf` on the way to the namespace: `rate` (e.g. '600kbit'), or none.
function cap(rate) {
  const args = rate ? ['qdisc', 'replace', 'dev', net.dev, 'root', 'tbf', 'rate', rate, 'burst', '20kb', 'latency', '300ms']
    : ['qdisc', 'del', 'dev', net.dev, 'root'];
  execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

before(async () => {
  site = siteFor(path.join(HERE, 'simulcast-app'));
  net = makeNamespace();
  // On every address, so the namespace reaches it through the veth pair.
  server = await startServer({ HQ_WEB_DIR: site.webDir }, net ? { listen: '0.0.0.0:0' } : {});
  if (net) server.url = server.url.replace('0.0.0.0', '127.0.0.1');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await net?.browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  if (net) dropNamespace(net);
  site?.remove();
});

async function page(identity, viewport, where = browser, url = server.url) {
  const context = await where.newContext({ viewport });
  const p = await openApp(context, `${url}/`, identity);
  return p;
}

const shot = (p, name) => p.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

// Bytes of the page's incoming video now, and again once `other` has
// received `more` bytes more: what `p` got meanwhile.
async function bytesWhile(p, other, more, what) {
  const mine = (await call(p, () => window.app.incoming())).bytes;
  const theirs = (await call(other, () => window.app.incoming())).bytes;
  await waitFor(other, (b) => window.app.incoming().then((s) => ({ ok: s.bytes >= b, ...s })),
    theirs + more, `${other.identity} to receive ${more} bytes more (${what})`);
  return (await call(p, () => window.app.incoming())).bytes - mine;
}

test('simulcast: three layers, small and large subscribers, unused layer paused, switch-off auto and manual', async () => {
  const made = await server.rest('POST', '/v1/Rooms', { UniqueName: ROOM, Type: 'group' });
  assert.equal(made.status, 201, await made.text());
  pub = await page('pub', { width: 640, height: 400 });

  const small = await page('small', { width: 640, height: 400 });
  const large = await page('large', { width: 1300, height: 760 });

  // The publisher: three RID layers in the offer, lowest first.
  await call(pub, ([t, r]) => window.app.publish(t, r), [await server.token('pub', ROOM), ROOM]);
  const sending = await call(pub, () => window.app.publishing());
  assert.deepEqual(sending.rids, ['a=rid:q send', 'a=rid:h send', 'a=rid:f send']);
  assert.deepEqual(sending.simulcast, ['a=simulcast:send q;h;f']);
  assert.deepEqual(sending.encodings.map((e) => [e.rid, e.scale]), [['q', 4], ['h', 2], ['f', 1]]);
  assert.ok(sending.encodings.every((e) => e.maxBitrate > 0), JSON.stringify(sending.encodings));
  assert.deepEqual(sending.answered, ['a=simulcast:recv q;h;f'], 'the server takes the three layers');
  const layers = await waitFor(pub, () => window.app.layers().then((l) => ({
    ok: l.q?.widest === 320 && l.h?.widest === 640 && l.f?.widest === 1280, ...l,
  })), undefined, 'three layers encoded at 320, 640 and 1280 pixels wide');
  console.log('publisher layers:', JSON.stringify(layers));
  published = true;

  // A profile the server refuses fails connect() with its sentence.
  const refused = await call(small, ([t, r]) => window.app.tryProfile(t, r, { mode: 'big' }),
    [await server.token('small', ROOM), ROOM]);
  assert.equal(refused.connected, false);
  assert.match(refused.message, /video\.mode must be grid, collaboration or presentation/);

  // The subscribers.
  await call(small, ([t, r]) => window.app.subscribe(t, r, 'small', { mode: 'grid' }),
    [await server.token('small', ROOM), ROOM]);
  await call(large, ([t, r]) => window.app.subscribe(t, r, 'large', {
    mode: 'collaboration', clientTrackSwitchOffControl: 'manual', contentPreferencesMode: 'manual',
  }), [await server.token('large', ROOM), ROOM]);
  for (const p of [small, large]) await waitEvent(p, { type: 'trackSubscribed', identity: 'pub', kind: 'video' });
  await call(large, () => window.app.setRenderDimensions(1280, 720));

  // Decoded frame sizes: the low layer on the small page, the high one on
  // the large page (the publisher's current sizes of q and f: Chromium
  // may scale a layer down when short of CPU).
  const sizeOf = async (rid) => (await waitFor(pub, (r) => window.app.layers().then((l) => ({
    ok: l[r].width > 0, ...l[r],
  })), rid, `layer ${rid} encoding`)).width;
  for (const [p, rid] of [[small, 'q'], [large, 'f']]) {
    const want = await sizeOf(rid);
    const got = await waitFor(p, (w) => window.app.incoming().then((s) => ({
      ok: s.frameWidth === w && s.videoWidth === w && s.presented >= 10, ...s,
    })), want, `${p.identity}: frames of layer ${rid} (${want} wide)`);
    console.log(`${p.identity} decodes`, JSON.stringify(got));
  }
  await shot(small, 'simulcast-small');
  await shot(large, 'simulcast-large');

  // Nobody receives h: the publisher stops sending it (publish_layers),
  // and keeps sending q and f.
  await waitFor(pub, () => window.app.layers().then((l) => ({
    ok: l.h.active === false && l.q.active && l.f.active, ...l,
  })), undefined, 'the publisher to pause layer h');
  const before = await call(pub, () => window.app.layers());
  await waitFor(pub, (b) => window.app.layers().then((l) => ({ ok: l.f.bytes > b.f.bytes + 100000, ...l })),
    before, 'layer f to send 100 kB more');
  const afterwards = await call(pub, () => window.app.layers());
  assert.equal(afterwards.h.bytes, before.h.bytes, 'layer h sends nothing while paused');
  assert.deepEqual((await call(pub, () => window.app.publishing())).encodings.map((e) => e.active), [true, false, true]);

  // Auto switch-off: the small page's element scrolled out of view.
  const sid = (await call(small, () => window.app.remoteTrack().sid));
  await call(small, () => window.app.setAway(true));
  const off = await waitEvent(small, { type: 'switchedOff', sid });
  assert.deepEqual([off.reason, off.isSwitchedOff, off.switchOffReason],
    ['disabled-by-subscriber', true, 'disabled-by-subscriber']);
  await waitEvent(small, { type: 'roomTrackSwitchedOff', sid, publication: sid, identity: 'pub' });
  // In flight when the server stopped: a few packets at most.
  const leaked = await bytesWhile(small, large, 200000, 'small switched off');
  assert.ok(leaked < 5000, `the small page still received ${leaked} bytes while switched off`);
  await shot(small, 'simulcast-small-switched-off');
  await call(small, () => window.app.setAway(false));
  await waitEvent(small, { type: 'switchedOn', sid, isSwitchedOff: false });
  await waitEvent(small, { type: 'roomTrackSwitchedOn', sid });
  const again = (await call(small, () => window.app.incoming())).presented;
  await waitFor(small, (n) => window.app.incoming().then((s) => ({ ok: s.presented >= n + 10 && s.frameWidth > 0, ...s })),
    again, 'the small page\'s video to move again');

  // Manual switch-off on the large page.
  await call(large, () => window.app.switchOff());
  const manual = await waitEvent(large, { type: 'switchedOff', sid });
  assert.equal(manual.reason, 'disabled-by-subscriber');
  const leakedLarge = await bytesWhile(large, small, 20000, 'large switched off');
  assert.ok(leakedLarge < 5000, `the large page still received ${leakedLarge} bytes while switched off`);
  await call(large, () => window.app.switchOn());
  await waitEvent(large, { type: 'switchedOn', sid });
  const resumed = (await call(large, () => window.app.incoming())).presented;
  const back = await waitFor(large, (n) => window.app.incoming().then((s) => ({ ok: s.presented >= n + 10, ...s })),
    resumed, 'the large page\'s video to move again');
  console.log('large page after switching back on:', JSON.stringify(back));
  await shot(large, 'simulcast-large-back');
});

// Issue 20's acceptance: under a cap the page drops a layer within 5 s
// and comes back up once the cap lifts (the server probes its link,
// docs/sfu.md, "Probing"), with no freeze longer than 500 ms.  Times and
// freezes are the page's own: its clock when the cap went on and off, and
// Chromium's inbound-rtp stats sampled in the page every 100 ms
// (freezeCount, totalFreezesDuration; one freeze ends per sample at most,
// as each lasts over 150 ms).
test('simulcast: a capped subscriber link drops a layer and comes back, without long freezes', async (t) => {
  if (!net) {
    t.skip('no network namespace here');
    return;
  }
  assert.ok(published, 'the first test\'s publisher sends its three layers');
  const port = new URL(server.url).port;
  const origin = `http://${net.host}:${port}`;
  net.browser = await chromium.launch({
    executablePath: net.chromium,
    args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${origin}`],
  });
  const capped = await page('capped', { width: 1300, height: 760 }, net.browser, origin);
  await call(capped, ([tok, r]) => window.app.subscribe(tok, r, 'large', { mode: 'collaboration' }),
    [await server.token('capped', ROOM), ROOM]);
  await waitEvent(capped, { type: 'trackSubscribed', identity: 'pub', kind: 'video' });
  // Above the lowest layer first (h or f, as the server's estimate of
  // this page's link allows).
  const low = (await call(pub, () => window.app.layers())).q.width;
  const start = await waitFor(capped, (w) => window.app.incoming().then((s) => ({
    ok: s.frameWidth > w && s.presented >= 10, ...s,
  })), low, `the capped page above the lowest layer (${low} wide) before the cap`);
  await call(capped, () => window.app.watch());

  // The page's first sample after `t0` that shows a frame narrower than
  // `w` (`below`), or at least `w` wide: its time is the page's own.
  const sampleAfter = (t0, w, below, what, ms) => waitFor(capped, ([t, width, lower]) => {
    const seen = window.app.watched();
    const hit = seen.find((x) => x.at > t && x.width > 0 && (lower ? x.width < width : x.width >= width));
    return hit ? { ok: true, ...hit } : { ok: false, samples: seen.length, last: seen[seen.length - 1] };
  }, [t0, w, below], what, ms);

  cap('400kbit');
  const capAt = await call(capped, () => window.app.now());
  const down = await sampleAfter(capAt, start.frameWidth, true,
    `a layer below ${start.frameWidth} wide under a 400 kbit/s cap`, 30000);
  await shot(capped, 'simulcast-capped');
  cap(null);
  const liftAt = await call(capped, () => window.app.now());
  const back = await sampleAfter(liftAt, start.frameWidth, false,
    `${start.frameWidth} wide or more once the cap is lifted`, 60000);
  // A second more of samples: a freeze ends when the next frame shows.
  const seen = (await waitFor(capped, (t) => {
    const s = window.app.watched();
    return { ok: s.length > 0 && s[s.length - 1].at > t + 1000, samples: s };
  }, back.at, 'a second of samples after the way back up')).samples;
  const downAt = down.at;
  const backAt = back.at;
  const freezes = [];
  for (let i = 1; i < seen.length; i++) {
    if (seen[i].freezes > seen[i - 1].freezes) freezes.push(Math.round((seen[i].frozen - seen[i - 1].frozen) * 1000));
  }
  // when each ended, in ms after the cap (for the log)
  const ended = seen.filter((x, i) => i > 0 && x.freezes > seen[i - 1].freezes).map((x) => Math.round(x.at - capAt));
  console.log(`capped: down to ${down.width} wide ${Math.round(downAt - capAt)} ms after the cap, back to `
    + `${start.frameWidth} ${Math.round(backAt - liftAt)} ms after it lifted (${Math.round(liftAt - capAt)} ms after the cap); freezes (ms): ${JSON.stringify(freezes)}, `
    + `ending ${JSON.stringify(ended)} ms after the cap`);
  console.log(server.log().split('\n').filter((l) => /"probe"|layer .* ->/.test(l)).slice(-30).join('\n'));
  assert.ok(downAt - capAt <= 5000, `down ${Math.round(downAt - capAt)} ms after the cap (at most 5 s)`);
  assert.ok(freezes.every((ms) => ms <= 500), `freezes of ${JSON.stringify(freezes)} ms (none may pass 500 ms)`);
});
