// hqqualitymeter's freezes against Chromium's (issue 19, acceptance point
// 3; suite `qualitymeter`): one publisher, alice (hqroomsink, 320x240 30 fps
// VP8), sends through the impairment relay (docs/relay.md) with bursts of
// loss on her way to hq-server; two subscribers take her video from the
// server at the same time: bob, `hqroomsrc ! hqqualitymeter` (its
// hq-quality messages' freeze-count), and a headless Chromium page
// (inbound-rtp `freezeCount` from getStats()).  Over the same window of
// WINDOW seconds, from baselines read at one moment, it prints both counts
// (and every STEP seconds how they grow) and asserts that both saw
// freezes and that they differ by at most one a minute.  Chromium times
// frames by the wall clock as they leave its decoder, the meter by their
// running times: on a machine short of CPU Chromium also counts its own
// stalls, and counts about twice as many (docs/hqqualitymeter.md,
// "Against Chromium's freezeCount").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';

const BIN = process.env.HQ_IMPAIRED_BIN;
const ROOM = 'freezes';
const WINDOW = 120; // seconds of bob's video intervals compared
const STEP = 10; // seconds between the printed running counts
const DEADLINE = 90000; // ms for any one wait; generous on a loaded machine
// Gilbert-Elliott loss on alice's uplink: per datagram the link turns bad
// with chance 0.001 and good again with 0.05; while bad every datagram is
// lost.  Alice sends about 60 datagrams a second, so a burst of about a
// third of a second starts every 17 s or so, about 2 % loss in all: bursts
// that retransmissions cannot always mend, and that leave the transports
// up (ICE consent checks cross the same lossy way).
const LOSS = 'burst=0.001/0.05/1';

let server;
let browser;
const programs = [];

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  for (const p of programs) await p.stop();
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

// hq-impaired-participant (tests/quality/impaired.c) running `pipeline`
// with the server's API key in its environment (the elements mint their
// own tokens): its output lines, and its commands.
function participant(pipeline) {
  const creds = server.credentials();
  const proc = spawn(BIN, [pipeline], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env, HQ_API_KEY_SID: creds.key_sid,
      HQ_API_KEY_SECRET: creds.key_secret, HQ_ACCOUNT_SID: creds.account_sid,
    },
  });
  const lines = [];
  let exited = null;
  readline.createInterface({ input: proc.stdout }).on('line', (l) => lines.push(l));
  readline.createInterface({ input: proc.stderr }).on('line', (l) => lines.push(l));
  const gone = new Promise((resolve) => proc.on('exit', (code, signal) => {
    exited = code ?? signal;
    resolve();
  }));
  const p = {
    lines,
    async waitFor(fn, what, ms = DEADLINE) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const v = fn(lines);
        if (v) return v;
        if (exited !== null) throw new Error(`${pipeline.split(' ')[0]} exited (${exited}) before ${what}:\n${lines.slice(-30).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}:\n${lines.slice(-30).join('\n')}`);
    },
    async command(line) {
      const before = lines.filter((l) => l === 'ok' || l.startsWith('error')).length;
      proc.stdin.write(line + '\n');
      const answers = await p.waitFor((ls) => {
        const a = ls.filter((l) => l === 'ok' || l.startsWith('error'));
        return a.length > before && a;
      }, `an answer to ${line}`);
      assert.equal(answers[answers.length - 1], 'ok', line);
    },
    async stop() {
      if (exited === null) proc.stdin.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10000))]);
      if (exited === null) proc.kill('SIGKILL');
    },
  };
  programs.push(p);
  return p;
}

// bob's hq-quality messages for his video, from line `start` on: the
// fields this test reads.
function videoIntervals(lines, start = 0) {
  const out = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('message hq-quality,') || !l.includes('kind=(string)video')) continue;
    const field = (name) => Number((l.match(new RegExp(`${name}=\\([a-z0-9]+\\)([-\\d.e+]+)`)) || [])[1]);
    out.push({ frames: field('frames'), freezes: field('freeze-count'), frozen: field('total-freezes-duration') });
  }
  return out;
}

// Chromium's figures for alice's video: the inbound-rtp of the subscribe
// connection's video (the page receives nothing else).
const chromeVideo = (page) => page.evaluate(async () => {
  const out = [];
  (await window.hq.sub.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.push({
        frames: s.framesDecoded || 0, freezes: s.freezeCount ?? null,
        frozen: s.totalFreezesDuration ?? null, lost: s.packetsLost || 0,
        jbDelay: s.jitterBufferDelay || 0, jbCount: s.jitterBufferEmittedCount || 0,
        nacks: s.nackCount || 0, plis: s.pliCount || 0,
      });
    }
  });
  return out.length === 1 ? out[0] : null;
});

