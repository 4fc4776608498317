// The media side of a group room: the two WebRTC connections to the
// server's SFU (docs/protocol.md, "Media"): "publish", where we offer our
// tracks and the server answers, and "subscribe", where the server offers
// everyone else's tracks and we answer.
import { errors } from './errors.js';
import { log } from './log.js';
import { FrameCrypt, E2eeKeys, encryptSender, decryptReceiver } from './e2ee.js';

// The RTCConfiguration of every RTCPeerConnection the SDK makes.  As in
// twilio-video, the app's `iceServers` and `iceTransportPolicy` connect
// options win; without `iceServers` the SDK uses the ICE servers of the
// server's join reply (STUN, and TURN with credentials that expire:
// docs/protocol.md, "ICE servers"), the ones of the latest (re)join.
// `rtcConfiguration` (an hqrooms option) overrides everything.
export function rtcConfiguration(options, joinIceServers) {
  const config = { bundlePolicy: 'max-bundle' };
  const servers = options.iceServers ?? joinIceServers;
  if (Array.isArray(servers) && servers.length) config.iceServers = servers;
  if (options.iceTransportPolicy) config.iceTransportPolicy = options.iceTransportPolicy;
  return { ...config, ...(options.rtcConfiguration || {}) };
}

const CODEC_MIME = { VP8: 'video/VP8', H264: 'video/H264', VP9: 'video/VP9' };

// Simulcast (docs/sdk.md, "Simulcast"): the three layers of a video track,
// lowest resolution first as the server expects them (docs/protocol.md,
// "Simulcast and bandwidth profiles"), with the bit rates each may use.
export const SIMULCAST_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
];

// Whether connect()'s preferredVideoCodecs asks for simulcast the way
// twilio-video does: VP8 first, with `simulcast: true`.
export function wantsSimulcast(preferred) {
  const first = Array.isArray(preferred) ? preferred[0] : null;
  return Boolean(first && typeof first === 'object' && first.codec === 'VP8' && first.simulcast === true);
}

// The sendEncodings of a simulcast video track; `max` (maxVideoBitrate)
// caps every layer.
export function simulcastEncodings(max) {
  return SIMULCAST_LAYERS.map((l) => ({ ...l, maxBitrate: max ? Math.min(max, l.maxBitrate) : l.maxBitrate }));
}

// The server's limit on one data track message (docs/protocol.md, "Data
// tracks in group rooms"): bytes of a string's UTF-8, or of binary data.
export const MAX_DATA_MESSAGE = 16384;

function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out.buffer;
}

// The data_send message for one LocalDataTrack.send(data) (a string, an
// ArrayBuffer or a view of one); throws TrackInvalidError for what the
// server would refuse.
export function dataSendMessage(id, trackSid, data) {
  const msg = { type: 'data_send', id, track_sid: trackSid };
  let size;
  if (typeof data === 'string') {
    size = new TextEncoder().encode(data).length;
    msg.data = data;
  } else {
    const bytes = bytesOf(data);
    if (!bytes) {
      throw new errors.TrackInvalidError(
        'A data track sends strings, ArrayBuffers and typed arrays in a group room (not Blobs)');
    }
    size = bytes.length;
    msg.data = toBase64(bytes);
    msg.binary = true;
  }
  if (size > MAX_DATA_MESSAGE) {
    throw new errors.TrackInvalidError(`A data track message carries at most ${MAX_DATA_MESSAGE} bytes `
      + `in a group room; this one has ${size}. Nothing was sent.`);
  }
  return msg;
}

// Video codec preferences in the order asked for (what the browser and the
// server both support; the server receives VP8 and H.264).
export function videoCodecs(preferred) {
  if (!preferred?.length || !globalThis.RTCRtpSender?.getCapabilities) return null;
  const all = RTCRtpSender.getCapabilities('video')?.codecs || [];
  const wanted = preferred.map((c) => CODEC_MIME[typeof c === 'string' ? c : c.codec]).filter(Boolean);
  const first = [];
  for (const mime of wanted) first.push(...all.filter((c) => c.mimeType === mime));
  if (!first.length) return null;
  return [...first, ...all.filter((c) => !first.includes(c))];
}

