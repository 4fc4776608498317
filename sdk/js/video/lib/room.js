// Room: the joined room, its participants and their tracks, kept in step
// with the server's events (docs/protocol.md) and re-emitted the way
// twilio-video's Room does.
import { EventEmitter } from './emitter.js';
import { errors, errorFromClose } from './errors.js';
import { log } from './log.js';
import { SfuMedia, fromBase64 } from './media.js';
import { P2pMedia } from './p2p.js';
import { LocalParticipant, RemoteParticipant, RemoteTrackPublication } from './participants.js';
import { Signal } from './signal.js';
import {
  RemoteAudioTrack, RemoteDataTrack, RemoteVideoTrack, TrackHints, bandwidthProfileMessage,
} from './tracks.js';

// joined.recording or a recording event as Room.hqRecording.
function recordingState(r) {
  if (!r) return null;
  return { source: r.source, by: r.by || null, participants: r.participants || [] };
}

// Participant events a Room re-emits with the participant as last argument.
const REEMITTED = ['trackDimensionsChanged', 'trackDisabled', 'trackEnabled', 'trackMessage',
  'trackPublished', 'trackPublishPriorityChanged', 'trackStarted', 'trackSubscribed',
  'trackSubscriptionFailed', 'trackSwitchedOff', 'trackSwitchedOn', 'trackUnpublished',
  'trackUnsubscribed'];

// Close codes after which the participant may resume (docs/protocol.md):
// the connection dropped, timed out or the server went away.
const RESUMABLE = new Set([1001, 1005, 1006, 1011, 1012, 1013, 4000]);

export class Room extends EventEmitter {
  // `signal`: the open, joined Signal; `joined`: the join reply;
  // `context`: {token, url, options}.
  constructor(signal, joined, context) {
    super();
    Object.defineProperty(this, '_c', {
      enumerable: false,
      value: {
        signal, context, resumeToken: joined.resume_token, graceMs: joined.reconnect_grace_ms,
        live: false, held: [],
        // Why the room is reconnecting: the signalling connection is being
        // resumed, and which media connections are being restarted.
        signalDown: false, mediaLost: new Set(),
        // Tracks the server switched off before we had them: sid -> reason.
        switchedOff: new Map(),
      },
    });
    const link = {
      request: (type, fields) => this._c.signal.request(type, fields),
      send: (msg) => this._c.signal.send(msg),
    };
    const handlers = {
      subscribed: (desc, mst, channel) => this._subscribed(desc, mst, channel),
      unsubscribed: (desc) => this._unsubscribed(desc.participant_sid, desc.track_sid),
      failed: (error) => {
        if (this.state !== 'disconnected') this._finish(error);
      },
      // A media connection failed and is being restarted (media.js): the
      // room is reconnecting (53405) until it is back, as in twilio-video.
      mediaLost: (transport, error) => {
        this._c.mediaLost.add(transport);
        this._enterReconnecting(error);
      },
      mediaRestored: (transport) => {
        this._c.mediaLost.delete(transport);
        this._maybeReconnected();
      },
    };
    // Group rooms: the server's SFU; peer-to-peer and go rooms: directly.
    const media = context.p2p
      ? new P2pMedia(link, handlers, { ...context.options }, () => this.localParticipant.sid,
        () => [...this.localParticipant.tracks.values()])
      : new SfuMedia(link, handlers, { ...context.options });
    Object.defineProperty(this, '_media', { enumerable: false, value: media });
    // Group rooms with a video bandwidth profile: which remote video tracks
    // the page shows, and at what size (tracks.js).
    const video = context.options.bandwidthProfile?.video;
    Object.defineProperty(this, '_hints', {
      enumerable: false,
      value: !context.p2p && video && typeof video === 'object'
        ? new TrackHints((type, fields) => this._c.signal.request(type, fields), video) : null,
    });
    if (joined.bandwidth_profile) log.debug('bandwidth profile in effect:', JSON.stringify(joined.bandwidth_profile));
    media.iceServers = joined.ice_servers;
    // end-to-end keys are per sender: ours by the identity the server gave
    this._media.localIdentity = joined.participant.identity;
    // Extension: end-to-end encryption's key epoch and verification code
    // ({epoch, code, from}; docs/e2ee.md), null without; 'hqE2eeChanged'.
    this.hqE2ee = null;
    this._media.onE2eeEpoch = (info) => {
      this.hqE2ee = info;
      this.emit('hqE2eeChanged', info);
    };
    this._media.keys?.joined(joined.participant.sid, joined.participant.identity, joined.participants);
    this._media.networkQuality = (config) => this._configureNetworkQuality(config);
    this.sid = joined.room.sid;
    this.name = joined.room.name;
    this.state = 'connected';
    this.mediaRegion = 'hqrooms';
    // Extension: how long the server keeps a participant whose connection
    // dropped (a "reconnecting" banner can count it down).
    this.hqReconnectGraceMs = joined.reconnect_grace_ms;
    this.isRecording = Boolean(joined.recording);
    // Extension: what is recorded, by whose decision (docs/sdk.md).
    this.hqRecording = recordingState(joined.recording);
    this.dominantSpeaker = null;
    // Extension (hosts): who waits in the waiting room, by identity.
    this.hqLobby = new Map();
    this.localParticipant = new LocalParticipant(joined.participant, link, this._media);
    this.participants = new Map();
    for (const p of joined.participants) this._subscribeData(this._addParticipant(p));
    if (joined.lobby) this._lobbyChanged(joined.lobby);
    signal.onEvent = (msg) => this._onEvent(msg);
    signal.onClose = (code, reason) => this._onClose(code, reason);
  }

