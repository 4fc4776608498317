// The consultation page's join time: from the click on "Join the visit"
// to the first frame of the other person's video presented on its tile,
// through a real hq-server on loopback (its SFU), against the same two
// pages connected directly with RTCPeerConnection in the same run.  Both
// sides have captured their camera and microphone before the click, as
// the page does.  Prints each median of `runs` (default 10) and the ratio.
//   ninja -C build bench-web        (or HQ_SERVER_BIN=... node bench/web.mjs [runs])
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS } from '../tests/browser/hqserver.mjs';
import { ROOT, openApp, fillJoin, join, waitFrames } from '../tests/web/webpage.mjs';

const runs = Number(process.argv[2] || 10);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// In the page: resolves with the ms from `t0` (performance.now() at the
// click) to the first frame presented on the tile named `name`.
function firstFrameOnTile(name) {
  return new Promise((resolve) => {
    const look = () => {
      const tile = [...document.querySelectorAll('#stage .tile')].find((t) => t.dataset.name === name);
      if (!tile) {
        setTimeout(look, 2);
        return;
      }
      tile.querySelector('video').requestVideoFrameCallback(() => resolve(performance.now() - window.benchT0));
    };
    look();
  });
}

async function viaServer(browser, server, passcode) {
  const res = await server.rest('POST', '/v1/Rooms', { UniqueName: 'bench-web' });
  if (res.status !== 201) throw new Error(`room not created: ${await res.text()}`);
  const host = await openApp(browser, `${server.url}/`, { who: 'host' });
  await join(host, { name: 'Host', room: 'bench-web', passcode });
  const times = [];
  for (let i = 0; i < runs; i++) {
    const guest = await openApp(browser, `${server.url}/`, { who: 'guest' });
    await guest.page.waitForFunction(() => window.hqApp.local.video?.isStarted);
    await fillJoin(guest, { name: 'Guest', room: 'bench-web', passcode });
    await guest.page.evaluate(() => document.getElementById('join').addEventListener('click', () => {
      window.benchT0 = performance.now();
    }, { capture: true, once: true }));
    const first = guest.page.evaluate(firstFrameOnTile, 'Host');
    await guest.page.click('#join');
    times.push(await first);
    await guest.page.click('#leave');
    await guest.page.waitForSelector('#postcall:not([hidden])');
    await guest.context.close();
  }
  await waitFrames(host, 'Host (you)');
  await host.context.close();
  return times;
}

// The same two pages (camera and microphone captured by the page) joined
// by one RTCPeerConnection each, offer and answer passed by this script
// once ICE gathering is complete (loopback host candidates).
async function direct(browser, server) {
  const a = await openApp(browser, `${server.url}/`, { who: 'a' });
  const b = await openApp(browser, `${server.url}/`, { who: 'b' });
  const times = [];
  const setup = (p) => p.page.evaluate(() => {
    window.benchPc?.close();
    const pc = new RTCPeerConnection();
    window.benchPc = pc;
    for (const t of [window.hqApp.local.audio, window.hqApp.local.video]) pc.addTrack(t.mediaStreamTrack);
    window.benchGathered = () => new Promise((r) => {
      if (pc.iceGatheringState === 'complete') r();
      else pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    });
  });
  for (let i = 0; i < runs; i++) {
    await setup(a);
    await setup(b);
    const offer = await b.page.evaluate(async () => {
      window.benchT0 = performance.now();
      const pc = window.benchPc;
      window.benchFirst = new Promise((resolve) => {
        pc.ontrack = (e) => {
          if (e.track.kind !== 'video') return;
          const v = document.createElement('video');
          v.muted = true;
          v.autoplay = true;
          v.srcObject = new MediaStream([e.track]);
          document.body.append(v);
          v.requestVideoFrameCallback(() => {
            resolve(performance.now() - window.benchT0);
            v.remove();
          });
        };
      });
      await pc.setLocalDescription(await pc.createOffer());
      await window.benchGathered();
      return pc.localDescription.toJSON();
    });
    const answer = await a.page.evaluate(async (o) => {
      const pc = window.benchPc;
      await pc.setRemoteDescription(o);
      await pc.setLocalDescription(await pc.createAnswer());
      await window.benchGathered();
      return pc.localDescription.toJSON();
    }, offer);
    times.push(await b.page.evaluate(async (ans) => {
      await window.benchPc.setRemoteDescription(ans);
      return window.benchFirst;
    }, answer));
  }
  await a.context.close();
  await b.context.close();
  return times;
}

const server = await startServer({ HQ_WEB_DIR: path.join(ROOT, 'web') });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const passcode = server.credentials().passcode;
  const sfu = await viaServer(browser, server, passcode);
  const p2p = await direct(browser, server);
  const fmt = (xs) => xs.map((x) => Math.round(x)).join(' ');
  console.log(`join click to first remote frame, web app through hq-server: median ${Math.round(median(sfu))} ms (${fmt(sfu)})`);
  console.log(`the same two pages, direct RTCPeerConnection:             median ${Math.round(median(p2p))} ms (${fmt(p2p)})`);
  console.log(`ratio: ${(median(sfu) / median(p2p)).toFixed(2)}x`);
} finally {
  await browser.close();
  const code = await server.stop();
  if (code !== 0) {
    console.error(`hq-server exited with ${code}`);
    process.exitCode = 1;
  }
}
