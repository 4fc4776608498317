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

export class FrameCrypt {
  constructor(secret, epoch = 0) {
    if (typeof secret !== 'string' || !secret) {
      throw new TypeError('e2ee.secret must be a non-empty string');
    }
    this.secret = utf8.encode(secret);
    this.epoch = epoch;
    this.session = crypto.getRandomValues(new Uint32Array(1))[0];
    this.counter = 0;
    this.keys = new Map(); // "identity\nkid" -> Promise<{key, salt}>
  }

  // RFC 9605 4.4.2 from this sender's base key (docs/e2ee.md, "Keys").
  _key(sender, kid) {
    const name = `${sender}\n${kid}`;
    let k = this.keys.get(name);
    if (!k) {
      if (this.keys.size >= 64) this.keys.clear();
      k = (async () => {
        const info = concat(utf8.encode('hqrooms sender '), bigEndian(this.epoch, 2), utf8.encode(sender));
        const base = await hkdf(this.secret, ROOM_SALT, info, 16);
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
    if (Math.floor(h.kid / TWO32) !== this.epoch) throw new Error(`key epoch ${Math.floor(h.kid / TWO32)} unknown`);
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
