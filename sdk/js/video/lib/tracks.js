// Tracks: LocalAudioTrack, LocalVideoTrack, RemoteAudioTrack,
// RemoteVideoTrack (MediaStreamTracks with attach/detach, enable/disable,
// the started/dimensionsChanged events) and the data tracks.
import { EventEmitter } from './emitter.js';
import { errors } from './errors.js';
import { log } from './log.js';

const PRIORITIES = ['low', 'standard', 'high'];

export class Track extends EventEmitter {
  constructor(kind, name) {
    super();
    this.kind = kind;
    this.name = name;
  }
}

function elementFor(element, kind) {
  if (typeof element === 'string') {
    const found = document.querySelector(element);
    if (!found) throw new Error(`attach: no element matches "${element}"`);
    return found;
  }
  if (element) return element;
  const created = document.createElement(kind);
  created.autoplay = true;
  if (kind === 'video') created.playsInline = true;
  return created;
}

export class MediaTrack extends Track {
  constructor(mediaStreamTrack, name) {
    super(mediaStreamTrack.kind, name ?? mediaStreamTrack.id);
    this.mediaStreamTrack = mediaStreamTrack;
    this.isStarted = false;
    this.isEnabled = true;
    Object.defineProperty(this, '_attachments', { value: new Set(), enumerable: false });
    this._watch();
  }

  // Knows when media starts (video: the first decoded frame, on an element
  // of our own that nobody sees; audio: the track is live and unmuted) and,
  // for video, the dimensions of what arrives.
  _watch() {
    const mst = this.mediaStreamTrack;
    const start = () => {
      if (this.isStarted || this.mediaStreamTrack !== mst) return;
      this.isStarted = true;
      this.emit('started', this);
    };
    mst.addEventListener('ended', () => {
      if (this.mediaStreamTrack === mst) this._ended();
    });
    if (this.kind === 'video') {
      const el = document.createElement('video');
      el.muted = true;
      el.playsInline = true;
      el.autoplay = true;
      el.srcObject = new MediaStream([mst]);
      const update = () => {
        if (this.mediaStreamTrack !== mst || !el.videoWidth) return;
        const changed = this.dimensions.width !== el.videoWidth
          || this.dimensions.height !== el.videoHeight;
        this.dimensions = { width: el.videoWidth, height: el.videoHeight };
        start();
        if (changed) this.emit('dimensionsChanged', this);
      };
      el.addEventListener('loadedmetadata', update);
      el.addEventListener('resize', update);
      el.play().catch(() => {});
      this._monitor = { el, remove: () => { el.srcObject = null; } };
    } else if (!mst.muted) {
      queueMicrotask(start);
    } else {
      mst.addEventListener('unmute', start, { once: true });
    }
  }

  _ended() {}

  _stopWatching() {
    this._monitor?.remove();
    this._monitor = null;
  }

  attach(element) {
    const el = elementFor(element, this.kind);
    el.autoplay = true;
    if (this.kind === 'video') el.playsInline = true;
    el.srcObject = new MediaStream([this.mediaStreamTrack]);
    this._attachments.add(el);
    this._hints?.attached(this, el);
    if (el.paused) el.play().catch((err) => log.debug('play() of an attached element failed', err));
    return el;
  }

  detach(element) {
    const targets = element === undefined ? [...this._attachments]
      : [typeof element === 'string' ? document.querySelector(element) : element];
    for (const el of targets) {
      if (!el || !this._attachments.has(el)) continue;
      el.srcObject = null;
      this._attachments.delete(el);
      this._hints?.detached(this, el);
    }
    return element === undefined ? targets : targets[0];
  }

  // A new MediaStreamTrack for the same track (restart): attached elements
  // and senders carry on with it.
  _replace(mediaStreamTrack) {
    this.mediaStreamTrack = mediaStreamTrack;
    this.isStarted = false;
    for (const el of this._attachments) {
      el.srcObject = new MediaStream([mediaStreamTrack]);
      if (el.paused) el.play().catch(() => {});
    }
    this._watch();
  }
}

