// The signalling connection: one WebSocket to hq-server's /v1/signal
// (docs/protocol.md), requests with ids and their replies, events to a
// handler, and the keepalive ping.
import { errors, errorFromSignal } from './errors.js';
import { log } from './log.js';

const KEEPALIVE_MS = 20000;

// The /v1/signal URL: `wsServer` when given (a ws(s):// URL, or an
// http(s):// origin of an hq-server), else the origin that served the page.
export function signalUrl(wsServer) {
  const base = wsServer || globalThis.location?.origin;
  if (!base) throw new errors.SignalingConnectionError('No server: pass wsServer to connect()');
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/signal';
  return url.toString();
}

export class Signal {
  constructor(url, onEvent, onClose) {
    this.url = url;
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.nextId = 1;
    this.pending = new Map();
    this.ws = null;
    this.keepalive = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(new errors.SignalingConnectionError(`Cannot connect to ${this.url}: ${err.message}`));
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        ws.onerror = null;
        this.keepalive = setInterval(() => this.send({ type: 'ping' }), KEEPALIVE_MS);
        resolve();
      };
      ws.onerror = () => reject(new errors.SignalingConnectionError(`Cannot connect to ${this.url}`));
      ws.onmessage = (e) => this._onMessage(e.data);
      ws.onclose = (e) => this._closed(e.code, e.reason);
    });
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(msg) {
    if (this.isOpen) this.ws.send(JSON.stringify(msg));
  }

  request(type, fields = {}) {
    if (!this.isOpen) {
      return Promise.reject(new errors.SignalingConnectionDisconnectedError(
        `Cannot send ${type}: the signaling connection is not open`));
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, type });
      this.send({ type, id, ...fields });
    });
  }

  _onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      log.warn('ignoring a signaling message that is not JSON');
      return;
    }
    log.debug('signal <-', msg.type, msg);
    const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
    if (waiter && msg.type === 'waiting') {
      // A waiting room: `joined` (or `denied`) follows with the same id.
      this.onEvent(msg);
      return;
    }
    if (waiter) {
      this.pending.delete(msg.id);
      if (msg.type === 'error') waiter.reject(errorFromSignal(msg));
      else if (msg.type === 'denied') {
        waiter.reject(new errors.RoomConnectFailedError(msg.message || 'Denied entry by a host'));
      } else waiter.resolve(msg);
      return;
    }
    if (msg.type === 'error') {
      log.warn(`signaling error ${msg.code}: ${msg.message}`);
      return;
    }
    this.onEvent(msg);
  }

  _closed(code, reason) {
    clearInterval(this.keepalive);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.reject(new errors.SignalingConnectionDisconnectedError(
        `The signaling connection closed (${code}) before ${p.type} was answered`));
    }
    const ws = this.ws;
    this.ws = null;
    if (ws) this.onClose(code, reason);
  }

  // Closes without telling onClose (we chose to).
  close() {
    clearInterval(this.keepalive);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
    for (const p of this.pending.values()) {
      p.reject(new errors.SignalingConnectionDisconnectedError('The signaling connection was closed'));
    }
    this.pending.clear();
  }
}
