// The media side of peer-to-peer and go rooms (docs/protocol.md, "Media"):
// one WebRTC connection to each other participant, negotiated through the
// server's peer_offer/peer_answer/peer_candidate relay.  Either side may
// offer whenever its tracks change ("perfect negotiation": on a collision
// the participant with the greater sid yields).  Everything that touches
// a connection's descriptions (our offers, their offers, answers and
// candidates) runs in one queue per connection, and what we send is named
// by the description the browser made, so an offer and an answer never
// cross: before, an offer started by negotiationneeded could run while
// the queue answered their offer, and the browser then made the answer in
// the offer's call (and an offer in the answer's), sent under each
// other's names.  Which m-line carries which track travels in the SDP we
// send: an `a=x-hq-track:<track sid> <track name, URI-encoded>` line in
// each m-section that sends one (browsers ignore lines they do not know);
// a data channel's label is `hq-data:<track sid>`, its protocol the track
// name.  The name travels with the media because the media may arrive
// before the server's track_published does.
import { errors } from './errors.js';
import { log } from './log.js';
import { rtcConfiguration, statsReport, videoCodecs } from './media.js';

const TRACK_ATTR = 'a=x-hq-track:';
const DATA_LABEL = 'hq-data:';

// Adds the track sid and name of each sending m-section of `pc`'s local
// description; `nameOf(sid)` is our track's name.
function describeTracks(pc, sdp, senders, nameOf) {
  const sidOf = new Map();
  for (const tr of pc.getTransceivers()) {
    const sid = senders.get(tr.sender);
    if (sid && tr.mid !== null && tr.sender.track) sidOf.set(tr.mid, `${sid} ${encodeURIComponent(nameOf(sid))}`);
  }
  const out = [];
  let section = null;
  const flush = () => {
    if (!section) return;
    const mid = section.find((l) => l.startsWith('a=mid:'))?.slice(6);
    out.push(...section);
    if (mid !== undefined && sidOf.has(mid)) out.push(TRACK_ATTR + sidOf.get(mid));
  };
  for (const line of sdp.split('\r\n').filter((l) => l !== '')) {
    if (line.startsWith('m=')) {
      flush();
      section = [line];
    } else if (section) section.push(line);
    else out.push(line);
  }
  flush();
  return out.join('\r\n') + '\r\n';
}

// mid -> {sid, name} of the track, from an SDP describeTracks() wrote (a
// line without a name: the sid stands for it).
function tracksOf(sdp) {
  const map = new Map();
  let mid = null;
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) mid = null;
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith(TRACK_ATTR) && mid !== null) {
      const [sid, name] = line.slice(TRACK_ATTR.length).split(' ');
      let decoded = sid;
      try {
        if (name) decoded = decodeURIComponent(name);
      } catch {
        log.debug(`a track name that is not URI-encoded: ${name}`);
      }
      map.set(mid, { sid, name: decoded });
    }
  }
  return map;
}

export class P2pMedia {
  // Same handlers as SfuMedia; `localSid()` is our participant sid,
  // `publications()` our published tracks.
  constructor(signal, handlers, options, localSid, publications) {
    this.signal = signal;
    this.handlers = handlers;
    this.options = options;
    this.localSid = localSid;
    this.publications = publications;
    this.peers = new Map();
    this.closed = false;
    this.carriesData = true;
  }