export class AudioTrack extends MediaTrack {}

export class VideoTrack extends MediaTrack {
  constructor(mediaStreamTrack, name) {
    super(mediaStreamTrack, name);
    if (!this.dimensions) this.dimensions = { width: null, height: null };
    this.processor = null;
    this.processedTrack = null;
  }

  _watch() {
    if (!this.dimensions) this.dimensions = { width: null, height: null };
    super._watch();
  }

  addProcessor() {
    throw new errors.TrackInvalidError('Video processors are not supported by @hqrooms/video yet');
  }

  removeProcessor() {
    return this;
  }
}

// What local audio and video tracks add: an id, enable/disable, stop,
// restart, and the senders that carry them.
const localMethods = {
  _initLocal(options = {}) {
    this.id = this.mediaStreamTrack.id;
    this.isStopped = false;
    this.isMuted = this.mediaStreamTrack.muted;
    this.isEnabled = this.mediaStreamTrack.enabled;
    Object.defineProperty(this, '_senders', { value: new Set(), enumerable: false });
    Object.defineProperty(this, '_constraints', {
      value: options.constraints || {}, enumerable: false, writable: true,
    });
    Object.defineProperty(this, '_createdBySdk', {
      value: Boolean(options.createdBySdk), enumerable: false, writable: true,
    });
  },

  enable(enabled = true) {
    if (enabled === false) return this.disable();
    this.mediaStreamTrack.enabled = true;
    if (!this.isEnabled) {
      this.isEnabled = true;
      this.emit('enabled', this);
    }
    return this;
  },

  disable() {
    this.mediaStreamTrack.enabled = false;
    if (this.isEnabled) {
      this.isEnabled = false;
      this.emit('disabled', this);
    }
    return this;
  },

  stop() {
    this._stopWatching();
    this.mediaStreamTrack.stop();
    if (!this.isStopped) {
      this.isStopped = true;
      this.emit('stopped', this);
    }
    return this;
  },

  _ended() {
    if (!this.isStopped) {
      this.isStopped = true;
      this.emit('stopped', this);
    }
  },

  // Captures anew (another device, new constraints): the old capture stops
  // first (some devices open only once), attachments and the publication
  // carry on with the new one.
  async restart(constraints) {
    if (constraints) this._constraints = constraints;
    const old = this.mediaStreamTrack;
    this._stopWatching();
    old.stop();
    const stream = await navigator.mediaDevices.getUserMedia({
      [this.kind]: Object.keys(this._constraints).length ? this._constraints : true,
    });
    const fresh = stream.getTracks().find((t) => t.kind === this.kind);
    fresh.enabled = this.isEnabled;
    this.isStopped = false;
    this._replace(fresh);
    this.id = fresh.id;
    await Promise.all([...this._senders].map((s) => s.replaceTrack(fresh)));
  },
};

export class LocalAudioTrack extends AudioTrack {
  constructor(mediaStreamTrack, options = {}) {
    super(mediaStreamTrack, options.name);
    this._initLocal(options);
  }
}
Object.assign(LocalAudioTrack.prototype, localMethods);

export class LocalVideoTrack extends VideoTrack {
  constructor(mediaStreamTrack, options = {}) {
    super(mediaStreamTrack, options.name);
    this._initLocal(options);
  }
}
Object.assign(LocalVideoTrack.prototype, localMethods);