  // Until connect() has handed the room to the app, what the room would
  // tell waits (as with twilio-video, tracks of those already in the room
  // are subscribed after connect() resolves, when the app listens); the
  // media negotiation goes on meanwhile.
  _hold(fn) {
    if (this._c.live) return false;
    this._c.held.push(fn);
    return true;
  }

  _release() {
    if (this._c.live) return;
    this._c.live = true;
    for (const fn of this._c.held.splice(0)) {
      if (this.state !== 'disconnected') fn();
    }
  }

  _addParticipant(desc) {
    const p = new RemoteParticipant(desc);
    for (const event of REEMITTED) p.on(event, (...args) => this.emit(event, ...args, p));
    this.participants.set(p.sid, p);
    this._media.addPeer?.(p.sid);
    return p;
  }

  _participant(sid) {
    return this.participants.get(sid) || null;
  }

  // Group rooms: data tracks come through the signalling connection, so
  // subscribing is ours to say (as automaticSubscription says).
  _subscribeData(p, only = null) {
    if (this._c.context.p2p || this._c.context.options.automaticSubscription === false) return;
    for (const pub of only ? [only] : p.dataTracks.values()) {
      this._subscribed({
        participant_sid: p.sid, track_sid: pub.trackSid, name: pub.trackName, kind: 'data',
        priority: pub.publishPriority,
      }, null, null);
    }
  }

  _lobbyChanged(waiting) {
    if (this._hold(() => this._lobbyChanged(waiting))) return;
    const before = this.hqLobby;
    this.hqLobby = new Map(waiting.map((w) => [w.identity, { sid: w.sid, identity: w.identity, name: w.name }]));
    for (const [identity, w] of this.hqLobby) {
      if (!before.has(identity)) this.emit('participantWaiting', w);
    }
    this.emit('hqLobbyChanged', [...this.hqLobby.values()]);
  }

  _recordingChanged(msg) {
    const was = this.isRecording;
    this.isRecording = msg.type !== 'recording_stopped';
    this.hqRecording = this.isRecording ? recordingState(msg) : null;
    if (this.isRecording && !was) this.emit('recordingStarted');
    if (!this.isRecording && was) this.emit('recordingStopped');
    this.emit('hqRecordingChanged', this.hqRecording);
  }

