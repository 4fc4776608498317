// A small video app written only against twilio-video 2.x's documented
// API (no hqrooms names): it imports the SDK from the server that served
// the page, the way an app would, and records what the SDK tells it so the
// test can check it.  window.app is what the test drives.
import * as Video from '/sdk/video.js';

const events = [];
const frames = new Map(); // <video> element -> frames presented
let localTracks = [];
let room = null;
let screen = null;
let dataTrack = null;

function record(type, fields = {}) {
  events.push({ type, ...fields });
}

// Counts the frames a <video> really presents (decoded and shown).
function countFrames(el) {
  frames.set(el, 0);
  const tick = () => {
    if (!frames.has(el)) return;
    frames.set(el, frames.get(el) + 1);
    el.requestVideoFrameCallback(tick);
  };
  el.requestVideoFrameCallback(tick);
}

function trackSubscribed(track, publication, participant) {
  record('trackSubscribed', { identity: participant.identity, kind: track.kind, name: track.name, sid: track.sid });
  if (track.kind === 'data') return;
  const el = track.attach();
  el.dataset.identity = participant.identity;
  el.dataset.trackSid = publication.trackSid;
  el.dataset.trackName = publication.trackName;
  if (track.kind === 'video') countFrames(el);
  document.getElementById('remote').append(el);
}

function trackUnsubscribed(track, publication, participant) {
  record('trackUnsubscribed', { identity: participant.identity, kind: track.kind, sid: publication.trackSid });
  if (track.kind === 'data') return;
  for (const el of track.detach()) {
    frames.delete(el);
    el.remove();
  }
}

function wire(r) {
  r.on('participantConnected', (p) => record('participantConnected', { identity: p.identity }));
  r.on('participantDisconnected', (p) => record('participantDisconnected', { identity: p.identity }));
  r.on('trackSubscribed', trackSubscribed);
  r.on('trackUnsubscribed', trackUnsubscribed);
  for (const ev of ['trackPublished', 'trackUnpublished', 'trackEnabled', 'trackDisabled']) {
    r.on(ev, (publication, participant) => record(ev, {
      identity: participant.identity, kind: publication.kind, sid: publication.trackSid,
      enabled: publication.isTrackEnabled,
    }));
  }
  r.on('trackPublishPriorityChanged', (priority, publication, participant) => record('trackPublishPriorityChanged', {
    identity: participant.identity, kind: publication.kind, sid: publication.trackSid, priority,
  }));
  r.on('trackMessage', (data, track, participant) => record('trackMessage', {
    identity: participant.identity, name: track.name,
    text: typeof data === 'string' ? data : null, bytes: typeof data === 'string' ? null : data.byteLength,
  }));
  r.on('dominantSpeakerChanged', (p) => record('dominantSpeakerChanged', { identity: p ? p.identity : null }));
  r.on('disconnected', (_room, error) => record('disconnected', { code: error ? error.code : null }));
  r.on('reconnecting', (error) => record('reconnecting', { code: error ? error.code : null }));
  r.on('reconnected', () => record('reconnected'));
  r.on('participantReconnecting', (p) => record('participantReconnecting', { identity: p.identity }));
  r.on('participantReconnected', (p) => record('participantReconnected', { identity: p.identity }));
  const quality = (p) => p.on('networkQualityLevelChanged', (level, stats) => record(
    'networkQualityLevelChanged', { identity: p.identity, level, statsLevel: stats ? stats.level : null }));
  quality(r.localParticipant);
  r.participants.forEach(quality);
  r.on('participantConnected', quality);
}

