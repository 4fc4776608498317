// End-to-end encryption of encoded frames in group rooms (docs/e2ee.md):
// the format of libhq's hqframecrypt (SFrame, RFC 9605, AES_128_GCM_SHA256_128)
// with WebCrypto, applied with Chromium's encoded streams between encoder
// and packetiser (RTCRtpSender.createEncodedStreams) and between
// depacketiser and decoder. The secret never leaves the page.
//
// A frame: clear codec bytes | SFrame header | ciphertext | 16-byte tag,
// the clear bytes authenticated (AAD = header | clear bytes). Keys: per
// sender (its identity) and key id = epoch * 2^32 + a random session
// number per connect(); one counter for all our tracks.
import { log } from './log.js';

const utf8 = new TextEncoder();
const ROOM_SALT = utf8.encode('hqrooms e2ee 1');
const SUITE = 0x0004; // AES_128_GCM_SHA256_128
const TWO32 = 2 ** 32;

function bigEndian(value, n) {
  const out = new Uint8Array(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function minBytes(v) {
  let n = 1;
  while (n < 8 && v >= 256 ** n) n++;
  return n;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// RFC 9605 4.3: |X|K K K|Y|C C C|, then key id and counter when they do not
// fit their 3 bits. Values up to 2^53 (JavaScript numbers).
export function writeHeader(kid, ctr) {
  let config = 0;
  const tail = [];
  if (kid < 8) {
    config |= kid << 4;
  } else {
    const n = minBytes(kid);
    config |= 0x80 | ((n - 1) << 4);
    tail.push(bigEndian(kid, n));
  }
  if (ctr < 8) {
    config |= ctr;
  } else {
    const n = minBytes(ctr);
    config |= 0x08 | (n - 1);
    tail.push(bigEndian(ctr, n));
  }
  return concat(Uint8Array.of(config), ...tail);
}

// {kid, ctr, length}, or null when `data` is shorter than its header.
export function parseHeader(data) {
  if (data.length < 1) return null;
  const config = data[0];
  const kidLen = config & 0x80 ? ((config >> 4) & 7) + 1 : 0;
  const ctrLen = config & 0x08 ? (config & 7) + 1 : 0;
  if (data.length < 1 + kidLen + ctrLen) return null;
  const read = (at, n) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + data[at + i];
    return v;
  };
  return {
    kid: kidLen ? read(1, kidLen) : (config >> 4) & 7,
    ctr: ctrLen ? read(1 + kidLen, ctrLen) : config & 7,
    length: 1 + kidLen + ctrLen,
  };
}

// Leading bytes left in clear: VP8's frame tag (3), and on key frames also
// start code and size (10), which depacketisers read; audio none.
export function clearBytes(kind, data) {
  if (kind !== 'video') return 0;
  return data.length > 0 && (data[0] & 1) === 0 ? 10 : 3;
}

async function hkdf(ikm, salt, info, bytes) {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info }, key, bytes * 8));
}

// Previous epochs still decrypt for this long after a new one is set.
const OVERLAP_MS = 10000;

export class FrameCrypt {
  constructor(secret, epoch = 0) {
    if (typeof secret !== 'string' || !secret) {
      throw new TypeError('e2ee.secret must be a non-empty string');
    }
    this.session = crypto.getRandomValues(new Uint32Array(1))[0];
    this.counter = 0;
    this.epochs = new Map(); // epoch -> {secret (bytes), until (ms)}
    this.keys = new Map(); // "identity\nkid" -> Promise<{key, salt}>
    this.setSecret(epoch, secret, 0);
  }

  // The secret of `epoch`, which frames are encrypted with from now on;
  // the epoch before still decrypts for `overlapMs`, older ones no more.
  setSecret(epoch, secret, overlapMs = OVERLAP_MS) {
    const now = Date.now();
    for (const [e, v] of this.epochs) {
      if (e === this.epoch && e !== epoch && overlapMs > 0) v.until = now + overlapMs;
      else this.epochs.delete(e);
    }
    this.epochs.set(epoch, { secret: utf8.encode(secret), until: Infinity });
    this.epoch = epoch;
    this.keys.clear();
  }

  _epoch(epoch) {
    const e = this.epochs.get(epoch);
    return e && e.until > Date.now() ? e : null;
  }

  // The verification code of the current epoch (docs/e2ee.md): 6 digits.
  async code() {
    const info = concat(utf8.encode('hqrooms verification '), bigEndian(this.epoch, 2));
    const v = await hkdf(this.epochs.get(this.epoch).secret, ROOM_SALT, info, 4);
    const n = ((v[0] * 256 + v[1]) * 256 + v[2]) * 256 + v[3];
    return String(n % 1000000).padStart(6, '0');
  }

