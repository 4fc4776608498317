// webrtcbin interop for the libhq transport and SDP layer: GStreamer's own
// WebRTC stack (gst-peer) and hq-peer connect through this script's
// loopback signalling.  hq-peer must receive and decrypt webrtcbin's Opus
// and VP8; webrtcbin must decode hq-peer's VP8.  Both offer directions.
// Suite `transport`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer } from './peer.mjs';

const HQ_PEER = process.env.HQ_PEER_BIN;
const GST_PEER = process.env.HQ_GST_PEER_BIN;

// Forwards signalling both ways; remote candidates wait for the
// description they belong to.
function wire(offerer, answerer) {
  const link = (from, to, descType) => {
    let described = false;
    const held = [];
    const forward = (m) => {
      if (m.type === descType) {
        to.send(m);
        described = true;
        for (const c of held.splice(0)) to.send(c);
      } else if (m.type === 'candidate' || m.type === 'end-of-candidates') {
        if (described) to.send(m);
        else held.push(m);
      }
    };
    for (const m of from.messages) forward(m);
    from.onMessage = forward;
  };
  link(offerer, answerer, 'offer');
  link(answerer, offerer, 'answer');
}

async function run(hqOffers) {
  const hq = new Peer(HQ_PEER, hqOffers ? ['--offer'] : [], 'hq-peer');
  const gst = new Peer(GST_PEER, hqOffers ? [] : ['--offer'], 'gst-peer');
  try {
    if (hqOffers) wire(hq, gst);
    else wire(gst, hq);
    await hq.waitFor('connected');
    const stats = await hq.waitForStats(
      (s) => s.opus_packets >= 50 && s.vp8_packets >= 50 && s.vp8_keyframes >= 1);
    assert.equal(stats.vp8_bad, 0, 'every VP8 payload descriptor parses');
    assert.equal(stats.dropped_auth, 0);
    const decoded = await gst.waitForStats((s) => s.video_frames_decoded >= 20);
    assert.ok(decoded.video_frames_decoded >= 20);
  } finally {
    // Close both before judging either, so no child outlives the test.
    const [hqCode, gstCode] = await Promise.all([hq.close(), gst.close()]);
    assert.equal(hqCode, 0, hq.stderr);
    assert.equal(gstCode, 0, gst.stderr);
  }
}

test('webrtcbin offers, hq-peer answers', () => run(false));
test('hq-peer offers, webrtcbin answers', () => run(true));