  _subscribed(desc, mst, channel) {
    if (this._hold(() => this._subscribed(desc, mst, channel))) return;
    const p = this._participant(desc.participant_sid);
    if (!p) {
      log.warn(`a track of unknown participant ${desc.participant_sid} arrived; ignored`);
      return;
    }
    let pub = p.tracks.get(desc.track_sid);
    if (!pub) {
      pub = new RemoteTrackPublication({ sid: desc.track_sid, name: desc.name, kind: desc.kind, priority: desc.priority });
      p._addPublication(pub);
      p.emit('trackPublished', pub);
    }
    if (desc.kind === 'data' && !channel && pub.track) return; // group room: subscribed already
    let track;
    if (desc.kind === 'data') {
      track = new RemoteDataTrack(pub.trackSid, pub.trackName, pub.isTrackEnabled);
      track.isSubscribed = true;
      if (channel) track._receive(channel, p);
    } else {
      const Cls = desc.kind === 'audio' ? RemoteAudioTrack : RemoteVideoTrack;
      track = new Cls(pub.trackSid, mst, pub.trackName, pub.isTrackEnabled);
      track.on('started', () => p.emit('trackStarted', track));
      track.on('dimensionsChanged', () => p.emit('trackDimensionsChanged', track));
      const off = this._c.switchedOff.get(desc.track_sid);
      if (off !== undefined) {
        track.isSwitchedOff = true;
        track.switchOffReason = off;
      }
      if (desc.kind === 'video') this._hints?.add(track);
      if (!this._c.context.p2p) {
        Object.defineProperty(track, '_prioritySender', {
          enumerable: false,
          value: (trackSid, priority) => this._c.signal.request('subscribe_priority', { track_sid: trackSid, priority }),
        });
      }
    }
    pub.track = track;
    pub.emit('subscribed', track);
    p.emit('trackSubscribed', track, pub);
  }

  _unsubscribed(participantSid, trackSid) {
    if (this._hold(() => this._unsubscribed(participantSid, trackSid))) return;
    const p = this._participant(participantSid);
    const pub = p?.tracks.get(trackSid);
    if (!pub || !pub.track) return;
    const track = pub.track;
    pub.track = null;
    if (track.kind === 'data') track.isSubscribed = false;
    else track._stopWatching();
    if (track.kind === 'video') this._hints?.remove(track);
    pub.emit('unsubscribed', track);
    p.emit('trackUnsubscribed', track, pub);
  }

  _unpublished(p, pub) {
    this._unsubscribed(p.sid, pub.trackSid);
    this._c.switchedOff.delete(pub.trackSid);
    p._removePublication(pub);
    p.emit('trackUnpublished', pub);
  }

  _removeParticipant(sid) {
    const p = this._participant(sid);
    if (!p) return;
    for (const pub of [...p.tracks.values()]) this._unpublished(p, pub);
    this._media.removePeer?.(sid);
    this.participants.delete(sid);
    p._setState('disconnected');
    p.emit('disconnected', p);
    this.emit('participantDisconnected', p);
    if (this.dominantSpeaker === p) {
      this.dominantSpeaker = null;
      if (this._c.context.options.dominantSpeaker) this.emit('dominantSpeakerChanged', null);
    }
  }

  _trackEvent(msg) {
    const p = this._participant(msg.participant_sid);
    const pub = p?.tracks.get(msg.track?.sid);
    switch (msg.type) {
      case 'track_published': {
        if (!p || pub) return;
        const fresh = new RemoteTrackPublication(msg.track);
        p._addPublication(fresh);
        p.emit('trackPublished', fresh);
        if (fresh.kind === 'data') this._subscribeData(p, fresh);
        return;
      }
      case 'track_unpublished':
        if (pub) this._unpublished(p, pub);
        return;
      case 'track_enabled':
      case 'track_disabled': {
        if (!pub) return;
        const enabled = msg.type === 'track_enabled';
        if (pub.isTrackEnabled === enabled) return;
        pub.isTrackEnabled = enabled;
        pub.track?._setEnabled(enabled);
        pub.emit(enabled ? 'trackEnabled' : 'trackDisabled');
        p.emit(enabled ? 'trackEnabled' : 'trackDisabled', pub);
        return;
      }
      case 'track_priority_changed':
        if (!pub || pub.publishPriority === msg.track.priority) return;
        pub.publishPriority = msg.track.priority;
        pub.emit('publishPriorityChanged', pub.publishPriority);
        p.emit('trackPublishPriorityChanged', pub.publishPriority, pub);
        return;
      default:
    }
  }