// What remote audio and video tracks add: the sid, enabled as the
// publisher says, priority and switch-off.
const remoteMethods = {
  _initRemote(sid, enabled) {
    this.sid = sid;
    this.isEnabled = enabled;
    this.isSwitchedOff = false;
    this.switchOffReason = null;
    this.priority = null;
  },

  // The server's track_switched_off/track_switched_on for this track:
  // `reason` is null when it is switched on.
  _setSwitchedOff(off, reason = null) {
    if (this.isSwitchedOff === off && this.switchOffReason === reason) return false;
    this.isSwitchedOff = off;
    this.switchOffReason = off ? reason : null;
    if (off) this.emit('switchedOff', this, this.switchOffReason);
    else this.emit('switchedOn', this);
    return true;
  },

  _setEnabled(enabled) {
    if (this.isEnabled === enabled) return;
    this.isEnabled = enabled;
    this.emit(enabled ? 'enabled' : 'disabled', this);
  },

  _ended() {
    this.emit('stopped', this);
  },

  // The subscriber's own priority for this track (null: the publisher's):
  // in group rooms the server weighs the track by it when it shares our
  // bandwidth (docs/sdk.md, "Extensions"); peer-to-peer rooms keep it
  // locally.
  setPriority(priority) {
    if (priority !== null && !PRIORITIES.includes(priority)) {
      throw new RangeError(`priority must be low, standard, high or null, not ${priority}`);
    }
    this.priority = priority;
    if (this._prioritySender) {
      this._priorityRequest = this._prioritySender(this.sid, priority)
        .catch((err) => {
          log.warn(`setPriority(${priority}) of ${this.sid} failed:`, err);
          throw err;
        });
      this._priorityRequest.catch(() => {});
    }
    return this;
  },

  // Client-controlled switch-off and content preferences (group rooms
  // with bandwidthProfile.video's clientTrackSwitchOffControl or
  // contentPreferencesMode 'manual'; docs/sdk.md, "bandwidthProfile").
  // The track's switchedOff/switchedOn follow when the server did it.
  switchOn() {
    return this._manualHint('clientTrackSwitchOffControl', 'autoSwitch', { enabled: true });
  },

  switchOff() {
    return this._manualHint('clientTrackSwitchOffControl', 'autoSwitch', { enabled: false });
  },

  setContentPreferences(preferences = {}) {
    const dims = preferences.renderDimensions;
    if (dims === undefined) return this;
    if (!dims || !(dims.width > 0) || !(dims.height > 0)) {
      throw new RangeError('renderDimensions must be {width, height}, both above 0');
    }
    return this._manualHint('contentPreferencesMode', 'autoContent', {
      renderDimensions: { width: Math.round(dims.width), height: Math.round(dims.height) },
    });
  },

  _manualHint(option, autoFlag, hint) {
    if (this.kind !== 'video') return this;
    if (!this._hints || this._hints[autoFlag]) {
      log.warn(`${this.sid}: needs connect()'s bandwidthProfile.video.${option} 'manual' in a group room; ignored`);
      return this;
    }
    this._hints.manual(this, hint);
    return this;
  },
};

export class RemoteAudioTrack extends AudioTrack {
  constructor(sid, mediaStreamTrack, name, enabled) {
    super(mediaStreamTrack, name);
    this._initRemote(sid, enabled);
  }
}
Object.assign(RemoteAudioTrack.prototype, remoteMethods);

export class RemoteVideoTrack extends VideoTrack {
  constructor(sid, mediaStreamTrack, name, enabled) {
    super(mediaStreamTrack, name);
    this._initRemote(sid, enabled);
  }
}
Object.assign(RemoteVideoTrack.prototype, remoteMethods);

// Data tracks.  Peer-to-peer rooms carry them on a WebRTC data channel per
// track and connection; group rooms on the signalling connection, relayed
// by the server (docs/protocol.md, "Data tracks in group rooms"): each
// sink in `_channels` is a data channel or an object with the same
// `readyState` and `send()`.
export class LocalDataTrack extends Track {
  constructor(options = {}) {
    super('data', options.name ?? (globalThis.crypto?.randomUUID?.() || String(Math.random())));
    this.id = this.name;
    this.maxPacketLifeTime = options.maxPacketLifeTime ?? null;
    this.maxRetransmits = options.maxRetransmits ?? null;
    this.ordered = options.ordered ?? true;
    this.reliable = this.maxPacketLifeTime === null && this.maxRetransmits === null;
    Object.defineProperty(this, '_channels', { value: new Set(), enumerable: false });
  }

