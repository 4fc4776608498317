// hqrooms browser client: the signalling protocol (docs/protocol.md) over
// one WebSocket, and the two peer connections of the SFU's media model —
// "publish" (we offer our tracks, the server answers) and "subscribe" (the
// server offers everyone else's tracks, we answer).  Plain ES module, no
// build step.  Only the SFU and room tests use it now, through the page
// below (window.hqJoin, window.hq); the web app at / uses the SDK.
//
// Events (EventTarget, event.detail): joined, participant_connected,
// participant_disconnected, track (a remote MediaStreamTrack arrived:
// {track, kind, trackSid, participantSid, identity, name}), track_ended,
// dominant_speaker, network_quality, chat_message, track_enabled,
// track_disabled, muted, transport_state, closed, error.

class HqRoomClient extends EventTarget {
  constructor(baseUrl = location.origin) {
    super();
    this.baseUrl = baseUrl;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.pub = null;
    this.sub = null;
    this.subTracks = new Map(); // mid -> track description
    this.pubQueue = Promise.resolve();
    this.subQueue = Promise.resolve();
    this.remote = new Map(); // participant sid -> participant
    this.me = null;
    this.p2p = false; // peer-to-peer and go rooms: media flows directly
    this.peers = new Map(); // p2p: participant sid -> {pc, queue, identity}
    this.localStream = null;
  }