test('freezes: hqqualitymeter and Chromium count the same on one impaired publisher', async () => {
  const url = server.url;
  const made = await server.rest('POST', '/v1/Rooms', { UniqueName: ROOM, Type: 'group' });
  assert.equal(made.status, 201, await made.text());
  const alice = participant(`hqroomsink name=s server=${url} room=${ROOM} identity=alice `
    + 'congestion-control=off start-bitrate=600000 '
    + 'videotestsrc is-live=true pattern=smpte horizontal-speed=8 ! '
    + 'video/x-raw,width=320,height=240,framerate=30/1 ! s.video_0');
  await alice.waitFor((ls) => ls.some((l) => l.includes('hq-joined')), 'alice to join');
  const bob = participant(`hqroomsrc name=r server=${url} room=${ROOM} identity=bob `
    + 'participants=<alice> kinds=video hqqualitymeter name=m '
    + 'r. ! queue ! video/x-raw ! m.video_0 m.src_video_0 ! fakesink');

  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${url}/`);
  const token = await server.token('chrome', ROOM);
  await page.evaluate(async ([r, t]) => { await window.hqJoin('chrome', r, t, undefined, { publish: false }); }, [ROOM, token]);

  // Both play alice's video before the loss starts.
  await waitInPage(page, async () => {
    const s = (await window.hq.sub?.getStats()) || new Map();
    let frames = 0;
    s.forEach((x) => { if (x.type === 'inbound-rtp' && x.kind === 'video') frames += x.framesDecoded || 0; });
    return frames >= 60;
  }, undefined, DEADLINE, 'Chromium to decode alice\'s video');
  const first = await chromeVideo(page);
  assert.notEqual(first.freezes, null, 'Chromium reports no freezeCount');
  await bob.waitFor((ls) => videoIntervals(ls).filter((v) => v.frames > 0).length >= 3,
    'bob\'s meter to see alice\'s video');

  await alice.command(`up ${LOSS}`);
  // Baselines at one moment: just as one of bob's intervals is reported.
  const mark = bob.lines.length;
  await bob.waitFor((ls) => videoIntervals(ls, mark).length >= 1, 'an interval at bob');
  const start = bob.lines.length;
  const base = await chromeVideo(page);
  // Both counts every STEP of bob's intervals, to show where they part.
  const timeline = [];
  for (let n = STEP; n <= WINDOW; n += STEP) {
    await bob.waitFor((ls) => videoIntervals(ls, start).length >= n,
      `${n} intervals at bob`);
    const c = await chromeVideo(page);
    const m = videoIntervals(bob.lines, start).slice(0, n);
    timeline.push(`${n} s: meter ${m.reduce((a, v) => a + v.freezes, 0)} `
      + `(${m.slice(-STEP).reduce((a, v) => a + v.frames, 0)} frames in the last ${STEP} s), `
      + `Chromium ${c.freezes - base.freezes} (lost ${c.lost - base.lost})`);
  }
  const end = await chromeVideo(page);
  const meter = videoIntervals(bob.lines, start).slice(0, WINDOW);
  console.log(timeline.join('\n'));
  await alice.command('up none');

  const chrome = {
    freezes: end.freezes - base.freezes, frozen: end.frozen - base.frozen,
    frames: end.frames - base.frames, lost: end.lost - base.lost,
    nacks: end.nacks - base.nacks, plis: end.plis - base.plis,
    jb: (end.jbDelay - base.jbDelay) / Math.max(1, end.jbCount - base.jbCount),
  };
  const ours = meter.reduce((a, v) => ({ freezes: a.freezes + v.freezes, frozen: a.frozen + v.frozen, frames: a.frames + v.frames }), { freezes: 0, frozen: 0, frames: 0 });
  console.log(`freezes over ${WINDOW} s of alice's video with ${LOSS} on her uplink: `
    + `hqqualitymeter ${ours.freezes} (${ours.frozen.toFixed(2)} s frozen, ${ours.frames} frames), `
    + `Chromium ${chrome.freezes} (${chrome.frozen.toFixed(2)} s frozen, ${chrome.frames} frames, `
    + `${chrome.lost} packets lost, ${chrome.nacks} NACKs, ${chrome.plis} PLIs, `
    + `jitter buffer ${(chrome.jb * 1000).toFixed(0)} ms)`);
  // Without freezes there is nothing to compare (a burst comes every 17 s
  // or so on average, fewer in some runs).
  assert.ok(chrome.freezes > 0 && ours.freezes > 0,
    `no freezes to compare: meter ${ours.freezes}, Chromium ${chrome.freezes}`);
  assert.ok(Math.abs(ours.freezes - chrome.freezes) <= WINDOW / 60,
    `meter ${ours.freezes} freezes, Chromium ${chrome.freezes}: more than `
    + `${WINDOW / 60} apart (on a machine short of CPU Chromium counts its own `
    + 'stalls: docs/hqqualitymeter.md, "Against Chromium\'s freezeCount")');
  assert.deepEqual(problems, []);
  await page.close();
});