  // Sends to every participant who receives the track (nothing while it
  // is not published, as with Twilio).
  send(data) {
    for (const channel of this._channels) {
      if (channel.readyState === 'open') channel.send(data);
    }
  }
}

export class RemoteDataTrack extends Track {
  constructor(sid, name, enabled) {
    super('data', name);
    this.sid = sid;
    this.isEnabled = enabled;
    this.isSubscribed = false;
    this.isSwitchedOff = false;
    this.priority = null;
    this.maxPacketLifeTime = null;
    this.maxRetransmits = null;
    this.ordered = true;
    this.reliable = true;
  }

  setPriority(priority) {
    this.priority = priority;
    return this;
  }

  // Messages of `channel` become this track's `message` events.
  _receive(channel, participant) {
    channel.binaryType = 'arraybuffer';
    channel.onmessage = (e) => this._deliver(e.data, participant);
  }

  // One message (a string or an ArrayBuffer) from `participant`.
  _deliver(data, participant) {
    this.emit('message', data, this);
    participant.emit('trackMessage', data, this);
  }
}

// Bandwidth profiles on the subscribing side (docs/sdk.md,
// "bandwidthProfile"): the `track_hints` that tell the server which remote
// video tracks this page shows and at what size (docs/protocol.md,
// "Simulcast and bandwidth profiles"), and the profile itself.
// twilio-video's names and the server's.
const PROFILE_FIELDS = {
  mode: 'mode',
  dominantSpeakerPriority: 'dominant_speaker_priority',
  maxSubscriptionBitrate: 'max_subscription_bitrate',
  trackSwitchOffMode: 'track_switch_off_mode',
  clientTrackSwitchOffControl: 'client_track_switch_off_control',
  contentPreferencesMode: 'content_preferences_mode',
};

// The `bandwidth_profile` of join for `profile` (connect()'s
// bandwidthProfile), null without a video profile.  The server checks
// the values (an unknown one is its `invalid_field`).
export function bandwidthProfileMessage(profile) {
  const video = profile?.video;
  if (!video || typeof video !== 'object') return null;
  const out = {};
  for (const [ours, theirs] of Object.entries(PROFILE_FIELDS)) {
    if (video[ours] !== undefined) out[theirs] = video[ours];
  }
  return { video: out };
}

// Hints go out at most this often (ms), a burst of layout changes as one.
const HINT_INTERVAL = 250;
const FIRST_HINT_DELAY = 50;

// Whether `el` shows anything: in the document, of some size, and at least
// partly inside the viewport of a visible page.
function shows(el) {
  if (document.visibilityState === 'hidden' || !el.isConnected) return false;
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  return r.bottom > 0 && r.right > 0 && r.top < window.innerHeight && r.left < window.innerWidth;
}

// The track hints of one room.  With `clientTrackSwitchOffControl` 'auto'
// (twilio-video's default) a track is on while one of the elements it is
// attached to shows, off otherwise (not attached, hidden, scrolled away,
// in a background tab); with `contentPreferencesMode` 'auto' its render
// dimensions are the largest of those elements' sizes.  'manual': the
// app says so with switchOff()/switchOn()/setContentPreferences().
export class TrackHints {
  // `request(type, fields)`: a protocol request; `video`: the profile.
  constructor(request, video) {
    this.request = request;
    this.autoSwitch = video.clientTrackSwitchOffControl !== 'manual';
    this.autoContent = video.contentPreferencesMode !== 'manual';
    this.tracks = new Map(); // track sid -> {track, wanted: {}, sent: {}}
    this.dirty = new Set();
    this.timer = null;
    this.last = 0;
    this.refused = false;
    const changed = (entries) => {
      for (const e of entries) {
        const sid = e.target.dataset?.hqHintSid;
        if (sid) this._touch(sid);
      }
    };
    this.auto = this.autoSwitch || this.autoContent;
    if (this.auto && typeof ResizeObserver !== 'undefined') {
      this.resize = new ResizeObserver(changed);
      this.visible = new IntersectionObserver(changed);
      this.onVisibility = () => {
        for (const sid of this.tracks.keys()) this._touch(sid);
      };
      document.addEventListener('visibilitychange', this.onVisibility);
    }
  }