  // A guest token from the server's /token endpoint (it may create the
  // room).  `name` is only shown to the others: the server makes the
  // identity.  The server asks for its passcode unless the room is open;
  // a refusal throws an Error whose `reason` is the server's short message
  // ("passcode required", "passcode incorrect", ...) and `status` the
  // HTTP status.
  static async fetchToken(baseUrl, name, room, passcode) {
    const res = await fetch(`${baseUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_identity: name, room_name: room, passcode }),
    });
    const body = await res.json();
    if (!res.ok) {
      throw Object.assign(new Error(body.error.explanation || body.error.message),
        { reason: body.error.message, status: res.status });
    }
    return body.token;
  }

  // What to show for participant `sid`: its display name, else identity.
  nameOf(sid, fallback) {
    const p = sid === this.me?.sid ? this.me : this.remote.get(sid);
    return p?.name || p?.identity || fallback;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _send(msg) {
    this.ws.send(JSON.stringify(msg));
  }

  request(type, fields = {}) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this._send({ type, id, ...fields });
    });
  }

  async join(token, room) {
    const url = this.baseUrl.replace(/^http/, 'ws') + '/v1/signal';
    this.ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    this.ws.onmessage = (e) => this._onMessage(JSON.parse(e.data));
    this.ws.onclose = (e) => this._emit('closed', { code: e.code, reason: e.reason });
    this.keepalive = setInterval(() => this._send({ type: 'ping' }), 20000);
    const joined = await this.request('join', room ? { token, room } : { token });
    this.me = joined.participant;
    this.p2p = ['peer-to-peer', 'go'].includes(joined.room.type);
    for (const p of joined.participants) this.remote.set(p.sid, p);
    this._emit('joined', joined);
    return joined;
  }

  async leave() {
    clearInterval(this.keepalive);
    try { await this.request('leave'); } catch { /* closing anyway */ }
    this.pub?.close();
    this.sub?.close();
    for (const peer of this.peers.values()) peer.pc.close();
    this.ws.close();
  }

  // Publishes every track of `stream`: through the server's publish
  // connection in group rooms, to every other participant directly in
  // peer-to-peer rooms (the newcomer offers to those already there).
  async publish(stream) {
    const described = [];
    if (this.p2p) {
      this.localStream = stream;
      this.published = [];
      for (const track of stream.getTracks()) {
        const reply = await this.request('track_publish', {
          name: track.kind === 'audio' ? 'microphone' : 'camera', kind: track.kind,
        });
        this.published.push({ trackSid: reply.track.sid, track });
      }
      for (const [sid, p] of this.remote) await this._peerOffer(sid, p.identity);
      return this.published.map((d) => d.trackSid);
    }
    this.pub = this._newPeerConnection('publish');
    for (const track of stream.getTracks()) {
      const reply = await this.request('track_publish', {
        name: track.kind === 'audio' ? 'microphone' : 'camera', kind: track.kind,
      });
      const tr = this.pub.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      described.push({ transceiver: tr, trackSid: reply.track.sid, track });
    }
    const offer = await this.pub.createOffer();
    await this.pub.setLocalDescription(offer);
    const answer = await this.request('publish_offer', {
      sdp: offer.sdp,
      tracks: described.map((d) => ({ mid: d.transceiver.mid, track_sid: d.trackSid })),
    });
    this.pubQueue = this.pubQueue.then(() =>
      this.pub.setRemoteDescription({ type: 'answer', sdp: answer.sdp }));
    await this.pubQueue;
    this.published = described;
    return described.map((d) => d.trackSid);
  }

  async setTrackEnabled(trackSid, enabled) {
    const d = this.published.find((x) => x.trackSid === trackSid);
    if (d) d.track.enabled = enabled;
    return this.request('track_update', { track_sid: trackSid, enabled });
  }

  _newPeerConnection(transport) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        this._send({ type: 'candidate', transport, candidate: e.candidate.candidate });
      } else if (!e.candidate) {
        this._send({ type: 'end_of_candidates', transport });
      }
    };
    return pc;
  }

  // --- peer-to-peer rooms ---

  _peer(sid, identity) {
    let peer = this.peers.get(sid);
    if (!peer) {
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      peer = { pc, queue: Promise.resolve(), identity };
      pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) {
          this._send({ type: 'peer_candidate', to: sid, candidate: e.candidate.candidate });
        }
      };
      pc.ontrack = (e) => this._emit('track', {
        track: e.track, kind: e.track.kind, participantSid: sid, identity,
        name: this.nameOf(sid, identity),
      });
      for (const t of this.localStream ? this.localStream.getTracks() : []) {
        pc.addTrack(t, this.localStream);
      }
      this.peers.set(sid, peer);
    }
    return peer;
  }

  _peerRun(peer, fn) {
    peer.queue = peer.queue.then(fn).catch((err) =>
      this._emit('error', { message: String(err) }));
    return peer.queue;
  }

  _peerOffer(sid, identity) {
    const peer = this._peer(sid, identity);
    return this._peerRun(peer, async () => {
      const offer = await peer.pc.createOffer();
      await peer.pc.setLocalDescription(offer);
      this._send({ type: 'peer_offer', to: sid, sdp: offer.sdp });
    });
  }

  _onPeerMessage(msg) {
    const peer = this._peer(msg.from, msg.identity);
    this._peerRun(peer, async () => {
      if (msg.type === 'peer_offer') {
        await peer.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        this._send({ type: 'peer_answer', to: msg.from, sdp: answer.sdp });
      } else if (msg.type === 'peer_answer') {
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      } else {
        await peer.pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: 0 });
      }
    });
  }

  // Media received from each identity over direct (p2p) connections.
  async peerMedia() {
    const out = {};
    for (const peer of this.peers.values()) {
      const m = { frames: 0, audioPackets: 0, audioEnergy: 0 };
      (await peer.pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') m.frames += s.framesDecoded || 0;
        if (s.kind === 'audio') {
          m.audioPackets += s.packetsReceived || 0;
          m.audioEnergy += s.totalAudioEnergy || 0;
        }
      });
      out[peer.identity] = m;
    }
    return out;
  }

  _onSubscribeOffer(msg) {
    this.subQueue = this.subQueue.then(async () => {
      if (!this.sub) {
        this.sub = this._newPeerConnection('subscribe');
        this.sub.ontrack = (e) => {
          const desc = this.subTracks.get(e.transceiver.mid) || {};
          this._emit('track', {
            track: e.track, kind: e.track.kind, mid: e.transceiver.mid,
            trackSid: desc.track_sid, participantSid: desc.participant_sid,
            identity: desc.identity, name: this.nameOf(desc.participant_sid, desc.identity),
          });
        };
      }
      const before = new Set(this.subTracks.keys());
      this.subTracks = new Map(msg.tracks.map((t) => [t.mid, t]));
      for (const mid of before) {
        if (!this.subTracks.has(mid)) this._emit('track_ended', { mid });
      }
      await this.sub.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
      const answer = await this.sub.createAnswer();
      await this.sub.setLocalDescription(answer);
      this._send({ type: 'subscribe_answer', sdp: answer.sdp, revision: msg.revision });
    }).catch((err) => this._emit('error', { message: String(err) }));
  }

  _onCandidate(msg) {
    const pc = msg.transport === 'publish' ? 'pub' : 'sub';
    const queue = pc === 'pub' ? 'pubQueue' : 'subQueue';
    this[queue] = this[queue].then(() => {
      if (!this[pc]) return undefined;
      return this[pc].addIceCandidate(msg.type === 'end_of_candidates'
        ? null : { candidate: msg.candidate, sdpMLineIndex: 0 });
    }).catch((err) => this._emit('error', { message: String(err) }));
  }

  _onMessage(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const { resolve, reject } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === 'error') reject(Object.assign(new Error(msg.message), { code: msg.code }));
      else resolve(msg);
      return;
    }
    switch (msg.type) {
      case 'subscribe_offer':
        this._onSubscribeOffer(msg);
        return;
      case 'candidate':
      case 'end_of_candidates':
        this._onCandidate(msg);
        return;
      case 'peer_offer':
      case 'peer_answer':
      case 'peer_candidate':
        this._onPeerMessage(msg);
        return;
      case 'participant_connected':
        this.remote.set(msg.participant.sid, msg.participant);
        break;
      case 'participant_disconnected':
        this.remote.delete(msg.participant.sid);
        this.peers.get(msg.participant.sid)?.pc.close();
        this.peers.delete(msg.participant.sid);
        break;
      default:
        break;
    }
    this._emit(msg.type, msg);
  }

  // Video frames decoded by the subscribe connection, per track sid.
  async framesDecoded() {
    const out = {};
    if (!this.sub) return out;
    const stats = await this.sub.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        const desc = this.subTracks.get(s.mid);
        if (desc) out[desc.track_sid] = s.framesDecoded || 0;
      }
    });
    return out;
  }

  // Audio received by the subscribe connection, per track sid.
  async audioReceived() {
    const out = {};
    if (!this.sub) return out;
    const stats = await this.sub.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        const desc = this.subTracks.get(s.mid);
        if (desc) {
          out[desc.track_sid] = {
            packets: s.packetsReceived || 0, audioLevel: s.audioLevel || 0,
            energy: s.totalAudioEnergy || 0,
          };
        }
      }
    });
    return out;
  }
}

// --- the test page: join a room, show every track ---
const grid = document.getElementById('grid');
const status = document.getElementById('status');
const tiles = new Map(); // participant sid -> tile element

function tile(sid, label) {
  let t = tiles.get(sid);
  if (!t) {
    t = document.createElement('div');
    t.className = 'tile';
    t.dataset.sid = sid;
    t.innerHTML = '<video autoplay playsinline></video><span class="name"></span>' +
      '<span class="quality"></span>';
    t.querySelector('.name').textContent = label;
    t.querySelector('video').srcObject = new MediaStream();
    grid.append(t);
    tiles.set(sid, t);
  }
  return t;
}

// Joins @room with @token, or with a guest token from /token for the
// display name @name (and @passcode, when the server asks for one).
// With `publish: false` in @options it only subscribes (no camera or
// microphone asked for).
async function join(name, room, token, passcode, options = {}) {
  const client = new HqRoomClient();
  window.hq = client; // for tests and the curious
  client.addEventListener('track', ({ detail }) => {
    const t = tile(detail.participantSid, detail.name || detail.identity);
    const video = t.querySelector('video');
    video.srcObject.addTrack(detail.track);
    video.play().catch(() => {});
  });
  client.addEventListener('participant_disconnected', ({ detail }) => {
    tiles.get(detail.participant.sid)?.remove();
    tiles.delete(detail.participant.sid);
  });
  client.addEventListener('dominant_speaker', ({ detail }) => {
    for (const [sid, t] of tiles) t.classList.toggle('dominant', sid === detail.participant_sid);
  });
  client.addEventListener('network_quality', ({ detail }) => {
    for (const p of detail.participants) {
      const t = tiles.get(p.participant_sid);
      if (t) t.querySelector('.quality').textContent = '▮'.repeat(p.level) || '✕';
    }
  });
  client.addEventListener('closed', ({ detail }) => {
    status.textContent = `Disconnected (${detail.code}${detail.reason ? ': ' + detail.reason : ''})`;
  });

  status.textContent = 'Joining…';
  if (!token) token = await HqRoomClient.fetchToken(location.origin, name, room, passcode);
  const joined = await client.join(token, room);
  const myName = joined.participant.name || joined.participant.identity;
  if (options.publish === false) {
    status.textContent = `In room ${joined.room.name} as ${myName}`;
    return client;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const me = tile(joined.participant.sid, `${myName} (you)`);
  me.querySelector('video').srcObject = stream;
  me.querySelector('video').muted = true;
  await client.publish(stream);
  status.textContent = `In room ${joined.room.name} as ${myName}`;
  return client;
}

window.hqJoin = join;