  // The server stopped or started forwarding a track to us (bandwidth
  // profiles, docs/protocol.md): the track's switchedOff/switchedOn, the
  // participant's and the room's trackSwitchedOff/trackSwitchedOn.
  _switched(msg) {
    const off = msg.type === 'track_switched_off';
    const reason = off ? msg.reason || null : null;
    if (off) this._c.switchedOff.set(msg.track_sid, reason);
    else this._c.switchedOff.delete(msg.track_sid);
    const p = this._participant(msg.participant_sid);
    const pub = p?.tracks.get(msg.track_sid);
    const track = pub?.track;
    if (!track || track.kind === 'data' || !track._setSwitchedOff(off, reason)) return;
    if (off) {
      pub.emit('trackSwitchedOff', track);
      p.emit('trackSwitchedOff', track, pub);
    } else {
      pub.emit('trackSwitchedOn', track);
      p.emit('trackSwitchedOn', track, pub);
    }
  }

  _onEvent(msg) {
    const options = this._c.context.options;
    const media = ['subscribe_offer', 'candidate', 'end_of_candidates', 'publish_answer', 'peer_offer',
      'peer_answer', 'peer_candidate', 'e2ee_message'];
    if (!media.includes(msg.type) && this._hold(() => this._onEvent(msg))) return;
    switch (msg.type) {
      case 'peer_offer':
      case 'peer_answer':
      case 'peer_candidate':
        this._media.onPeerMessage?.(msg);
        return;
      case 'subscribe_offer':
        this._media.onSubscribeOffer(msg);
        return;
      case 'e2ee_message':
        this._media.keys?.receive(msg);
        return;
      case 'candidate':
      case 'end_of_candidates':
        this._media.onCandidate(msg);
        return;
      case 'participant_connected': {
        // A participant who replaces an earlier one of the same identity
        // comes after that one's participant_disconnected.
        if (this.participants.has(msg.participant.sid)) return;
        const p = this._addParticipant(msg.participant);
        this._media.keys?.participant(msg.participant.sid, msg.participant.identity);
        this.emit('participantConnected', p);
        this._subscribeData(p);
        return;
      }
      case 'participant_disconnected':
        this._media.keys?.participant(msg.participant.sid, null);
        this._removeParticipant(msg.participant.sid);
        return;
      case 'participant_reconnecting':
      case 'participant_reconnected': {
        const p = this._participant(msg.participant.sid);
        const state = msg.type === 'participant_reconnecting' ? 'reconnecting' : 'connected';
        if (!p || !p._setState(state)) return;
        const event = state === 'connected' ? 'reconnected' : 'reconnecting';
        p.emit(event, p);
        this.emit(state === 'connected' ? 'participantReconnected' : 'participantReconnecting', p);
        return;
      }
      case 'track_published':
      case 'track_unpublished':
      case 'track_enabled':
      case 'track_disabled':
      case 'track_priority_changed':
        this._trackEvent(msg);
        return;
      case 'track_switched_off':
      case 'track_switched_on':
        this._switched(msg);
        return;
      case 'publish_layers':
        this._media.onPublishLayers?.(msg);
        return;
      case 'dominant_speaker': {
        if (!options.dominantSpeaker) return;
        const p = msg.participant_sid ? this._participant(msg.participant_sid) : null;
        if (this.dominantSpeaker === p) return;
        this.dominantSpeaker = p;
        this.emit('dominantSpeakerChanged', p);
        return;
      }
      case 'network_quality':
        if (!options.networkQuality) return;
        for (const entry of msg.participants) {
          const p = entry.participant_sid === this.localParticipant.sid
            ? this.localParticipant : this._participant(entry.participant_sid);
          p?._setNetworkQuality(entry);
        }
        return;
      case 'muted':
        this.localParticipant._mutedByHost(msg.track_sid);
        return;
      case 'removed':
        // The close (4001) follows: `disconnected` carries this sentence.
        this._c.said = msg.message || null;
        return;
      case 'room_completed':
        // The close (4004) follows.
        this._c.said = msg.reason === 'completed_by_host' ? 'A host ended the Room for everyone' : null;
        return;
      case 'lobby_changed':
        this._lobbyChanged(msg.waiting || []);
        return;
      case 'recording_started':
      case 'recording_changed':
      case 'recording_stopped':
        this._recordingChanged(msg);
        return;
      case 'data_message': {
        const p = this._participant(msg.participant_sid);
        const track = p?.tracks.get(msg.track_sid)?.track;
        if (track?.kind === 'data') track._deliver(msg.binary ? fromBase64(msg.data) : msg.data, p);
        return;
      }
      case 'server_draining':
        // Extension: the server is stopping; the call may go on until
        // `deadline` (docs/server.md, "Stopping").
        this.emit('hqServerDraining', { deadline: new Date(msg.deadline), seconds: msg.seconds });
        return;
      case 'transport_state':
        if (msg.state === 'failed') log.warn(`the server's ${msg.transport} transport failed: ${msg.message}`);
        this._media.onServerTransportState?.(msg);
        return;
      default:
        log.debug(`signal event ${msg.type} not used`);
    }
  }