  // A remote video track subscribed (group rooms).
  add(track) {
    this.tracks.set(track.sid, { track, wanted: {}, sent: {} });
    Object.defineProperty(track, '_hints', { value: this, enumerable: false, configurable: true });
    for (const el of track._attachments) this.attached(track, el);
    this._touch(track.sid);
  }

  remove(track) {
    for (const el of track._attachments) this.detached(track, el);
    this.tracks.delete(track.sid);
    this.dirty.delete(track.sid);
  }

  attached(track, el) {
    if (this.resize) {
      el.dataset.hqHintSid = track.sid;
      this.resize.observe(el);
      this.visible.observe(el);
    }
    this._touch(track.sid);
  }

  detached(track, el) {
    if (this.resize) {
      this.resize.unobserve(el);
      this.visible.unobserve(el);
      delete el.dataset.hqHintSid;
    }
    this._touch(track.sid);
  }

  // switchOff()/switchOn() (enabled) and setContentPreferences()
  // (renderDimensions) in manual mode.
  manual(track, hint) {
    const entry = this.tracks.get(track.sid);
    if (!entry) return;
    Object.assign(entry.wanted, hint);
    this._touch(track.sid);
  }

  close() {
    clearTimeout(this.timer);
    this.resize?.disconnect();
    this.visible?.disconnect();
    if (this.onVisibility) document.removeEventListener('visibilitychange', this.onVisibility);
    this.tracks.clear();
  }

  _touch(sid) {
    if (!this.tracks.has(sid)) return;
    this.dirty.add(sid);
    if (this.timer) return;
    const wait = Math.max(FIRST_HINT_DELAY, this.last + HINT_INTERVAL - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.last = Date.now();
      this._flush();
    }, wait);
  }

  // What the page says of one track now.
  _state(entry) {
    const state = { ...entry.wanted };
    if (!this.auto) return state;
    const showing = [...entry.track._attachments].filter(shows);
    if (this.autoSwitch) state.enabled = showing.length > 0;
    if (this.autoContent && showing.length) {
      state.renderDimensions = {
        width: Math.max(...showing.map((el) => Math.round(el.getBoundingClientRect().width))),
        height: Math.max(...showing.map((el) => Math.round(el.getBoundingClientRect().height))),
      };
    }
    return state;
  }

  _flush() {
    const hints = [];
    for (const sid of this.dirty) {
      const entry = this.tracks.get(sid);
      if (!entry) continue;
      const now = this._state(entry);
      const hint = { track_sid: sid };
      if (now.enabled !== undefined && now.enabled !== entry.sent.enabled) hint.enabled = now.enabled;
      const dims = now.renderDimensions;
      if (dims && (dims.width !== entry.sent.renderDimensions?.width
        || dims.height !== entry.sent.renderDimensions?.height)) {
        hint.render_dimensions = { width: dims.width, height: dims.height };
      }
      if (Object.keys(hint).length === 1) continue;
      entry.sent = { ...entry.sent, ...now };
      hints.push(hint);
    }
    this.dirty.clear();
    if (!hints.length) return;
    log.debug('track_hints', JSON.stringify(hints));
    this.request('track_hints', { hints }).catch((err) => {
      if (this.refused) return;
      this.refused = true;
      log.warn('the server did not take the track hints:', err.message);
    });
  }
}
