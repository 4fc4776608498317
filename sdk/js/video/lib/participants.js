// Participants and track publications: the local participant publishes
// through the room's media connection, remote participants mirror what
// the server announces (docs/protocol.md, "Events").
import { EventEmitter } from './emitter.js';
import { errors, TwilioError } from './errors.js';
import { log } from './log.js';
import {
  LocalAudioTrack, LocalVideoTrack, LocalDataTrack, MediaTrack,
} from './tracks.js';

const PRIORITIES = ['low', 'standard', 'high'];

class TrackPublication extends EventEmitter {
  constructor(sid, name, kind, enabled) {
    super();
    this.trackSid = sid;
    this.trackName = name;
    this.kind = kind;
    this.isTrackEnabled = enabled;
  }

  get isEnabled() {
    return this.isTrackEnabled;
  }
}

export class LocalTrackPublication extends TrackPublication {
  constructor(participant, sid, track, priority) {
    super(sid, track.name, track.kind, track.isEnabled ?? true);
    this.track = track;
    this.priority = priority;
    Object.defineProperty(this, '_participant', { value: participant, enumerable: false });
  }

  get publishPriority() {
    return this.priority;
  }

  setPriority(priority) {
    if (!PRIORITIES.includes(priority)) {
      throw new TypeError(`priority must be low, standard or high, not ${priority}`);
    }
    this.priority = priority;
    this._participant._request('track_update', { track_sid: this.trackSid, priority })
      .catch((err) => log.warn(`setPriority(${priority}) failed:`, err));
    return this;
  }

  unpublish() {
    this._participant.unpublishTrack(this.track);
    return this;
  }
}

export class RemoteTrackPublication extends TrackPublication {
  constructor(desc) {
    super(desc.sid, desc.name, desc.kind, desc.enabled !== false);
    this.publishPriority = desc.priority || 'standard';
    this.track = null;
  }

  get isSubscribed() {
    return this.track !== null;
  }
}

export class Participant extends EventEmitter {
  constructor(desc) {
    super();
    this.sid = desc.sid;
    this.identity = desc.identity;
    // hqrooms extension: the name to show people (the token's display
    // name, the identity when it has none; docs/protocol.md).
    this.name = desc.name || desc.identity;
    // Extensions: the name to show (the token's display name, else the
    // identity) and the role (`host` or `guest`).
    this.hqName = desc.name || desc.identity;
    this.hqRole = desc.role || 'guest';
    this.state = desc.state || 'connected';
    this.networkQualityLevel = null;
    this.networkQualityStats = null;
    this.tracks = new Map();
    this.audioTracks = new Map();
    this.videoTracks = new Map();
    this.dataTracks = new Map();
  }

  _kindMap(kind) {
    return { audio: this.audioTracks, video: this.videoTracks, data: this.dataTracks }[kind];
  }

  _addPublication(publication) {
    this.tracks.set(publication.trackSid, publication);
    this._kindMap(publication.kind).set(publication.trackSid, publication);
  }

  _removePublication(publication) {
    this.tracks.delete(publication.trackSid);
    this._kindMap(publication.kind).delete(publication.trackSid);
  }

  _setState(state) {
    if (this.state === state) return false;
    this.state = state;
    return true;
  }

  // A network_quality entry (docs/netq.md) in twilio-video's shape.
  _setNetworkQuality(entry) {
    const changed = this.networkQualityLevel !== entry.level;
    this.networkQualityLevel = entry.level;
    this.networkQualityStats = networkQualityStats(entry);
    if (changed) this.emit('networkQualityLevelChanged', entry.level, this.networkQualityStats);
  }
}

function sendOrRecvStats(stats) {
  if (!stats) return null;
  const ms = (x) => (x == null ? null : x / 1000);
  return {
    bandwidth: { actual: stats.bitrate_bps ?? null, available: stats.available_bps ?? null, level: null },
    latency: { jitter: ms(stats.jitter_ms), rtt: ms(stats.rtt_ms), level: null },
    fractionLost: { fractionLost: stats.fraction_lost ?? null, level: null },
  };
}

function mediaStats(entry, kind) {
  const levels = entry[kind];
  if (!levels) return null;
  return {
    send: levels.send,
    recv: levels.recv,
    sendStats: sendOrRecvStats(entry.stats?.send?.[kind]),
    recvStats: sendOrRecvStats(entry.stats?.recv?.[kind]),
  };
}

function networkQualityStats(entry) {
  return { level: entry.level, audio: mediaStats(entry, 'audio'), video: mediaStats(entry, 'video') };
}

export class RemoteParticipant extends Participant {
  constructor(desc) {
    super(desc);
    for (const t of desc.tracks || []) this._addPublication(new RemoteTrackPublication(t));
  }
}

// The local participant.  `media` is the room's media side (publish
// connection); `request` sends a protocol request and resolves with the
// reply (rejects with a TwilioError).
export class LocalParticipant extends Participant {
  constructor(desc, signal, media) {
    super(desc);
    Object.defineProperty(this, '_signal', { value: signal, enumerable: false });
    Object.defineProperty(this, '_media', { value: media, enumerable: false });
    Object.defineProperty(this, '_queue', { value: { p: Promise.resolve() }, enumerable: false });
    this.signalingRegion = 'hqrooms';
  }

  _request(type, fields) {
    return this._signal.request(type, fields);
  }

  // Runs publish/unpublish steps one after the other: each renegotiates
  // the one publish connection.
  _serial(fn) {
    const run = this._queue.p.then(fn);
    this._queue.p = run.catch(() => {});
    return run;
  }