export class SfuMedia {
  // `signal`: the Signal; `handlers`: {subscribed(desc, mediaStreamTrack),
  // unsubscribed(desc), failed(error), mediaLost(transport, error),
  // mediaRestored(transport)}; `options`: connect()'s.
  constructor(signal, handlers, options = {}) {
    this.signal = signal;
    this.handlers = handlers;
    this.options = options;
    this.pub = null;
    this.sub = null;
    this.pubQueue = Promise.resolve();
    this.subQueue = Promise.resolve();
    this.mapped = new Map(); // track sid -> mid on the publish connection
    this.subTracks = new Map(); // mid -> subscribe offer's track description
    this.closed = false;
    this.carriesData = true; // on the signalling connection
    this.nextDataId = 1;
    // Extension: end-to-end encryption (docs/e2ee.md); our identity is set
    // once joined.  One key store and counter for all our tracks.
    this.crypt = options.e2ee ? new FrameCrypt(options.e2ee.secret) : null;
    // Key epochs: a new one when a key holder leaves (docs/e2ee.md).
    this.keys = this.crypt ? new E2eeKeys(this.crypt, options.e2ee.secret,
      (to, data) => signal.send({ type: 'e2ee_send', ...(to ? { to } : {}), data }),
      (info) => this.onE2eeEpoch?.(info)) : null;
    this.localIdentity = null;
    this.decrypting = new WeakSet(); // receivers with their transform
    this.recovering = new Map(); // transport -> its ICE restarts (_lost)
  }

  // A published data track sends through the signalling connection: a
  // sink among the track's channels.
  _carryData(pub) {
    const sink = {
      readyState: 'open',
      send: (data) => this.signal.send(dataSendMessage(`data-${this.nextDataId++}`, pub.trackSid, data)),
    };
    Object.defineProperty(pub, '_dataSink', { value: sink, enumerable: false, configurable: true });
    pub.track._channels.add(sink);
  }

  _dropData(pub) {
    if (pub._dataSink) pub.track._channels.delete(pub._dataSink);
  }