  // RFC 9605 4.4.2 from this sender's base key (docs/e2ee.md, "Keys").
  _key(sender, kid) {
    const name = `${sender}\n${kid}`;
    let k = this.keys.get(name);
    if (!k) {
      if (this.keys.size >= 64) this.keys.clear();
      const epoch = Math.floor(kid / TWO32);
      const e = this._epoch(epoch);
      if (!e) return Promise.reject(new Error(`key epoch ${epoch} unknown`));
      k = (async () => {
        const info = concat(utf8.encode('hqrooms sender '), bigEndian(epoch, 2), utf8.encode(sender));
        const base = await hkdf(e.secret, ROOM_SALT, info, 16);
        const label = (what) => concat(utf8.encode(`SFrame 1.0 Secret ${what} `), bigEndian(kid, 8),
          bigEndian(SUITE, 2));
        const raw = await hkdf(base, new Uint8Array(0), label('key'), 16);
        const salt = await hkdf(base, new Uint8Array(0), label('salt'), 12);
        const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
        return { key, salt };
      })();
      this.keys.set(name, k);
    }
    return k;
  }

  static _nonce(salt, ctr) {
    const nonce = salt.slice();
    const c = bigEndian(ctr, 8);
    for (let i = 0; i < 8; i++) nonce[4 + i] ^= c[i];
    return nonce;
  }

  async encrypt(sender, kind, buffer) {
    const data = new Uint8Array(buffer);
    const clear = clearBytes(kind, data);
    if (data.length < clear) throw new Error(`a ${data.length}-byte frame is shorter than its clear bytes`);
    const kid = this.epoch * TWO32 + this.session;
    const ctr = this.counter++;
    const { key, salt } = await this._key(sender, kid);
    const header = writeHeader(kid, ctr);
    const prefix = data.subarray(0, clear);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({
      name: 'AES-GCM', iv: FrameCrypt._nonce(salt, ctr), additionalData: concat(header, prefix), tagLength: 128,
    }, key, data.subarray(clear)));
    return concat(prefix, header, sealed).buffer;
  }

  async decrypt(sender, kind, buffer) {
    const data = new Uint8Array(buffer);
    const clear = clearBytes(kind, data);
    const h = data.length >= clear ? parseHeader(data.subarray(clear)) : null;
    if (!h) throw new Error('no encryption header');
    if (!this._epoch(Math.floor(h.kid / TWO32))) throw new Error(`key epoch ${Math.floor(h.kid / TWO32)} unknown`);
    const { key, salt } = await this._key(sender, h.kid);
    const header = data.subarray(clear, clear + h.length);
    const prefix = data.subarray(0, clear);
    const plain = new Uint8Array(await crypto.subtle.decrypt({
      name: 'AES-GCM', iv: FrameCrypt._nonce(salt, h.ctr), additionalData: concat(header, prefix), tagLength: 128,
    }, key, data.subarray(clear + h.length)));
    return concat(prefix, plain).buffer;
  }
}

// Encrypts what `sender` (an RTCRtpSender of a connection made with
// encodedInsertableStreams) sends; `identity()` is ours, or null before
// the join (frames are then dropped).
export function encryptSender(crypt, sender, kind, identity) {
  const { readable, writable } = sender.createEncodedStreams();
  readable.pipeThrough(new TransformStream({
    async transform(frame, out) {
      const who = identity();
      if (!who) return;
      try {
        frame.data = await crypt.encrypt(who, kind, frame.data);
        out.enqueue(frame);
      } catch (err) {
        log.debug('frame not encrypted:', err.message);
      }
    },
  })).pipeTo(writable).catch(() => {});
}

// Decrypts what `receiver` gets; `desc()` is the subscribe offer's
// description of the track its m-line carries now ({identity, kind}).
// A frame that does not decrypt is dropped; the first of each track says
// so once.
export function decryptReceiver(crypt, receiver, desc, onFailure) {
  const { readable, writable } = receiver.createEncodedStreams();
  const warned = new Set();
  readable.pipeThrough(new TransformStream({
    async transform(frame, out) {
      const d = desc();
      if (!d) return;
      try {
        frame.data = await crypt.decrypt(d.identity, d.kind, frame.data);
        out.enqueue(frame);
      } catch (err) {
        if (!warned.has(d.track_sid)) {
          warned.add(d.track_sid);
          log.warn(`cannot decrypt ${d.kind} from ${d.identity}: wrong or missing room secret (${err.message || err.name})`);
          onFailure?.(d);
        }
      }
    },
  })).pipeTo(writable).catch(() => {});
}

// --- key epochs (docs/e2ee.md, "Key distribution"): libhq's hqe2eekeys
// in the browser, the same messages through e2ee_send ---

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