  _publicationOf(track) {
    for (const pub of this.tracks.values()) {
      if (pub.track === track || pub.track.mediaStreamTrack === track) return pub;
    }
    return null;
  }

  publishTrack(track, options = {}) {
    if (track instanceof MediaStreamTrack) {
      const existing = this._publicationOf(track);
      const Cls = track.kind === 'audio' ? LocalAudioTrack : LocalVideoTrack;
      track = existing ? existing.track : new Cls(track, { name: options.name });
    } else if (options.name !== undefined && !this._publicationOf(track)) {
      track.name = options.name;
    }
    const priority = options.priority || 'standard';
    return this._serial(async () => {
      const existing = this._publicationOf(track);
      if (existing) return existing;
      try {
        if (!PRIORITIES.includes(priority)) {
          throw new errors.TrackInvalidError(`priority must be low, standard or high, not ${priority}`);
        }
        if (track instanceof LocalDataTrack && !this._media.carriesData) {
          throw new errors.TrackInvalidError('This room cannot carry data tracks');
        }
        if (track.isStopped) throw new errors.TrackInvalidError('The track is stopped');
        const reply = await this._request('track_publish', {
          name: track.name, kind: track.kind, enabled: track.isEnabled, priority,
        });
        const pub = new LocalTrackPublication(this, reply.track.sid, track, priority);
        try {
          await this._media.publish([pub]);
        } catch (err) {
          this._request('track_unpublish', { track_sid: pub.trackSid }).catch(() => {});
          throw err;
        }
        this._addPublication(pub);
        this._follow(pub);
        this.emit('trackPublished', pub);
        return pub;
      } catch (err) {
        const error = err instanceof TwilioError ? err : new errors.TrackInvalidError(String(err.message || err));
        this.emit('trackPublicationFailed', error, track);
        throw error;
      }
    });
  }

  publishTracks(tracks) {
    return Promise.all(tracks.map((t) => this.publishTrack(t)));
  }

  // The first publication at connect: all tracks in one offer.
  async _publishAll(tracks, priorities = []) {
    const pubs = [];
    for (const [i, track] of tracks.entries()) {
      const priority = priorities[i] || 'standard';
      const reply = await this._request('track_publish', {
        name: track.name, kind: track.kind, enabled: track.isEnabled, priority,
      });
      pubs.push(new LocalTrackPublication(this, reply.track.sid, track, priority));
    }
    if (pubs.length) await this._media.publish(pubs);
    for (const pub of pubs) {
      this._addPublication(pub);
      this._follow(pub);
    }
  }

  // After the server forgot us (it restarted): we are a new participant
  // and publish the same tracks again, under new track sids.
  async _rejoined(desc) {
    this.sid = desc.sid;
    const pubs = [...this.tracks.values()];
    this._media.reset(pubs);
    for (const pub of pubs) {
      pub._unfollow();
      this._removePublication(pub);
    }
    await this._publishAll(pubs.map((p) => p.track), pubs.map((p) => p.priority));
  }

  // Local enable/disable/stop of a published track become track_update
  // and the participant's and publication's events.
  _follow(pub) {
    const onEnabled = () => this._trackEnabled(pub, true);
    const onDisabled = () => this._trackEnabled(pub, false);
    const onStarted = () => this.emit('trackStarted', pub.track);
    const onStopped = () => this.emit('trackStopped', pub.track);
    const onDimensions = () => this.emit('trackDimensionsChanged', pub.track);
    pub.track.on('enabled', onEnabled).on('disabled', onDisabled).on('started', onStarted)
      .on('stopped', onStopped).on('dimensionsChanged', onDimensions);
    Object.defineProperty(pub, '_unfollow', {
      enumerable: false,
      configurable: true,
      value: () => {
        pub.track.off('enabled', onEnabled).off('disabled', onDisabled).off('started', onStarted)
          .off('stopped', onStopped).off('dimensionsChanged', onDimensions);
      },
    });
  }

  _trackEnabled(pub, enabled) {
    if (pub.isTrackEnabled === enabled) return;
    pub.isTrackEnabled = enabled;
    this._request('track_update', { track_sid: pub.trackSid, enabled })
      .catch((err) => log.warn(`track_update of ${pub.trackSid} failed:`, err));
    pub.emit(enabled ? 'trackEnabled' : 'trackDisabled');
    this.emit(enabled ? 'trackEnabled' : 'trackDisabled', pub.track);
  }

  unpublishTrack(track) {
    const pub = this._publicationOf(track);
    if (!pub) return null;
    this._removePublication(pub);
    pub._unfollow();
    this._request('track_unpublish', { track_sid: pub.trackSid })
      .catch((err) => log.warn(`track_unpublish of ${pub.trackSid} failed:`, err));
    this._serial(() => this._media.unpublish(pub))
      .catch((err) => log.warn('unpublishing from the media connection failed:', err));
    return pub;
  }

  unpublishTracks(tracks) {
    return tracks.map((t) => this.unpublishTrack(t)).filter((p) => p !== null);
  }

  setNetworkQualityConfiguration(config = {}) {
    this._media.networkQuality?.(config);
    return this;
  }

  setParameters(params = {}) {
    this._media.setBitrates?.(params);
    return this;
  }

  // A host muted one of our tracks (protocol event `muted`).
  _mutedByHost(trackSid) {
    const pub = this.tracks.get(trackSid);
    if (!pub) return;
    pub.isTrackEnabled = false; // the server disabled it: no track_update
    pub.track.disable();
    pub.emit('trackDisabled');
    this.emit('trackDisabled', pub.track);
  }
}