window.app = {
  events,
  get room() {
    return room;
  },

  // Pre-join: capture and preview.
  async preview() {
    localTracks = await Video.createLocalTracks({ audio: true, video: { width: 640, height: 480 } });
    const video = localTracks.find((t) => t.kind === 'video');
    const el = video.attach();
    el.id = 'preview';
    el.muted = true;
    countFrames(el);
    document.getElementById('local').append(el);
    return localTracks.map((t) => t.kind).sort();
  },

  // Joins with the previewed tracks (only those of `kinds` when given),
  // or (own) with tracks connect() captures.
  async join(token, name, own = false, kinds = null, extra = {}) {
    const options = { name, dominantSpeaker: true, networkQuality: { local: 1, remote: 1 }, ...extra };
    if (own) Object.assign(options, { audio: true, video: { width: 640, height: 480 } });
    else options.tracks = localTracks.filter((t) => !kinds || kinds.includes(t.kind));
    room = await Video.connect(token, options);
    // Listening only now is enough: tracks of those already in the room
    // are subscribed after connect() resolves (trackSubscribed follows).
    const early = [...room.participants.values()].flatMap((p) => [...p.tracks.values()])
      .filter((pub) => pub.isSubscribed).length;
    record('connected', { participants: room.participants.size, early });
    wire(room);
    return {
      sid: room.sid, name: room.name, state: room.state, identity: room.localParticipant.identity,
      participantSid: room.localParticipant.sid,
    };
  },

  // Frames presented by the video elements of `identity`'s tracks, and
  // the smallest videoWidth among them.
  remoteVideo(identity, name = null) {
    const els = [...document.querySelectorAll(`#remote video[data-identity="${identity}"]`)]
      .filter((el) => name === null || el.dataset.trackName === name);
    return {
      elements: els.length,
      sids: els.map((el) => el.dataset.trackSid),
      states: els.map((el) => [el.readyState, el.paused, el.srcObject?.getTracks()[0]?.readyState,
        el.srcObject?.getTracks()[0]?.muted]),
      frames: els.map((el) => frames.get(el) || 0),
      width: Math.min(...els.map((el) => el.videoWidth)),
      time: els.map((el) => el.currentTime),
    };
  },

  // Audio packets received from `identity`'s tracks (from getStats).
  async audioPackets(identity) {
    const p = [...room.participants.values()].find((x) => x.identity === identity);
    if (!p) return 0;
    const reports = await room.getStats();
    return reports.flatMap((r) => r.remoteAudioTrackStats).filter((s) => p.audioTracks.has(s.trackSid))
      .reduce((n, s) => n + (s.packetsReceived || 0), 0);
  },

  previewFrames() {
    const el = document.getElementById('preview');
    return { frames: frames.get(el) || 0, width: el.videoWidth };
  },

  localTrack(kind) {
    const pub = [...room.localParticipant.tracks.values()].find((p) => p.kind === kind);
    return pub ? pub.track : localTracks.find((t) => t.kind === kind);
  },

  setEnabled(kind, enabled) {
    const track = this.localTrack(kind);
    if (enabled) track.enable();
    else track.disable();
    return track.isEnabled;
  },

  cameraOff() {
    const track = localTracks.find((t) => t.kind === 'video');
    const pub = room.localParticipant.unpublishTrack(track);
    return { unpublished: pub ? pub.trackSid : null, left: room.localParticipant.videoTracks.size };
  },

  setCameraPriority(priority) {
    const pub = [...room.localParticipant.videoTracks.values()].find((p) => p.trackName !== 'screen');
    return pub.setPriority(priority).priority;
  },

  // What this participant knows of the others and receives from them.
  received() {
    const pubs = [...room.participants.values()].flatMap((p) => [...p.tracks.values()]);
    return {
      participants: room.participants.size,
      publications: pubs.length,
      subscribed: pubs.filter((p) => p.isSubscribed).length,
      events: events.filter((e) => e.type === 'trackSubscribed').length,
    };
  },

  async cameraOn() {
    const track = localTracks.find((t) => t.kind === 'video');
    const pub = await room.localParticipant.publishTrack(track, { priority: 'high' });
    return { sid: pub.trackSid, kind: pub.kind, priority: pub.priority, videoTracks: room.localParticipant.videoTracks.size };
  },

  // A data track for messages.
  async publishData(name) {
    dataTrack = new Video.LocalDataTrack({ name });
    try {
      const pub = await room.localParticipant.publishTrack(dataTrack);
      return { kind: pub.kind, name: pub.trackName, dataTracks: room.localParticipant.dataTracks.size };
    } catch (error) {
      return { code: error.code, message: error.message };
    }
  },

  sendText(text) {
    dataTrack.send(text);
  },

  sendBytes(n) {
    dataTrack.send(new Uint8Array(n).buffer);
  },

  // Screen share as a second video track, published as a MediaStreamTrack.
  async shareScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
    [screen] = stream.getVideoTracks();
    const pub = await room.localParticipant.publishTrack(screen, { name: 'screen', priority: 'high' });
    return {
      name: pub.trackName, kind: pub.kind, priority: pub.priority, videoTracks: room.localParticipant.videoTracks.size,
    };
  },

  // A second track named like one published: refused, and the
  // participant says so with trackPublicationFailed.
  async publishDuplicate(name) {
    const failed = new Promise((resolve) => room.localParticipant.once('trackPublicationFailed',
      (error, track) => resolve({ code: error.code, kind: track.kind })));
    const copy = screen.clone();
    try {
      await room.localParticipant.publishTrack(copy, { name });
      return { published: true };
    } catch (error) {
      return { published: false, code: error.code, name: error.name, event: await failed };
    } finally {
      copy.stop();
    }
  },

  stopScreen() {
    const pub = room.localParticipant.unpublishTrack(screen);
    screen.stop();
    return { name: pub.trackName, videoTracks: room.localParticipant.videoTracks.size };
  },

  // Another capture for the camera (a device change would do this): the
  // track emits started again and the publication carries on.
  async restartCamera(width, height) {
    const track = this.localTrack('video');
    const started = new Promise((resolve) => track.once('started', () => resolve(track.dimensions)));
    const before = track.mediaStreamTrack;
    await track.restart({ width, height });
    return { dimensions: await started, oldCapture: before.readyState, same: before === track.mediaStreamTrack };
  },

  async stats() {
    const reports = await room.getStats();
    const sum = (list, key) => list.reduce((n, s) => n + (s[key] || 0), 0);
    return {
      reports: reports.length,
      bytesSent: sum(reports.flatMap((r) => r.localVideoTrackStats), 'bytesSent'),
      bytesReceived: sum(reports.flatMap((r) => r.remoteVideoTrackStats), 'bytesReceived'),
      audioStats: reports.flatMap((r) => r.localAudioTrackStats).length,
      sids: reports.flatMap((r) => r.remoteVideoTrackStats.map((s) => s.trackSid)),
    };
  },

  disconnect() {
    const own = [...room.localParticipant.tracks.values()].filter((p) => p.kind !== 'data')
      .map((p) => p.track.mediaStreamTrack);
    room.disconnect();
    return { state: room.state, captures: own.map((t) => t.readyState) };
  },

  async tryConnect(token, name) {
    try {
      const r = await Video.connect(token, { name, tracks: [] });
      r.disconnect();
      return { connected: true };
    } catch (error) {
      return {
        connected: false, code: error.code, name: error.name, message: error.message,
        isTwilioError: error instanceof Video.TwilioError,
      };
    }
  },
};
window.appReady = true;