  // Twilio's verbosities (local default 1, remote 0) sent to the server.
  _configureNetworkQuality(config = {}) {
    const body = { local: config.local ?? 1, remote: config.remote ?? 0 };
    return this._c.signal.request('network_quality_configure', body)
      .catch((err) => log.warn('network quality configuration refused:', err));
  }

  _onClose(code, reason) {
    if (this.state === 'disconnected') return;
    const error = errorFromClose(code, reason, this._c.said);
    if (this._c.signalDown) return; // _reconnect is trying
    if (RESUMABLE.has(code) && this._c.resumeToken) {
      this._reconnect(error);
      return;
    }
    this._finish(error);
  }

  _enterReconnecting(error) {
    if (this.state !== 'connected') return;
    this.state = 'reconnecting';
    this.localParticipant._setState('reconnecting');
    this.emit('reconnecting', error);
  }

  // Connected again once the signalling connection and every media
  // connection are.
  _maybeReconnected() {
    if (this.state !== 'reconnecting' || this._c.signalDown || this._c.mediaLost.size) return;
    this.state = 'connected';
    this.localParticipant._setState('connected');
    this.emit('reconnected');
  }

  // Resumes the same participant on a new signalling connection within
  // the server's reconnect grace period; the media connections carry on.
  async _reconnect(error) {
    this._c.signalDown = true;
    this._enterReconnecting(error);
    const deadline = Date.now() + (this._c.graceMs || 30000);
    let wait = 250;
    while (this.state === 'reconnecting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 2000);
      if (this.state !== 'reconnecting') return;
      const signal = new Signal(this._c.context.url, () => {}, () => {});
      try {
        await signal.open();
        const events = [];
        signal.onEvent = (msg) => events.push(msg);
        const profile = bandwidthProfileMessage(this._c.context.options.bandwidthProfile);
        const joined = await signal.request('join', {
          token: this._c.context.token, room: this.sid, resume_token: this._c.resumeToken,
          ...(profile ? { bandwidth_profile: profile } : {}),
        });
        if (this.state !== 'reconnecting') {
          signal.close();
          return;
        }
        this._c.signal = signal;
        this._c.resumeToken = joined.resume_token;
        this._c.graceMs = joined.reconnect_grace_ms;
        this._media.iceServers = joined.ice_servers; // fresh TURN credentials
        this.hqReconnectGraceMs = joined.reconnect_grace_ms;
        signal.onEvent = (msg) => this._onEvent(msg);
        signal.onClose = (code, reason) => this._onClose(code, reason);
        this._resync(joined);
        if (joined.participant.sid !== this.localParticipant.sid) {
          // Not resumed: the server restarted and forgot us.  We joined
          // anew: new connections, our tracks published again.
          try {
            await this.localParticipant._rejoined(joined.participant);
            this._c.mediaLost.clear(); // new connections
          } catch (err) {
            this._finish(err);
            return;
          }
          for (const sid of this.participants.keys()) this._media.addPeer?.(sid);
        }
        this._c.signalDown = false;
        this._maybeReconnected();
        for (const msg of events) this._onEvent(msg);
        return;
      } catch (err) {
        signal.close();
        log.info('reconnect attempt failed:', err.message);
        if (err.code === 20104) {
          this._finish(err);
          return;
        }
        if (err.code && err.code !== 53000 && err.code !== 53001) break;
      }
    }
    if (this.state === 'reconnecting') {
      this._finish(new errors.SignalingConnectionDisconnectedError(
        'Could not reconnect to the Room within its reconnect grace period'));
    }
  }

