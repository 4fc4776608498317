// This person's camera and microphone: capture through the SDK (so the
// same LocalTracks go into the call), what went wrong in words, the
// device lists, and the microphone level meter.
import * as Video from '/sdk/video.js';

// What the browser's getUserMedia error means for the person.
export function problemOf(err) {
  if (!navigator.mediaDevices?.getUserMedia) return 'insecure';
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError':
      return 'busy';
    default:
      return 'other';
  }
}

export const cameraConstraints = (deviceId) => ({
  name: 'camera', width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 },
  ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
});

export const microphoneConstraints = (deviceId) => ({
  name: 'microphone', ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
});

// Captures what is asked ({audio, video}: booleans) with the chosen
// devices.  Resolves with {audio, video} LocalTracks (null where none)
// and {audio, video} problems (null, 'denied', 'missing', 'busy',
// 'insecure', 'other'): one refused device never costs the other.
export async function capture(want, ids = {}) {
  const out = { audio: null, video: null, problems: { audio: null, video: null } };
  const opts = {
    audio: want.audio ? microphoneConstraints(ids.microphone) : false,
    video: want.video ? cameraConstraints(ids.camera) : false,
  };
  if (!opts.audio && !opts.video) return out;
  try {
    for (const track of await Video.createLocalTracks(opts)) out[track.kind] = track;
    return out;
  } catch (err) {
    if (!(opts.audio && opts.video)) {
      out.problems[opts.audio ? 'audio' : 'video'] = problemOf(err);
      return out;
    }
  }
  // Both together failed: ask for each alone, to know which one it was.
  for (const kind of ['audio', 'video']) {
    try {
      [out[kind]] = await Video.createLocalTracks({ audio: kind === 'audio' && opts.audio, video: kind === 'video' && opts.video });
    } catch (err) {
      out.problems[kind] = problemOf(err);
    }
  }
  return out;
}

// The help sentence keys for capture problems (i18n.js), none when all is well.
export function helpKeys(problems) {
  const { audio, video } = problems;
  if (audio === 'insecure' || video === 'insecure') return ['help.insecure'];
  if (audio === 'denied' && video === 'denied') return ['help.denied'];
  if (audio === 'missing' && video === 'missing') return ['help.noDevices'];
  const keys = [];
  if (audio === 'busy' || video === 'busy') keys.push('help.busy');
  if (video === 'denied') keys.push('help.deniedVideo');
  if (video === 'missing') keys.push('help.noCamera');
  if (audio === 'denied') keys.push('help.deniedAudio');
  if (audio === 'missing') keys.push('help.noMicrophone');
  if ((audio === 'other' || video === 'other') && !keys.length) keys.push('help.busy');
  return keys;
}

// The devices the browser lists, by kind; labels are empty before any
// permission was granted.
export async function listDevices() {
  const all = await navigator.mediaDevices?.enumerateDevices?.().catch(() => []) ?? [];
  return {
    camera: all.filter((d) => d.kind === 'videoinput'),
    microphone: all.filter((d) => d.kind === 'audioinput'),
    speaker: all.filter((d) => d.kind === 'audiooutput'),
  };
}

export const canChooseSpeaker = () => typeof HTMLMediaElement !== 'undefined'
  && 'setSinkId' in HTMLMediaElement.prototype;

// A level meter (0..100, on a decibel scale) of a microphone track, drawn
// into `meterEl` (role=meter) about 15 times a second.
export class LevelMeter {
  constructor(meterEl) {
    this.el = meterEl;
    this.bar = meterEl.querySelector('span');
    this.ctx = null;
    this.source = null;
    this.timer = null;
    this.value = 0;
    this.resume = () => this.ctx?.resume().catch(() => {});
  }

  attach(mediaStreamTrack) {
    this.detach();
    if (!mediaStreamTrack) return;
    const AudioCtx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!AudioCtx) return;
    this.ctx = this.ctx || new AudioCtx();
    // A page without a click yet starts suspended: the first click resumes it.
    document.addEventListener('pointerdown', this.resume, { once: true });
    document.addEventListener('keydown', this.resume, { once: true });
    this.resume();
    this.source = this.ctx.createMediaStreamSource(new MediaStream([mediaStreamTrack]));
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 1024;
    this.source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      const db = 10 * Math.log10(sum / buf.length + 1e-12);
      const level = Math.max(0, Math.min(100, Math.round(((db + 60) / 60) * 100)));
      // Up at once, down slowly, as meters do.
      this.value = level > this.value ? level : Math.round(this.value * 0.7 + level * 0.3);
      this.show(this.value);
    }, 66);
  }

  show(v) {
    this.bar.style.width = `${v}%`;
    this.el.setAttribute('aria-valuenow', String(v));
  }

  detach() {
    clearInterval(this.timer);
    this.timer = null;
    this.source?.disconnect();
    this.source = null;
    this.value = 0;
    this.show(0);
  }

  close() {
    this.detach();
    this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}