  _newPeerConnection(transport) {
    const pc = new RTCPeerConnection({
      ...rtcConfiguration(this.options, this.iceServers),
      ...(this.crypt ? { encodedInsertableStreams: true } : {}),
    });
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        this.signal.send({ type: 'candidate', transport, candidate: e.candidate.candidate });
      } else if (!e.candidate) {
        this.signal.send({ type: 'end_of_candidates', transport });
      }
    };
    pc.onconnectionstatechange = () => {
      log.debug(`${transport} connection ${pc.connectionState}`);
      if (this.closed) return;
      if (pc.connectionState === 'failed') this._lost(transport, pc);
      else if (pc.connectionState === 'connected') this._restored(transport);
    };
    return pc;
  }

  // A connection failed (its path went dark: ICE consent lost).  As
  // twilio-video does, it is restarted (docs/protocol.md, "When a
  // connection fails"): the publish connection with an ICE-restart offer,
  // the subscribe connection by asking the server to offer one; at once,
  // then after 3, 6, 12 and every 15 s, for `hqMediaRecoveryTimeoutMs`
  // (default 30 s), after which the room ends with 53405.
  _lost(transport, pc) {
    if (this.recovering.has(transport)) return;
    const error = new errors.MediaConnectionError(
      `The ${transport} media connection to the server failed; restarting ICE`);
    const timeout = this.options.hqMediaRecoveryTimeoutMs ?? 30000;
    const r = { deadline: Date.now() + timeout, wait: 3000, timer: null };
    this.recovering.set(transport, r);
    this.handlers.mediaLost?.(transport, error);
    const attempt = () => {
      r.timer = null;
      if (this.closed || this.recovering.get(transport) !== r) return;
      if (Date.now() >= r.deadline) {
        this.recovering.delete(transport);
        this.handlers.failed(new errors.MediaConnectionError(
          `The ${transport} media connection to the server failed and an ICE restart `
          + `did not bring it back within ${timeout} ms`));
        return;
      }
      this._restartIce(transport, pc).catch((err) => log.warn(`${transport} ICE restart:`, err.message));
      r.timer = setTimeout(attempt, Math.min(r.wait, Math.max(0, r.deadline - Date.now())));
      r.wait = Math.min(r.wait * 2, 15000);
    };
    attempt();
  }

  async _restartIce(transport, pc) {
    if (transport === 'subscribe') {
      await this.signal.request('ice_restart', { transport: 'subscribe' });
      return;
    }
    this.pubQueue = this.pubQueue.then(async () => {
      if (this.closed || pc !== this.pub) return;
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      const tracks = [...this.mapped].map(([sid, mid]) => ({ mid, track_sid: sid }));
      const answer = await this.signal.request('publish_offer', { sdp: offer.sdp, tracks });
      if (!this.closed && pc === this.pub) await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    }).catch((err) => log.warn('publish ICE restart failed:', err.message));
    await this.pubQueue;
  }

  // The server's side of the publish connection, which only we can
  // restart: it failed first (Chromium may call ours only "disconnected"
  // for a long time), or it is connected again after our restart (ours may
  // never have left "connected").
  onServerTransportState(msg) {
    if (msg.transport !== 'publish' || !this.pub || this.closed) return;
    if (msg.state === 'failed') this._lost('publish', this.pub);
    else if (msg.state === 'connected' && this.pub.connectionState === 'connected') this._restored('publish');
  }

  _restored(transport) {
    const r = this.recovering.get(transport);
    if (!r) return;
    clearTimeout(r.timer);
    this.recovering.delete(transport);
    this.handlers.mediaRestored?.(transport);
  }

  // Adds publications' tracks to the publish connection and negotiates:
  // one publish_offer naming every mapped track (the new ones included).
  async publish(all) {
    for (const p of all.filter((x) => x.kind === 'data')) this._carryData(p);
    const pubs = all.filter((x) => x.kind !== 'data');
    if (!pubs.length) return;
    if (!this.pub) this.pub = this._newPeerConnection('publish');
    const added = [];
    for (const p of pubs) {
      const track = p.track;
      const max = track.kind === 'audio' ? this.options.maxAudioBitrate : this.options.maxVideoBitrate;
      const init = { direction: 'sendonly', streams: [new MediaStream([track.mediaStreamTrack])] };
      if (track.kind === 'video' && wantsSimulcast(this.options.preferredVideoCodecs)) {
        init.sendEncodings = simulcastEncodings(max);
      } else if (max) init.sendEncodings = [{ maxBitrate: max }];
      const tr = this.pub.addTransceiver(track.mediaStreamTrack, init);
      if (this.crypt) encryptSender(this.crypt, tr.sender, track.kind, () => this.localIdentity);
      if (track.kind === 'video') {
        const codecs = videoCodecs(this.options.preferredVideoCodecs);
        if (codecs && tr.setCodecPreferences) tr.setCodecPreferences(codecs);
      }
      Object.defineProperty(p, '_transceiver', { value: tr, enumerable: false, configurable: true });
      track._senders.add(tr.sender);
      added.push([p, tr]);
    }
    let offer;
    try {
      offer = await this.pub.createOffer();
      await this.pub.setLocalDescription(offer);
    } catch (err) {
      this._undo(added);
      throw new errors.MediaClientLocalDescFailedError(`Cannot create the publish offer: ${err.message}`);
    }
    const tracks = [...this.mapped].map(([sid, mid]) => ({ mid, track_sid: sid }));
    for (const [p, tr] of added) tracks.push({ mid: tr.mid, track_sid: p.trackSid });
    let answer;
    try {
      answer = await this.signal.request('publish_offer', { sdp: offer.sdp, tracks });
    } catch (err) {
      this._undo(added);
      throw err;
    }
    for (const [p, tr] of added) this.mapped.set(p.trackSid, tr.mid);
    this.pubQueue = this.pubQueue.then(() =>
      this.pub.setRemoteDescription({ type: 'answer', sdp: answer.sdp }));
    try {
      await this.pubQueue;
    } catch (err) {
      this.pubQueue = Promise.resolve();
      throw new errors.MediaClientRemoteDescFailedError(`Cannot apply the publish answer: ${err.message}`);
    }
    if (wantsSimulcast(this.options.preferredVideoCodecs)) {
      for (const [p, tr] of added) {
        if (p.kind === 'video') await this._simulcastRefused(tr, answer.sdp);
      }
    }
  }

  // A server without simulcast answers without a=simulcast, and the
  // browser keeps only the first layer, the quarter-size one: the track
  // is then sent at full size, as without simulcast.
  async _simulcastRefused(tr, sdp) {
    const params = tr.sender.getParameters();
    if (params.encodings?.length !== 1) return;
    const section = sdp.split(/\r\n(?=m=)/).find((m) => m.includes(`\r\na=mid:${tr.mid}\r\n`)) || '';
    if (section.includes('\r\na=simulcast:')) return;
    log.info('the server did not take simulcast; the video goes out as one full-size layer');
    const e = params.encodings[0];
    e.scaleResolutionDownBy = 1;
    if (this.options.maxVideoBitrate) e.maxBitrate = this.options.maxVideoBitrate;
    else delete e.maxBitrate;
    await tr.sender.setParameters(params).catch((err) => log.warn('setParameters failed:', err.message));
  }

  _undo(added) {
    for (const [p, tr] of added) {
      p.track._senders.delete(tr.sender);
      tr.sender.replaceTrack(null).catch(() => {});
    }
  }

  // Stops sending a track.  Its m-line stays, idle; the server already
  // forgot the track (track_unpublish), and later offers no longer map it.
  async unpublish(p) {
    this._dropData(p);
    const tr = p._transceiver;
    this.mapped.delete(p.trackSid);
    if (!tr) return;
    p.track._senders.delete(tr.sender);
    await tr.sender.replaceTrack(null);
  }

  setBitrates({ maxAudioBitrate, maxVideoBitrate } = {}) {
    if (maxAudioBitrate !== undefined) this.options.maxAudioBitrate = maxAudioBitrate;
    if (maxVideoBitrate !== undefined) this.options.maxVideoBitrate = maxVideoBitrate;
    for (const tr of this.pub ? this.pub.getTransceivers() : []) {
      const kind = tr.sender.track?.kind;
      if (!kind) continue;
      const max = kind === 'audio' ? this.options.maxAudioBitrate : this.options.maxVideoBitrate;
      const params = tr.sender.getParameters();
      if (!params.encodings?.length) continue;
      for (const e of params.encodings) {
        const layer = SIMULCAST_LAYERS.find((l) => l.rid === e.rid);
        if (layer) e.maxBitrate = max ? Math.min(max, layer.maxBitrate) : layer.maxBitrate;
        else if (max) e.maxBitrate = max;
        else delete e.maxBitrate;
      }
      tr.sender.setParameters(params).catch((err) => log.warn('setParameters failed:', err));
    }
  }

  // The server's publish_layers (adaptive simulcast): the layers of one of
  // our tracks that somebody receives.  The others stop being encoded.
  onPublishLayers(msg) {
    this.pubQueue = this.pubQueue.then(async () => {
      const mid = this.mapped.get(msg.track_sid);
      const tr = this.pub?.getTransceivers().find((t) => t.mid === mid);
      if (this.closed || mid === undefined || !tr) return;
      const active = new Map((msg.layers || []).map((l) => [l.rid, l.active !== false]));
      const params = tr.sender.getParameters();
      let changed = false;
      for (const e of params.encodings || []) {
        if (!e.rid || !active.has(e.rid) || e.active === active.get(e.rid)) continue;
        e.active = active.get(e.rid);
        changed = true;
      }
      if (!changed) return;
      log.debug(`${msg.track_sid} layers:`, (params.encodings || []).map((e) => `${e.rid}=${e.active}`).join(' '));
      await tr.sender.setParameters(params);
    }).catch((err) => log.warn('publish_layers: setParameters failed:', err.message));
  }

  onSubscribeOffer(msg) {
    this.subQueue = this.subQueue.then(async () => {
      if (this.closed) return;
      if (!this.sub) this.sub = this._newPeerConnection('subscribe');
      const before = this.subTracks;
      this.subTracks = new Map(msg.tracks.map((t) => [t.mid, t]));
      for (const [mid, desc] of before) {
        const now = this.subTracks.get(mid);
        if (!now || now.track_sid !== desc.track_sid) this.handlers.unsubscribed(desc);
      }
      try {
        await this.sub.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
        const answer = await this.sub.createAnswer();
        await this.sub.setLocalDescription(answer);
        if (this.crypt) this._decryptNew();
        this.signal.send({ type: 'subscribe_answer', sdp: answer.sdp, revision: msg.revision });
      } catch (err) {
        this.handlers.failed(new errors.MediaClientRemoteDescFailedError(
          `Cannot apply the server's subscribe offer: ${err.message}`));
        return;
      }
      for (const [mid, desc] of this.subTracks) {
        const old = before.get(mid);
        if (old && old.track_sid === desc.track_sid) continue;
        const tr = this.sub.getTransceivers().find((t) => t.mid === mid);
        if (tr) this.handlers.subscribed(desc, tr.receiver.track);
      }
    });
  }

  // Every receiver of the subscribe connection decrypts, with the keys of
  // whoever's track its m-line carries at the time.
  _decryptNew() {
    for (const tr of this.sub.getTransceivers()) {
      if (!tr.mid || this.decrypting.has(tr.receiver)) continue;
      this.decrypting.add(tr.receiver);
      const mid = tr.mid;
      decryptReceiver(this.crypt, tr.receiver, () => this.subTracks.get(mid));
    }
  }

  onCandidate(msg) {
    const isPub = msg.transport === 'publish';
    const queue = isPub ? 'pubQueue' : 'subQueue';
    this[queue] = this[queue].then(() => {
      const pc = isPub ? this.pub : this.sub;
      if (!pc || this.closed) return undefined;
      return pc.addIceCandidate(msg.type === 'end_of_candidates'
        ? null : { candidate: msg.candidate, sdpMLineIndex: 0 });
    }).catch((err) => log.warn(`cannot add a ${msg.transport} ICE candidate:`, err));
  }

  // Stats of both connections, in twilio-video's StatsReport shape.
  async getStats(localPublications) {
    const reports = [];
    const byMid = new Map();
    for (const p of localPublications) {
      if (p._transceiver) byMid.set(p._transceiver.mid, p);
    }
    for (const [id, pc] of [['publish', this.pub], ['subscribe', this.sub]]) {
      if (!pc) continue;
      reports.push(statsReport(id, await pc.getStats(), byMid, this.subTracks));
    }
    return reports;
  }

  close() {
    this.closed = true;
    for (const r of this.recovering.values()) clearTimeout(r.timer);
    this.recovering.clear();
    this.pub?.close();
    this.sub?.close();
  }

  // Starts over with new connections (the server forgot ours: it
  // restarted); `publications` lose their senders.
  reset(publications) {
    this.close();
    for (const p of publications) {
      if (p._transceiver) p.track._senders.delete(p._transceiver.sender);
      this._dropData(p);
    }
    this.pub = null;
    this.sub = null;
    this.pubQueue = Promise.resolve();
    this.subQueue = Promise.resolve();
    this.mapped.clear();
    this.subTracks = new Map();
    this.closed = false;
  }
}