  // After a resume: who left and who came while we were away.
  _resync(joined) {
    const now = new Map(joined.participants.map((d) => [d.sid, d]));
    for (const sid of [...this.participants.keys()]) {
      if (!now.has(sid)) this._removeParticipant(sid);
    }
    for (const [sid, desc] of now) {
      if (this.participants.has(sid)) continue;
      const p = this._addParticipant(desc);
      this.emit('participantConnected', p);
      this._subscribeData(p);
    }
    if (Boolean(joined.recording) !== this.isRecording || joined.recording) {
      this._recordingChanged(joined.recording ? { type: 'recording_changed', ...joined.recording }
        : { type: 'recording_stopped' });
    }
    if (joined.lobby) this._lobbyChanged(joined.lobby);
  }

  // Leaves (when still connected) and ends everything; `error` is what
  // the `disconnected` event carries (none when the app disconnected).
  _finish(error) {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    const signal = this._c.signal;
    signal.send({ type: 'leave' });
    signal.close();
    this._media.close();
    this._hints?.close();
    const local = this.localParticipant;
    for (const pub of local.tracks.values()) {
      pub._unfollow?.();
      if (pub.track._createdBySdk) pub.track.stop();
    }
    for (const track of this._c.context.sdkTracks || []) track.stop();
    for (const p of this.participants.values()) {
      for (const pub of p.tracks.values()) pub.track?._stopWatching?.();
      p._setState('disconnected');
    }
    local._setState('disconnected');
    local.emit('disconnected', local);
    this.emit('disconnected', this, error || undefined);
  }

  disconnect() {
    this._finish(null);
    return this;
  }

  async getStats() {
    return this._media.getStats([...this.localParticipant.tracks.values()]);
  }

  refreshInactiveMedia() {}

  // --- hqrooms extensions (docs/sdk.md, "Extensions"); hosts only ---

  _request(type, fields) {
    return this._c.signal.request(type, fields);
  }

  _remote(who) {
    if (who && typeof who === 'object') return who;
    for (const p of this.participants.values()) {
      if (p.sid === who || p.identity === who) return p;
    }
    throw new errors.ParticipantNotFoundError(`No participant ${who} is in the Room`);
  }

  // Lets a waiting guest in (by identity or sid); an identity that is not
  // waiting but was removed or denied may join again.
  async hqAdmit(who) {
    const waiting = this.hqLobby.get(who) || [...this.hqLobby.values()].find((w) => w.sid === who);
    if (waiting) await this._request('admit', { participant_sid: waiting.sid });
    else await this._request('admit', { identity: who });
  }

  // Turns a waiting guest away; `reason` is shown to them after a sentence
  // of the server's.
  async hqDeny(who, reason) {
    const waiting = this.hqLobby.get(who) || [...this.hqLobby.values()].find((w) => w.sid === who);
    if (!waiting) throw new errors.ParticipantNotFoundError(`Nobody called ${who} is waiting`);
    await this._request('deny', { participant_sid: waiting.sid, ...(reason ? { reason } : {}) });
  }

  // Disables another participant's track for everyone (`track`: a
  // publication or track sid; default: all its audio tracks).
  async hqMute(who, track) {
    const p = this._remote(who);
    const sids = track ? [typeof track === 'string' ? track : track.trackSid] : [...p.audioTracks.keys()];
    await Promise.all(sids.map((sid) => this._request('mute', { participant_sid: p.sid, track_sid: sid })));
  }

  // Removes a participant; it gets `disconnected` with the reason.
  async hqRemove(who, reason) {
    const p = this._remote(who);
    await this._request('remove', { participant_sid: p.sid, ...(reason ? { reason } : {}) });
  }

  // Records the tracks `rules` select (default: every audio and video
  // track), as REST's RecordingRules; resolves with the rules in effect.
  hqStartRecording(rules) {
    return this._request('recording_start', rules ? { rules } : {});
  }

  hqStopRecording() {
    return this._request('recording_stop', {});
  }

  // Ends the Room for everyone (this participant too: `disconnected` with
  // RoomCompletedError follows).
  async hqEndRoom() {
    await this._request('room_complete', {});
  }

  toString() {
    return `[Room ${this.sid}]`;
  }
}
