// The test pages' side of tests/sdk/extensions.test.mjs (added to the
// served test app's page as an inline module): twilio-video's
// API plus hqrooms' extensions (docs/sdk.md, "Extensions"), with what the
// SDK tells each page recorded for the test to check.  window.ext is what
// the test drives.
import * as Video from '/sdk/video.js';

const events = [];
const frames = new Map(); // <video> element -> frames presented
let room = null;
let connecting = null;
let pending = null; // connect()'s CancelablePromise
let dataTrack = null;
const received = []; // data messages: {identity, name, text | bytes, sum}

function record(type, fields = {}) {
  events.push({ type, ...fields });
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

const who = (p) => (p ? p.identity : null);
const errorOf = (e) => ({ name: e.name, code: e.code, message: e.message });

function wire(r) {
  r.on('recordingStarted', () => record('recordingStarted', { isRecording: r.isRecording }));
  r.on('recordingStopped', () => record('recordingStopped', { isRecording: r.isRecording }));
  r.on('participantWaiting', (w) => record('participantWaiting', { identity: w.identity, name: w.name }));
  r.on('participantConnected', (p) => record('participantConnected', { identity: p.identity }));
  r.on('participantDisconnected', (p) => record('participantDisconnected', { identity: p.identity }));
  r.on('trackDisabled', (pub, p) => record('trackDisabled', { identity: who(p), kind: pub.kind }));
  r.on('trackEnabled', (pub, p) => record('trackEnabled', { identity: who(p), kind: pub.kind }));
  r.on('disconnected', (_room, error) => record('disconnected', error ? errorOf(error) : {}));
  r.on('hqServerDraining', (d) => record('hqServerDraining', { seconds: d.seconds, deadline: d.deadline.toISOString() }));
  r.on('trackSubscribed', (track, pub, p) => {
    record('trackSubscribed', { identity: p.identity, kind: track.kind, name: track.name });
    if (track.kind !== 'video') return;
    const el = track.attach();
    el.dataset.identity = p.identity;
    countFrames(el);
    document.body.append(el);
  });
  r.on('trackMessage', (data, track, p) => {
    const bytes = typeof data === 'string' ? null : new Uint8Array(data);
    received.push({
      identity: p.identity, name: track.name,
      text: bytes ? null : data,
      bytes: bytes ? bytes.length : null,
      sum: bytes ? bytes.reduce((a, b) => (a + b) % 65536, 0) : null,
    });
  });
  r.localParticipant.on('trackDisabled', (track) => record('localTrackDisabled', { kind: track.kind }));
}

window.ext = {
  events,
  received,
  Video,

  // connect(); a waiting-room guest's promise stays pending until a host
  // decides, and `waiting` is recorded when the server says so.
  start(token, name, extra = {}) {
    pending = Video.connect(token, {
      name, audio: true, video: { width: 320, height: 240 },
      hqOnWaiting: (info) => record('waiting', { sid: info.participantSid }),
      ...extra,
    });
    connecting = pending.then((r) => {
      room = r;
      wire(r);
      record('connected', { isRecording: r.isRecording, sid: r.localParticipant.sid });
      return { ok: true };
    }, (e) => {
      record('connectFailed', errorOf(e));
      return { ok: false, ...errorOf(e) };
    });
    return true;
  },

  connected() {
    return connecting;
  },

  cancel() {
    pending.cancel();
  },

  isRecording() {
    return room ? room.isRecording : null;
  },

  recording() {
    return room ? room.hqRecording : null;
  },

  // Who is who, as the page shows people.
  people() {
    return {
      me: { name: room.localParticipant.hqName, role: room.localParticipant.hqRole },
      others: [...room.participants.values()].map((p) => ({ identity: p.identity, name: p.hqName, role: p.hqRole })),
      graceMs: room.hqReconnectGraceMs,
    };
  },

  lobby() {
    return room ? [...room.hqLobby.keys()] : null;
  },

  async call(method, ...args) {
    try {
      const value = await room[method](...args);
      return { ok: true, value: value ? JSON.parse(JSON.stringify(value)) : null };
    } catch (e) {
      return { ok: false, ...errorOf(e) };
    }
  },

  // Frames decoded from `identity`'s video: [elements, width, frames].
  remoteVideo(identity) {
    const els = [...document.querySelectorAll('video')].filter((v) => v.dataset.identity === identity);
    return { elements: els.length, width: els[0]?.videoWidth || 0, frames: els[0] ? frames.get(els[0]) : 0 };
  },

  remoteAudioSid(identity) {
    const p = [...room.participants.values()].find((x) => x.identity === identity);
    return p ? [...p.audioTracks.keys()][0] : null;
  },

  async publishData(name) {
    dataTrack = new Video.LocalDataTrack({ name });
    try {
      const pub = await room.localParticipant.publishTrack(dataTrack);
      return { ok: true, kind: pub.kind, name: pub.trackName, sid: pub.trackSid };
    } catch (e) {
      return { ok: false, ...errorOf(e) };
    }
  },

  // Sends each of `messages`: a string, or {bytes: n, fill: k} for n bytes
  // (i * k + 1) % 256.
  send(messages) {
    try {
      for (const m of messages) {
        if (typeof m === 'string') dataTrack.send(m);
        else dataTrack.send(Uint8Array.from({ length: m.bytes }, (_, i) => (i * m.fill + 1) % 256));
      }
      return { ok: true };
    } catch (e) {
      return { ok: false, ...errorOf(e) };
    }
  },

  // The subscriber's own priority for `identity`'s video, sent to the
  // server: resolves when it answered.
  async setPriority(identity, priority) {
    const p = [...room.participants.values()].find((x) => x.identity === identity);
    const pub = [...p.videoTracks.values()][0];
    try {
      pub.track.setPriority(priority);
      await pub.track._priorityRequest;
      return { ok: true, priority: pub.track.priority };
    } catch (e) {
      return { ok: false, ...errorOf(e) };
    }
  },

  // A raw protocol client in the page (no SDK): joins with `token`,
  // publishes a data track named `track`, sends each of `sends` ({data,
  // binary}) on it as data_send with id "s<i>", then a ping; resolves,
  // once the pong is back (the server answers in order), with the errors
  // those messages got.
  async rawDataSend(token, name, track, sends) {
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/v1/signal`);
    const waiters = new Map();
    const errors = [];
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'error' && msg.id?.startsWith('s')) errors.push(msg);
      if (msg.id && waiters.has(msg.id)) waiters.get(msg.id)(msg);
    };
    await new Promise((resolve) => { ws.onopen = resolve; });
    const request = (msg) => new Promise((resolve) => {
      waiters.set(msg.id, resolve);
      ws.send(JSON.stringify(msg));
    });
    await request({ type: 'join', id: 'j', token, room: name });
    const pub = await request({ type: 'track_publish', id: 'p', name: track, kind: 'data' });
    for (const [i, m] of sends.entries()) {
      ws.send(JSON.stringify({ type: 'data_send', id: `s${i}`, track_sid: pub.track.sid, ...m }));
    }
    await request({ type: 'ping', id: 'end' });
    ws.send(JSON.stringify({ type: 'leave' }));
    ws.close();
    return errors;
  },

  disconnect() {
    room?.disconnect();
  },

  // end-to-end encryption's key epoch and code (docs/e2ee.md)
  e2ee() {
    return room ? room.hqE2ee : null;
  },
};
window.extReady = true;
