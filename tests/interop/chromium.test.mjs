// Chromium interop for the libhq transport and SDP layer.  Headless Debian
// Chromium with a fake camera and microphone talks to hq-peer (a program on
// the libhq transport) through a loopback signalling channel (this script):
// hq-peer must receive and decrypt Opus and VP8 (payload descriptors
// checked, keyframes counted) and Chromium must decode the VP8 hq-peer
// sends (framesDecoded grows).  Both offer directions.  Suite `transport`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { Peer, DEADLINE_MS } from './peer.mjs';

const PEER_BIN = process.env.HQ_PEER_BIN;
const CHROMIUM = process.env.HQ_CHROMIUM || '/usr/lib/chromium/chromium';

let browser;
let server;
let url;

before(async () => {
  // getUserMedia needs a secure context: http://127.0.0.1 is one.  (Playwright
  // gives the browser a new empty profile directory of its own.)
  server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>hq interop</title>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new', '--no-sandbox', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', '--disable-gpu',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--allow-loopback-in-peer-connection',
      '--disable-dev-shm-usage',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

// A page with a peer connection whose signalling goes to `peer`.
async function openPage(peer) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(url);
  await page.exposeFunction('hqSend', (msg) => peer.send(msg));
  // Candidates from the peer wait until the page has a remote description.
  const pending = peer.messages.filter((m) => m.type === 'candidate').map((m) => m.candidate);
  let ready = false;
  peer.onMessage = (m) => {
    if (m.type !== 'candidate') return;
    if (ready) addCandidate(page, m.candidate);
    else pending.push(m.candidate);
  };
  const remoteReady = async () => {
    ready = true;
    for (const c of pending.splice(0)) await addCandidate(page, c);
  };
  return { page, problems, remoteReady };
}

function addCandidate(page, candidate) {
  return page.evaluate(
    (c) => window.pc.addIceCandidate({ candidate: c, sdpMLineIndex: 0 }), candidate);
}

const pageSetup = () => {
  window.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) {
      window.hqSend({ type: 'candidate', candidate: e.candidate.candidate });
    } else if (!e.candidate) {
      window.hqSend({ type: 'end-of-candidates' });
    }
  };
  return navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 320, height: 240, frameRate: 30 },
  }).then((s) => { window.stream = s; });
};

async function framesDecoded(page) {
  return page.evaluate(async () => {
    const stats = await window.pc.getStats();
    let frames = 0;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
    });
    return frames;
  });
}

async function waitFramesDecoded(page, atLeast) {
  const deadline = Date.now() + DEADLINE_MS;
  let frames = 0;
  while (Date.now() < deadline) {
    frames = await framesDecoded(page);
    if (frames >= atLeast) return frames;
    await page.waitForTimeout(100);
  }
  throw new Error(`Chromium decoded only ${frames} frames, wanted ${atLeast}`);
}

// What both directions must show.
async function checkMediaBothWays(peer, page, problems) {
  const connected = await peer.waitFor('connected');
  const stats = await peer.waitForStats(
    (s) => s.opus_packets >= 50 && s.vp8_packets >= 50 && s.vp8_keyframes >= 1);
  assert.equal(stats.vp8_bad, 0, 'every VP8 payload descriptor parses');
  assert.equal(stats.dropped_auth, 0, 'no packet failed SRTP authentication');
  assert.ok(stats.opus_bytes / stats.opus_packets > 2, 'Opus packets carry audio');
  // Chromium decodes what hq-peer sends, and keeps decoding.
  const first = await waitFramesDecoded(page, 5);
  await waitFramesDecoded(page, first + 10);
  assert.deepEqual(problems, []);
  return connected.profile;
}

test('Chromium offers, hq-peer answers', async () => {
  const peer = new Peer(PEER_BIN, [], 'hq-peer');
  try {
    const { page, problems, remoteReady } = await openPage(peer);
    await page.evaluate(pageSetup);
    await page.evaluate(async () => {
      for (const t of window.stream.getTracks()) window.pc.addTrack(t, window.stream);
      const offer = await window.pc.createOffer();
      await window.pc.setLocalDescription(offer);
      window.hqSend({ type: 'offer', sdp: offer.sdp });
    });
    const answer = await peer.waitFor('answer');
    await page.evaluate((sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp }),
      answer.sdp);
    await remoteReady();
    const profile = await checkMediaBothWays(peer, page, problems);
    // We answer setup:passive, so we are the DTLS server and pick GCM.
    assert.equal(profile, 'SRTP_AEAD_AES_128_GCM');
    await page.close();
  } finally {
    assert.equal(await peer.close(), 0, peer.stderr);
  }
});

test('hq-peer offers, Chromium answers', async () => {
  const peer = new Peer(PEER_BIN, ['--offer'], 'hq-peer');
  try {
    const { page, problems, remoteReady } = await openPage(peer);
    const offer = await peer.waitFor('offer');
    await page.evaluate(pageSetup);
    await page.evaluate(async (sdp) => {
      const pc = window.pc;
      await pc.setRemoteDescription({ type: 'offer', sdp });
      for (const tr of pc.getTransceivers()) {
        const kind = tr.receiver.track.kind;
        const track = window.stream.getTracks().find((t) => t.kind === kind);
        await tr.sender.replaceTrack(track);
        tr.sender.setStreams(window.stream);
        // We offered audio recvonly and video sendrecv.
        tr.direction = kind === 'audio' ? 'sendonly' : 'sendrecv';
      }
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      window.hqSend({ type: 'answer', sdp: answer.sdp });
    }, offer.sdp);
    await remoteReady();
    await checkMediaBothWays(peer, page, problems);
    await page.close();
  } finally {
    assert.equal(await peer.close(), 0, peer.stderr);
  }
});