export function statsReport(peerConnectionId, stats, localByMid, remoteByMid) {
  const report = {
    peerConnectionId,
    localAudioTrackStats: [],
    localVideoTrackStats: [],
    remoteAudioTrackStats: [],
    remoteVideoTrackStats: [],
  };
  const get = (id) => (id ? stats.get(id) : undefined);
  stats.forEach((s) => {
    const codec = get(s.codecId)?.mimeType?.split('/')[1] ?? null;
    if (s.type === 'outbound-rtp') {
      const pub = localByMid.get(s.mid);
      if (!pub) return;
      const remoteIn = [...stats.values()].find((r) => r.type === 'remote-inbound-rtp' && r.localId === s.id);
      const media = get(s.mediaSourceId);
      const common = {
        trackId: pub.track.id,
        trackSid: pub.trackSid,
        timestamp: s.timestamp,
        ssrc: String(s.ssrc),
        packetsLost: remoteIn?.packetsLost ?? null,
        codec,
        bytesSent: s.bytesSent ?? null,
        packetsSent: s.packetsSent ?? null,
        roundTripTime: remoteIn?.roundTripTime ?? null,
        jitter: remoteIn?.jitter ?? null,
      };
      if (s.kind === 'audio') {
        report.localAudioTrackStats.push({ ...common, audioLevel: level(media?.audioLevel) });
      } else {
        report.localVideoTrackStats.push({
          ...common,
          captureDimensions: media?.width ? { width: media.width, height: media.height } : null,
          dimensions: s.frameWidth ? { width: s.frameWidth, height: s.frameHeight } : null,
          captureFrameRate: media?.framesPerSecond ?? null,
          frameRate: s.framesPerSecond ?? null,
        });
      }
    } else if (s.type === 'inbound-rtp') {
      const desc = remoteByMid.get(s.mid);
      if (!desc) return;
      const common = {
        trackId: s.trackIdentifier ?? null,
        trackSid: desc.track_sid,
        timestamp: s.timestamp,
        ssrc: String(s.ssrc),
        packetsLost: s.packetsLost ?? null,
        codec,
        bytesReceived: s.bytesReceived ?? null,
        packetsReceived: s.packetsReceived ?? null,
      };
      if (s.kind === 'audio') {
        report.remoteAudioTrackStats.push({ ...common, audioLevel: level(s.audioLevel), jitter: s.jitter ?? null });
      } else {
        report.remoteVideoTrackStats.push({
          ...common,
          dimensions: s.frameWidth ? { width: s.frameWidth, height: s.frameHeight } : null,
          frameRate: s.framesPerSecond ?? null,
        });
      }
    }
  });
  return report;
}

// twilio-video's AudioLevel: 0..32767, the browser's is 0..1.
function level(x) {
  return x == null ? null : Math.round(x * 32767);
}
