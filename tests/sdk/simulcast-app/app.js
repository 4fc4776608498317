// A page for the simulcast tests (tests/sdk/simulcast.test.mjs), written
// against twilio-video 2.x's API: a publisher with VP8 simulcast, or a
// subscriber with a bandwidth profile that shows the publisher's camera
// in an element of a given size.  What the test checks beyond Twilio's
// API (layers, decoded frame sizes, freezes) it reads from the page's
// RTCPeerConnections, which it keeps as the SDK makes them.
import * as Video from '/sdk/video.js';

const pcs = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  constructor(...args) {
    super(...args);
    pcs.push(this);
  }
};

const events = [];
const frames = new Map(); // <video> -> frames presented
let room = null;
const widest = {}; // rid -> the widest frame the publisher encoded
const watched = []; // samples of the incoming video (app.watch)
let watching = null;

function record(type, fields = {}) {
  events.push({ type, at: performance.now(), ...fields });
}

function countFrames(el) {
  frames.set(el, 0);
  const tick = () => {
    if (!frames.has(el)) return;
    frames.set(el, frames.get(el) + 1);
    el.requestVideoFrameCallback(tick);
  };
  el.requestVideoFrameCallback(tick);
}

let videoClass = 'small';

function trackSubscribed(track, publication, participant) {
  record('trackSubscribed', { identity: participant.identity, kind: track.kind, sid: track.sid });
  if (track.kind !== 'video') return;
  track.on('switchedOff', (t, reason) => record('switchedOff', {
    sid: t.sid, reason, isSwitchedOff: t.isSwitchedOff, switchOffReason: t.switchOffReason,
  }));
  track.on('switchedOn', (t) => record('switchedOn', { sid: t.sid, isSwitchedOff: t.isSwitchedOff }));
  const el = document.createElement('video');
  el.className = videoClass;
  el.muted = true;
  track.attach(el);
  countFrames(el);
  document.getElementById('remote').append(el);
}

// The publisher's outgoing layers and the subscriber's incoming video,
// from the page's connections.
async function rtpStats(type) {
  const out = [];
  for (const pc of pcs) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === type && s.kind === 'video') out.push(s);
    });
  }
  return out;
}

window.app = {
  events,

  // Publishes a 1280x720 camera with three simulcast layers.
  async publish(token, name) {
    const track = await Video.createLocalVideoTrack({ width: 1280, height: 720, frameRate: 24 });
    room = await Video.connect(token, {
      name, tracks: [track], preferredVideoCodecs: [{ codec: 'VP8', simulcast: true }],
    });
    return { sid: [...room.localParticipant.videoTracks.keys()][0] };
  },

  // Joins without publishing; the publisher's video in an element of
  // class `cls` ('small' 160x90, 'large' 1280x720); `profile` is
  // bandwidthProfile.video.
  async subscribe(token, name, cls, profile) {
    videoClass = cls;
    room = await Video.connect(token, { name, tracks: [], bandwidthProfile: { video: profile } });
    room.on('trackSubscribed', trackSubscribed);
    room.on('trackSwitchedOff', (track, publication, participant) => record('roomTrackSwitchedOff', {
      sid: track.sid, publication: publication.trackSid, identity: participant.identity,
    }));
    room.on('trackSwitchedOn', (track, publication, participant) => record('roomTrackSwitchedOn', {
      sid: track.sid, publication: publication.trackSid, identity: participant.identity,
    }));
    return { sid: room.localParticipant.sid };
  },

  // connect() with a bandwidth profile the server should refuse.
  async tryProfile(token, name, profile) {
    try {
      const r = await Video.connect(token, { name, tracks: [], bandwidthProfile: { video: profile } });
      r.disconnect();
      return { connected: true };
    } catch (error) {
      return { connected: false, name: error.name, message: error.message };
    }
  },

  remoteTrack() {
    for (const p of room.participants.values()) {
      for (const pub of p.videoTracks.values()) if (pub.track) return pub.track;
    }
    return null;
  },

  // The publish offer's simulcast lines and the sender's encodings.
  publishing() {
    const pc = pcs.find((x) => x.getSenders().some((s) => s.track));
    const sender = pc.getSenders().find((s) => s.track?.kind === 'video');
    const sdp = pc.localDescription.sdp;
    return {
      rids: sdp.split('\r\n').filter((l) => l.startsWith('a=rid:')),
      simulcast: sdp.split('\r\n').filter((l) => l.startsWith('a=simulcast:')),
      answered: pc.remoteDescription.sdp.split('\r\n').filter((l) => l.startsWith('a=simulcast:')),
      encodings: sender.getParameters().encodings.map((e) => ({
        rid: e.rid, scale: e.scaleResolutionDownBy, maxBitrate: e.maxBitrate, active: e.active,
      })),
    };
  },

  // Per layer (rid) of the publisher: sending?, size, the widest it was
  // seen encoding (a layer the server pauses soon after it started shows
  // no size any more), bytes.
  async layers() {
    const out = {};
    for (const s of await rtpStats('outbound-rtp')) {
      const rid = s.rid || '-';
      widest[rid] = Math.max(widest[rid] || 0, s.frameWidth || 0);
      out[rid] = {
        active: s.active, width: s.frameWidth || 0, height: s.frameHeight || 0, widest: widest[rid], bytes: s.bytesSent,
        frames: s.framesEncoded || 0, limitation: s.qualityLimitationReason,
      };
    }
    return out;
  },

  // The subscriber's video: decoded frame size, bytes, freezes, and what
  // the element shows.
  async incoming() {
    const [s] = await rtpStats('inbound-rtp');
    const el = document.querySelector('#remote video');
    return {
      frameWidth: s?.frameWidth || 0,
      frameHeight: s?.frameHeight || 0,
      bytes: s?.bytesReceived || 0,
      framesDecoded: s?.framesDecoded || 0,
      freezeCount: s?.freezeCount || 0,
      totalFreezesDuration: s?.totalFreezesDuration || 0,
      videoWidth: el?.videoWidth || 0,
      videoHeight: el?.videoHeight || 0,
      presented: el ? frames.get(el) || 0 : 0,
      isSwitchedOff: this.remoteTrack()?.isSwitchedOff ?? null,
    };
  },

  // The page's clock (what `watch` stamps its samples with), in ms.
  now() {
    return performance.timeOrigin + performance.now();
  },

  // Samples the incoming video every 100 ms from now on: when (the page's
  // clock), the decoded frame width, Chromium's freeze count and total
  // freeze time.  `watched()` returns them.
  watch() {
    watched.length = 0;
    clearInterval(watching);
    watching = setInterval(async () => {
      const [s] = await rtpStats('inbound-rtp');
      if (s) {
        watched.push({
          at: this.now(), width: s.frameWidth || 0,
          freezes: s.freezeCount || 0, frozen: s.totalFreezesDuration || 0,
        });
      }
    }, 100);
  },

  watched() {
    return watched;
  },

  // Moves the element out of the viewport and back (auto switch-off).
  setAway(away) {
    document.querySelector('#remote video').classList.toggle('away', away);
  },

  switchOff() {
    this.remoteTrack().switchOff();
  },

  switchOn() {
    this.remoteTrack().switchOn();
  },

  setRenderDimensions(width, height) {
    this.remoteTrack().setContentPreferences({ renderDimensions: { width, height } });
  },
};
window.appReady = true;