  // A connection to participant `sid`, carrying our published tracks.
  addPeer(sid) {
    if (this.closed) return null;
    let peer = this.peers.get(sid);
    if (peer) return peer;
    const pc = new RTCPeerConnection(rtcConfiguration(this.options, this.iceServers));
    peer = {
      sid, pc, makingOffer: false, ignoreOffer: false, offerPending: false, polite: this.localSid() > sid,
      senders: new Map(), // RTCRtpSender -> our track sid
      channels: new Map(), // our data track sid -> RTCDataChannel
      received: new Map(), // their track sid -> mid
      queue: Promise.resolve(),
    };
    this.peers.set(sid, peer);
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        this.signal.send({ type: 'peer_candidate', to: sid, candidate: e.candidate.candidate });
      }
    };
    pc.onnegotiationneeded = () => this._run(peer, () => this._offer(peer));
    pc.ondatachannel = (e) => this._dataChannel(peer, e.channel);
    pc.onconnectionstatechange = () => {
      log.debug(`peer connection to ${sid} ${pc.connectionState}`);
      if (pc.connectionState === 'failed' && !this.closed) {
        log.warn(`the media connection to participant ${sid} failed`);
      }
    };
    for (const pub of this.publications()) this._send(peer, pub);
    return peer;
  }

  removePeer(sid) {
    const peer = this.peers.get(sid);
    if (!peer) return;
    this.peers.delete(sid);
    for (const pub of this.publications()) {
      for (const [sender] of peer.senders) pub.track._senders?.delete(sender);
      pub.track._channels?.delete(peer.channels.get(pub.trackSid));
    }
    peer.pc.close();
  }

  // A data track: a channel labelled with its sid, the other side
  // subscribes when it opens and unsubscribes when it closes.
  _sendData(peer, pub) {
    const track = pub.track;
    const options = { ordered: track.ordered, protocol: pub.trackName };
    if (track.maxRetransmits !== null) options.maxRetransmits = track.maxRetransmits;
    else if (track.maxPacketLifeTime !== null) options.maxPacketLifeTime = track.maxPacketLifeTime;
    const channel = peer.pc.createDataChannel(DATA_LABEL + pub.trackSid, options);
    log.debug(`data channel for ${pub.trackSid} to ${peer.sid} (${peer.pc.signalingState}, sctp ${peer.pc.sctp ? peer.pc.sctp.state : 'none'})`);
    channel.onopen = () => log.debug(`data channel for ${pub.trackSid} to ${peer.sid} open`);
    track._channels.add(channel);
    channel.onclose = () => track._channels.delete(channel);
    peer.channels.set(pub.trackSid, channel);
  }

  _dataChannel(peer, channel) {
    if (!channel.label.startsWith(DATA_LABEL)) return;
    const trackSid = channel.label.slice(DATA_LABEL.length);
    const desc = { participant_sid: peer.sid, track_sid: trackSid, kind: 'data', name: channel.protocol || trackSid };
    // Chromium announces a channel the other side opened already open.
    if (channel.readyState === 'open') this.handlers.subscribed(desc, null, channel);
    else channel.onopen = () => this.handlers.subscribed(desc, null, channel);
    channel.onclose = () => {
      if (!this.closed) this.handlers.unsubscribed(desc);
    };
  }

  _send(peer, pub) {
    if (pub.kind === 'data') {
      this._sendData(peer, pub);
      return;
    }
    const track = pub.track;
    const sender = peer.pc.addTrack(track.mediaStreamTrack, new MediaStream([track.mediaStreamTrack]));
    if (track.kind === 'video') {
      const codecs = videoCodecs(this.options.preferredVideoCodecs);
      const tr = peer.pc.getTransceivers().find((t) => t.sender === sender);
      if (codecs && tr?.setCodecPreferences) tr.setCodecPreferences(codecs);
    }
    peer.senders.set(sender, pub.trackSid);
    track._senders.add(sender);
  }

  _run(peer, fn) {
    peer.queue = peer.queue.then(fn).catch((err) => {
      if (!this.closed) log.warn(`negotiation with participant ${peer.sid} failed:`, err);
    });
    return peer.queue;
  }

  // Sends our local description under the name of what it is.
  _sendDescription(peer) {
    const desc = peer.pc.localDescription;
    log.debug(`peer ${desc.type} sent to ${peer.sid}`);
    this.signal.send({
      type: desc.type === 'offer' ? 'peer_offer' : 'peer_answer',
      to: peer.sid,
      sdp: describeTracks(peer.pc, desc.sdp, peer.senders,
        (sid) => this.publications().find((p) => p.trackSid === sid)?.trackName || sid),
    });
  }

  // An offer of our changes, in the connection's queue.  Not while an
  // exchange is under way: then it is made when that exchange is done
  // (onPeerMessage).
  async _offer(peer) {
    if (this.closed) return;
    if (peer.pc.signalingState !== 'stable') {
      log.debug(`peer offer to ${peer.sid} waits for the stable state (${peer.pc.signalingState})`);
      peer.offerPending = true;
      return;
    }
    peer.offerPending = false;
    try {
      peer.makingOffer = true;
      await peer.pc.setLocalDescription();
      if (peer.pc.localDescription?.type === 'offer') this._sendDescription(peer);
    } catch (err) {
      if (!this.closed) log.warn(`cannot offer to participant ${peer.sid}:`, err);
    } finally {
      peer.makingOffer = false;
    }
  }

  onPeerMessage(msg) {
    const peer = this.addPeer(msg.from);
    if (!peer) return;
    if (msg.type === 'peer_candidate') {
      this._run(peer, () => peer.pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: 0 })
        .catch((err) => { if (!peer.ignoreOffer) throw err; }));
      return;
    }
    this._run(peer, async () => {
      const offer = msg.type === 'peer_offer';
      const state = peer.pc.signalingState;
      // Their offer while ours is out: the impolite side keeps its own
      // (and ignores the candidates of theirs), the polite side takes
      // theirs (the browser rolls ours back).
      const collision = offer && (peer.makingOffer || state !== 'stable');
      peer.ignoreOffer = !peer.polite && collision;
      // Ours, rolled back, is offered again once theirs is answered: what
      // it added (a data channel's transport, a track) may not be in
      // theirs, and the browser does not always say so again.
      if (collision && peer.polite) peer.offerPending = true;
      if (peer.ignoreOffer) {
        log.debug(`offer collision with participant ${peer.sid}: ours stands`);
        return;
      }
      // An answer to an offer we no longer have (rolled back as the polite
      // side of a collision) is stale.
      if (!offer && state !== 'have-local-offer') {
        log.debug(`stale answer from participant ${peer.sid} ignored (${state})`);
        return;
      }
      try {
        await peer.pc.setRemoteDescription({ type: offer ? 'offer' : 'answer', sdp: msg.sdp });
      } catch (err) {
        throw new errors.MediaClientRemoteDescFailedError(`Cannot apply ${msg.identity}'s description: ${err.message}`);
      }
      this._received(peer, tracksOf(msg.sdp));
      if (offer) {
        await peer.pc.setLocalDescription();
        this._sendDescription(peer);
      }
      if (peer.offerPending) this._run(peer, () => this._offer(peer));
    });
  }

  // What the other side sends now: new tracks subscribed, gone ones not.
  _received(peer, now) {
    for (const [trackSid, mid] of peer.received) {
      if (now.get(mid)?.sid !== trackSid) {
        peer.received.delete(trackSid);
        this.handlers.unsubscribed({ participant_sid: peer.sid, track_sid: trackSid });
      }
    }
    for (const [mid, { sid: trackSid, name }] of now) {
      if (peer.received.has(trackSid)) continue;
      const tr = peer.pc.getTransceivers().find((t) => t.mid === mid);
      if (!tr) continue;
      peer.received.set(trackSid, mid);
      this.handlers.subscribed({
        participant_sid: peer.sid, track_sid: trackSid, kind: tr.receiver.track.kind, name,
      }, tr.receiver.track);
    }
  }

  async publish(pubs) {
    for (const peer of this.peers.values()) {
      for (const pub of pubs) this._send(peer, pub);
    }
  }

  async unpublish(pub) {
    for (const peer of this.peers.values()) {
      peer.channels.get(pub.trackSid)?.close();
      peer.channels.delete(pub.trackSid);
      for (const [sender, sid] of peer.senders) {
        if (sid !== pub.trackSid) continue;
        peer.senders.delete(sender);
        pub.track._senders.delete(sender);
        peer.pc.removeTrack(sender);
      }
    }
  }

  setBitrates() {
    log.warn('maxAudioBitrate/maxVideoBitrate are not applied in peer-to-peer rooms yet');
  }

  onSubscribeOffer() {}

  onCandidate() {}

  async getStats(localPublications) {
    const reports = [];
    for (const peer of this.peers.values()) {
      const localByMid = new Map();
      const remoteByMid = new Map();
      for (const tr of peer.pc.getTransceivers()) {
        const sid = peer.senders.get(tr.sender);
        const pub = localPublications.find((p) => p.trackSid === sid);
        if (pub) localByMid.set(tr.mid, pub);
      }
      for (const [trackSid, mid] of peer.received) remoteByMid.set(mid, { track_sid: trackSid });
      reports.push(statsReport(peer.sid, await peer.pc.getStats(), localByMid, remoteByMid));
    }
    return reports;
  }

  close() {
    this.closed = true;
    for (const sid of [...this.peers.keys()]) this.removePeer(sid);
  }

  reset(publications) {
    this.close();
    for (const pub of publications) (pub.track._senders || pub.track._channels).clear();
    this.closed = false;
  }
}