async function sealKey(own, peerPub) {
  const z = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: peerPub }, own.privateKey, 256));
  const raw = await hkdf(z, ROOM_SALT, utf8.encode('hqrooms epoch key'), 16);
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export class E2eeKeys {
  // `send(toSid or null, data)` sends through the server; `onEpoch({epoch,
  // code, from})` tells of each epoch in use, epoch 0 included.
  constructor(crypt, roomSecret, send, onEpoch) {
    this.crypt = crypt;
    this.send = send;
    this.onEpoch = onEpoch;
    this.epoch = 0;
    this.secret = roomSecret;
    this.distributor = null;
    this.peers = new Map(); // sid -> {identity, pub}: holders whose key verified
    this.members = new Map(); // sid -> identity: who is in the room
    this.queue = this._init(roomSecret);
  }

  async _init(secret) {
    const mac = await hkdf(utf8.encode(secret), ROOM_SALT, utf8.encode('hqrooms announce'), 32);
    this.announceKey = await crypto.subtle.importKey('raw', mac, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    this.own = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    this.ownPub = b64(new Uint8Array(await crypto.subtle.exportKey('raw', this.own.publicKey)));
    this.onEpoch?.({ epoch: 0, code: await this.crypt.code(), from: null });
  }

  // One message at a time, in order.
  _then(fn) {
    this.queue = this.queue.then(fn).catch((err) => log.warn('end-to-end keys:', err.message || err));
    return this.queue;
  }

  async _mac(identity, pub) {
    return hex(new Uint8Array(await crypto.subtle.sign('HMAC', this.announceKey, utf8.encode(`key1 ${identity} ${pub}`))));
  }

  async _announce(to, kind) {
    this.send(to, `key1 ${this.ownPub} ${await this._mac(this.identity, this.ownPub)} ${kind}`);
  }

  // The identity that sorts first among us and the holders in the room.
  _weDistribute(except) {
    if (!this.identity) return false;
    for (const [sid, p] of this.peers) {
      if (sid !== except && this.members.has(sid) && p.identity < this.identity) return false;
    }
    return true;
  }

  async _sendEpoch(sid, peer) {
    const key = await sealKey(this.own, peer.pub);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const aad = utf8.encode(`epoch1 ${this.epoch} ${this.identity} ${peer.identity}`);
    const sealed = new Uint8Array(await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, key, utf8.encode(this.secret)));
    this.send(sid, `epoch1 ${this.epoch} ${peer.identity} ${b64(nonce)} ${b64(sealed)}`);
  }

  async _use(epoch, secret, from) {
    this.crypt.setSecret(epoch, secret);
    this.epoch = epoch;
    this.secret = secret;
    this.distributor = from;
    this.onEpoch?.({ epoch, code: await this.crypt.code(), from });
  }

  joined(sid, identity, others) {
    return this._then(async () => {
      this.sid = sid;
      this.identity = identity;
      this.peers.clear();
      this.members = new Map(others.map((p) => [p.sid, p.identity]));
      await this._announce(null, 'hello');
    });
  }

  // Room membership: `identity` null when `sid` left.
  participant(sid, identity) {
    return this._then(async () => {
      if (identity) {
        this.members.set(sid, identity);
        return;
      }
      this.members.delete(sid);
      const holder = this.peers.delete(sid);
      if (!holder || !this._weDistribute(null) || this.epoch >= 65535) return;
      const raw = crypto.getRandomValues(new Uint8Array(32));
      await this._use(this.epoch + 1, b64(raw), this.identity);
      for (const [psid, p] of this.peers) await this._sendEpoch(psid, p);
    });
  }

  // An e2ee_message from the server.
  receive(msg) {
    return this._then(async () => {
      const f = String(msg.data).split(' ');
      if (f[0] === 'key1' && f.length === 4) await this._receiveKey(msg.from, msg.identity, f);
      else if (f[0] === 'epoch1' && f.length === 5) await this._receiveEpoch(msg.from, msg.identity, f);
      else throw new Error(`message from ${msg.identity} refused: unknown message`);
    });
  }

  async _receiveKey(sid, identity, f) {
    const mac = await this._mac(identity, f[1]);
    let diff = mac.length ^ f[2].length;
    for (let i = 0; i < mac.length; i++) diff |= mac.charCodeAt(i) ^ f[2].charCodeAt(i);
    if (diff) throw new Error(`key from ${identity} refused: not signed with this room's secret`);
    const pub = await crypto.subtle.importKey('raw', unb64(f[1]), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    const peer = { identity, pub };
    this.peers.set(sid, peer);
    if (f[3] === 'hello') {
      await this._announce(sid, 'reply');
      if (this.epoch > 0 && this._weDistribute(sid)) await this._sendEpoch(sid, peer);
    }
  }

  async _receiveEpoch(sid, identity, f) {
    const peer = this.peers.get(sid);
    const epoch = Number(f[1]);
    if (!peer || peer.identity !== identity) throw new Error(`epoch from ${identity} refused: key never announced`);
    if (f[2] !== this.identity || !Number.isInteger(epoch) || epoch < 1 || epoch > 65535) {
      throw new Error(`epoch from ${identity} refused: not for us`);
    }
    if (epoch < this.epoch || (epoch === this.epoch && (this.distributor === null || identity >= this.distributor))) {
      throw new Error(`epoch ${epoch} from ${identity} refused: we are past it`);
    }
    const key = await sealKey(this.own, peer.pub);
    const aad = utf8.encode(`epoch1 ${epoch} ${identity} ${this.identity}`);
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: unb64(f[3]), additionalData: aad, tagLength: 128 }, key, unb64(f[4]));
    await this._use(epoch, new TextDecoder().decode(plain), identity);
  }
}
