// @hqrooms/conversations: the part of @twilio/conversations' browser API
// that video-consultation apps use for a room's chat, on hq-server
// (docs/conversations.md).  A conversation is a room's chat: its sid is
// the room's sid, its unique name the room's name, as the reference app's
// token server makes conversations named after the room's sid.
//
// Each conversation has its own WebSocket to the server's /v1/signal,
// joined with `chat_join` (docs/protocol.md, "Chat-only connections"): in
// the room's chat without being a participant of the call.  The client's
// own connection only signs in (a `chat_join` without a room) and carries
// connectionState.  Attachments go up by HTTP (POST /v1/ChatMedia) and
// come down by short-lived signed links (`chat_media_url`).  One module,
// no dependencies.
export const version = '0.1.0';

// on/once/off/emit, as @twilio/conversations' objects have them, over the
// browser's EventTarget (a listener that throws is reported, and the
// others still run).  Its own here, so that the package stands alone.
class EventEmitter {
  constructor() {
    Object.defineProperty(this, '_events', { value: new EventTarget() });
    Object.defineProperty(this, '_wrappers', { value: new Map() });
  }

  on(event, listener, once = false) {
    const wrapper = (e) => {
      if (once) this._forget(event, listener);
      listener.apply(this, e.detail);
    };
    if (!this._wrappers.has(event)) this._wrappers.set(event, new Map());
    this._wrappers.get(event).set(listener, wrapper);
    this._events.addEventListener(event, wrapper, { once });
    return this;
  }

  once(event, listener) {
    return this.on(event, listener, true);
  }

  _forget(event, listener) {
    const wrappers = this._wrappers.get(event);
    const wrapper = wrappers?.get(listener);
    if (wrapper) {
      wrappers.delete(listener);
      this._events.removeEventListener(event, wrapper);
    }
  }

  off(event, listener) {
    this._forget(event, listener);
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  removeListener(event, listener) {
    return this.off(event, listener);
  }

  removeAllListeners(event) {
    for (const [name, wrappers] of this._wrappers) {
      if (event !== undefined && name !== event) continue;
      for (const listener of [...wrappers.keys()]) this._forget(name, listener);
    }
    return this;
  }

  listenerCount(event) {
    return this._wrappers.get(event)?.size || 0;
  }

  emit(event, ...args) {
    const had = this.listenerCount(event) > 0;
    this._events.dispatchEvent(new CustomEvent(event, { detail: args }));
    return had;
  }
}

const KEEPALIVE_MS = 20000;
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const SERVER_PAGE = 50; // the most one chat_history answers

// --- errors ---

// An error the SDK raises: `code` (a Twilio code where one means the same,
// else the HTTP status), `status` (HTTP-like), `reason` (the server's
// error code, for programs) and a message for people.
export class ConversationsError extends Error {
  constructor(message, code, status, reason) {
    super(message);
    this.name = 'ConversationsError';
    this.code = code;
    this.status = status;
    this.reason = reason || null;
  }
}

// The server's protocol errors as Twilio codes (docs/conversations.md).
const SIGNAL_ERRORS = {
  invalid_token: [20101, 401],
  room_not_granted: [20403, 403],
  banned: [20403, 403],
  forbidden: [20403, 403],
  not_admitted: [20403, 403],
  room_not_found: [20404, 404],
  room_completed: [20404, 404],
  not_found: [20404, 404],
  room_full: [20429, 429],
  rate_limited: [20429, 429],
  invalid_field: [20400, 400],
};

function signalError(msg) {
  let [code, status] = SIGNAL_ERRORS[msg.code] || [20500, 500];
  if (msg.code === 'invalid_token' && /\(expired\)/.test(msg.message)) code = 20104;
  return new ConversationsError(msg.message, code, status, msg.code);
}

function disconnectedError() {
  return new ConversationsError('The connection to the chat server is down; try again when it is back.',
    53001, 503, 'disconnected');
}

// --- where the server is ---

// The server's http(s) origin: `wsServer` when given (an http(s) origin or
// the ws(s) URL of its /v1/signal), else the origin that served the page.
function httpOrigin(server) {
  const base = server || globalThis.location?.origin;
  if (!base) throw new ConversationsError('No server: pass { wsServer } to the Client.', 53000, 400, 'no_server');
  const url = new URL(base);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.origin;
}

function signalUrl(origin) {
  const url = new URL('/v1/signal', origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

// --- one WebSocket ---

// Requests with ids and their replies, events to `onEvent`, the keepalive
// ping; `onClose(code, reason)` when it ends.
class Connection {
  constructor(url, onEvent, onClose) {
    this.url = url;
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.nextId = 1;
    this.pending = new Map();
    this.ws = null;
    this.timer = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(new ConversationsError(`Cannot connect to ${this.url}: ${err.message}`, 53000, 503, 'no_connection'));
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        ws.onerror = null;
        this.timer = setInterval(() => this.send({ type: 'ping' }), KEEPALIVE_MS);
        resolve();
      };
      ws.onerror = () => reject(new ConversationsError(`Cannot connect to ${this.url}`, 53000, 503, 'no_connection'));
      ws.onmessage = (e) => this._message(e.data);
      ws.onclose = (e) => this._closed(e.code, e.reason);
    });
  }

  send(msg) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  request(msg) {
    if (this.ws?.readyState !== WebSocket.OPEN) return Promise.reject(disconnectedError());
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  // Closes it without calling onClose: the owner knows.
  close() {
    const ws = this.ws;
    this.onClose = () => {};
    this._closed(1000, 'closed by the client');
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  _message(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const waiting = msg.id !== undefined && this.pending.get(msg.id);
    if (waiting) {
      this.pending.delete(msg.id);
      if (msg.type === 'error') waiting.reject(signalError(msg));
      else waiting.resolve(msg);
      return;
    }
    this.onEvent(msg);
  }

  _closed(code, reason) {
    if (!this.ws) return;
    this.ws.onclose = this.ws.onmessage = this.ws.onerror = null;
    this.ws = null;
    clearInterval(this.timer);
    for (const { reject } of this.pending.values()) reject(disconnectedError());
    this.pending.clear();
    this.onClose(code, reason);
  }
}

// Close codes after which joining again cannot help.
const FINAL_CLOSES = new Set([1000, 4001, 4003, 4004]);

// --- paginator ---

class Paginator {
  constructor(items, prev, next) {
    this.items = items;
    this.hasPrevPage = prev !== null;
    this.hasNextPage = next !== null;
    this._prev = prev;
    this._next = next;
  }

  prevPage() {
    if (!this._prev) return Promise.reject(new ConversationsError('There is no previous page.', 20400, 400, 'no_page'));
    return this._prev();
  }

  nextPage() {
    if (!this._next) return Promise.reject(new ConversationsError('There is no next page.', 20400, 400, 'no_page'));
    return this._next();
  }
}

// A promise with Twilio's CancellablePromise shape (cancel() stops
// nothing here: the request is one short round trip).
function cancellable(promise) {
  promise.cancel = () => {};
  return promise;
}

// --- media and messages ---

export class Media {
  constructor(conversation, data) {
    this._conversation = conversation;
    this.sid = data.sid;
    this.filename = data.filename ?? null;
    this.contentType = data.content_type;
    this.size = data.size;
    this.category = 'media';
  }

  // A link that works without credentials for a few minutes (the
  // server's [chat] media_url_ttl); each call makes a new one.
  getContentTemporaryUrl() {
    return cancellable(this._conversation._mediaUrl(this.sid));
  }
}

export class Message extends EventEmitter {
  constructor(conversation, data) {
    super();
    this.conversation = conversation;
    this.index = data.index;
    // Stable across reloads: the room's sid and the message's index.
    this.sid = 'IM' + conversation.sid.slice(2, 26) + data.index.toString(16).padStart(8, '0');
    this.author = data.identity;
    this.participantSid = data.participant_sid ?? null;
    this.body = data.body === '' && data.media ? null : data.body;
    this.dateCreated = new Date(data.date_created);
    this.dateUpdated = this.dateCreated;
    this.lastUpdatedBy = null;
    this.subject = null;
    this.contentSid = null;
    this.attributes = data.attributes ?? {};
    this.type = data.media ? 'media' : 'text';
    this.attachedMedia = data.media ? [new Media(conversation, data.media)] : [];
    this.aggregatedDeliveryReceipt = null;
    // An hqrooms extension: the sender's display name.
    this.hqAuthorName = data.name ?? data.identity;
  }

  get media() {
    return this.attachedMedia[0] || null;
  }

  getMediaByCategories() {
    return this.attachedMedia;
  }

  getMediaByCategory() {
    return this.attachedMedia;
  }

  getTemporaryContentUrlsForAttachedMedia() {
    return cancellable(Promise.all(this.attachedMedia.map(async (m) => [m.sid, await m.getContentTemporaryUrl()]))
      .then((pairs) => new Map(pairs)));
  }
}

// --- conversation ---

// The file, content type and name a sendMessage argument carries.
function mediaOf(message) {
  if (typeof FormData !== 'undefined' && message instanceof FormData) {
    for (const value of message.values()) {
      if (typeof value !== 'string') {
        return { blob: value, contentType: value.type || null, filename: value.name || null };
      }
    }
    throw new ConversationsError('The FormData holds no file to send.', 20400, 400, 'no_file');
  }
  const media = typeof message.media === 'string' ? new Blob([message.media]) : message.media;
  if (!(media instanceof Blob)) {
    throw new ConversationsError('media must be a Blob, a File or a string.', 20400, 400, 'no_file');
  }
  return { blob: media, contentType: message.contentType || media.type || null, filename: message.filename || media.name || null };
}

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export class Conversation extends EventEmitter {
  constructor(client, joined, connection) {
    super();
    this._client = client;
    this._connection = connection;
    this.sid = joined.room.sid;
    this.uniqueName = joined.room.name;
    this.friendlyName = joined.room.name;
    this.attributes = {};
    this.createdBy = null;
    this.dateCreated = null;
    this.dateUpdated = null;
    this.status = 'joined';
    this.notificationLevel = 'default';
    this.lastReadMessageIndex = null;
    this._limits = joined.media || { max_size: 0, types: [] };
    this._lastIndex = 0;
    this._noteMessages(joined.chat || []);
  }

  get lastMessage() {
    return this._lastIndex ? { index: this._lastIndex } : undefined;
  }

  // An hqrooms extension: what the server takes as attachments (said at
  // chat_join), so that an app can say it before a file is picked.
  get hqMediaLimits() {
    return { maxSize: this._limits.max_size, types: [...this._limits.types] };
  }

  _noteMessages(list) {
    for (const m of list) this._lastIndex = Math.max(this._lastIndex, m.index);
  }

  _event(msg) {
    if (msg.type === 'chat_message' && msg.message.index > this._lastIndex) this._added(msg.message);
  }

  _added(data) {
    this._noteMessages([data]);
    const message = new Message(this, data);
    this.emit('messageAdded', message);
    this._client.emit('messageAdded', message);
    return message;
  }

  async _request(msg) {
    return this._connection.request(msg);
  }

  // Messages [from, to) ... as the server pages them: `before` an index
  // (0: the newest), at most 50 a request, oldest first.
  async _history(before, limit) {
    let items = [];
    let hasMore = true;
    while (items.length < limit && hasMore) {
      const want = Math.min(SERVER_PAGE, limit - items.length);
      const reply = await this._request({ type: 'chat_history', before, limit: want });
      items = reply.messages.concat(items);
      hasMore = reply.has_more;
      if (reply.messages.length === 0) break;
      before = reply.messages[0].index;
    }
    this._noteMessages(items);
    return { items, hasMore };
  }

  // Twilio's semantics: `anchor` (default the newest) included; backwards
  // gives the page ending at it, forward the page starting at it; items
  // oldest first either way.
  async getMessages(pageSize = 30, anchor, direction = 'backwards') {
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new ConversationsError('pageSize must be a whole number of 1 or more.', 20400, 400, 'invalid_field');
    }
    if (direction === 'forward') {
      const from = anchor === undefined || anchor === 'end' ? 1 : anchor;
      const { items } = await this._history(from + pageSize, pageSize);
      const page = items.filter((m) => m.index >= from);
      return this._page(page, pageSize);
    }
    const before = anchor === undefined || anchor === 'end' ? 0 : anchor + 1;
    const { items } = await this._history(before, pageSize);
    return this._page(items, pageSize);
  }

  _page(items, pageSize) {
    const first = items.length ? items[0].index : null;
    const last = items.length ? items[items.length - 1].index : null;
    const prev = first !== null && first > 1 ? () => this.getMessages(pageSize, first - 1, 'backwards') : null;
    const next = last !== null && last < this._lastIndex ? () => this.getMessages(pageSize, last + 1, 'forward') : null;
    return new Paginator(items.map((m) => new Message(this, m)), prev, next);
  }

  async getMessagesCount() {
    return this._lastIndex;
  }

  // Text, or a file (FormData, or {contentType, filename, media}); resolves
  // with the message's index once the server has stored it.
  async sendMessage(message, messageAttributes) {
    const request = { type: 'chat_send' };
    if (messageAttributes !== undefined) request.attributes = messageAttributes;
    if (message === null || message === undefined || typeof message === 'string') {
      request.body = message ?? '';
    } else {
      request.media_sid = (await this._upload(mediaOf(message))).sid;
    }
    const reply = await this._request(request);
    return this._added(reply.message).index;
  }

  prepareMessage() {
    const conversation = this;
    let body = null;
    let attributes;
    const media = [];
    const builder = {
      setBody(text) { body = text; return builder; },
      setAttributes(a) { attributes = a; return builder; },
      addMedia(m) { media.push(m); return builder; },
      build() {
        return { send: () => cancellable((async () => {
          let index = null;
          for (const m of media) index = await conversation.sendMessage(m, attributes);
          if (body !== null || media.length === 0) index = await conversation.sendMessage(body, attributes);
          return index;
        })()) };
      },
      buildAndSend() { return builder.build().send(); },
    };
    return builder;
  }

  async _upload({ blob, contentType, filename }) {
    const max = this._limits.max_size;
    const what = filename ? `"${filename}"` : 'The file';
    if (max === 0) {
      throw new ConversationsError('This server does not take attachments.', 403, 403, 'attachments_off');
    }
    if (blob.size > max) {
      throw new ConversationsError(`${what} is ${formatSize(blob.size)}; files may be at most ${formatSize(max)} here.`,
        413, 413, 'file_too_large');
    }
    const url = new URL('/v1/ChatMedia', this._client._origin);
    url.searchParams.set('Room', this.sid);
    if (filename) url.searchParams.set('Filename', filename);
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this._client._token}`, 'Content-Type': contentType || 'application/octet-stream' },
        body: blob,
      });
    } catch (err) {
      throw new ConversationsError(`${what} could not be sent: ${err.message}`, 53000, 503, 'no_connection');
    }
    const body = await res.json().catch(() => null);
    if (res.status === 201) return body;
    const explanation = body?.error?.explanation || body?.error?.message || `the server answered ${res.status}`;
    throw new ConversationsError(explanation, res.status, res.status, body?.error?.message || null);
  }

  async _mediaUrl(sid) {
    const reply = await this._request({ type: 'chat_media_url', media_sid: sid });
    return new URL(reply.url, this._client._origin).toString();
  }

  // Leaves the chat (closes this conversation's connection).
  async leave() {
    this._client._forget(this);
    this.status = 'notParticipating';
    this._connection.close();
    return this;
  }
}

// --- client ---

// Decodes a token's payload without checking it (the server does): only to
// read what it says, never to trust it.
function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

export class Client extends EventEmitter {
  constructor(token, options = {}) {
    super();
    this.version = version;
    this.connectionState = 'connecting';
    this.reachabilityEnabled = false;
    this._token = token;
    this._options = options || {};
    this._conversations = new Map(); // room sid -> Conversation
    this._joining = new Map(); // sid or name asked for -> Promise<Conversation>
    this._shutdown = false;
    const claims = tokenClaims(token);
    this.user = { identity: claims?.grants?.identity ?? null, friendlyName: claims?.grants?.video?.name ?? null };
    this._ready = this._init();
    // Failure is told by stateChanged/initFailed; create() rejects with it.
    this._ready.catch(() => {});
  }

  // @twilio/conversations 1.x's way in; resolves when initialized.
  static async create(token, options) {
    const client = new Client(token, options);
    await client._ready;
    return client;
  }

  _setConnectionState(state) {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emit('connectionStateChanged', state);
  }

  async _init() {
    try {
      this._origin = httpOrigin(this._options.wsServer);
      this._main = await this._signIn();
    } catch (err) {
      this._setConnectionState(err.status === 401 || err.status === 403 ? 'denied' : 'error');
      this.emit('connectionError', { terminal: true, message: err.message });
      this.emit('stateChanged', 'failed');
      this.emit('initFailed', { error: { terminal: true, message: err.message } });
      throw err;
    }
    this._setConnectionState('connected');
    this.emit('stateChanged', 'initialized');
    this.emit('initialized');
  }

  // The client's own connection: a chat_join without a room checks the
  // token; its state is the client's connectionState.
  async _signIn() {
    const conn = new Connection(signalUrl(this._origin), () => {}, (code) => this._mainClosed(code));
    try {
      await conn.open();
      await conn.request({ type: 'chat_join', token: this._token });
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  async _mainClosed(code) {
    if (this._shutdown) return;
    this._setConnectionState('connecting');
    for (let i = 0; !this._shutdown; i++) {
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(i, RETRY_MS.length - 1)]));
      if (this._shutdown) return;
      try {
        this._main = await this._signIn();
        this._setConnectionState('connected');
        return;
      } catch (err) {
        if (err.status === 401 || err.status === 403) {
          this._setConnectionState('denied');
          this.emit('connectionError', { terminal: true, message: err.message });
          return;
        }
      }
    }
  }

  async _joinRoom(room) {
    let conversation = null;
    const conn = new Connection(signalUrl(this._origin),
      (msg) => conversation?._event(msg),
      (code) => conversation && this._conversationClosed(conversation, code));
    let joined;
    try {
      await conn.open();
      joined = await conn.request({ type: 'chat_join', token: this._token, room });
    } catch (err) {
      conn.close();
      throw err;
    }
    const known = this._conversations.get(joined.room.sid);
    if (known) {
      conn.close();
      return known;
    }
    conversation = new Conversation(this, joined, conn);
    this._conversations.set(conversation.sid, conversation);
    this.emit('conversationJoined', conversation);
    return conversation;
  }

  // The connection of a conversation dropped: join its chat again and
  // tell what was said meanwhile.
  async _conversationClosed(conversation, code) {
    if (this._shutdown || conversation.status !== 'joined') return;
    if (FINAL_CLOSES.has(code)) {
      this._forget(conversation);
      conversation.status = 'notParticipating';
      this.emit('conversationLeft', conversation);
      return;
    }
    for (let i = 0; !this._shutdown && conversation.status === 'joined'; i++) {
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(i, RETRY_MS.length - 1)]));
      const conn = new Connection(signalUrl(this._origin), (msg) => conversation._event(msg),
        (c) => this._conversationClosed(conversation, c));
      try {
        await conn.open();
        const joined = await conn.request({ type: 'chat_join', token: this._token, room: conversation.sid });
        conversation._connection = conn;
        for (const m of joined.chat || []) if (m.index > conversation._lastIndex) conversation._added(m);
        return;
      } catch (err) {
        conn.close();
        if (err.status === 401 || err.status === 403 || err.status === 404) {
          this._forget(conversation);
          conversation.status = 'notParticipating';
          this.emit('conversationLeft', conversation);
          return;
        }
      }
    }
  }

  _forget(conversation) {
    this._conversations.delete(conversation.sid);
    for (const [key, p] of this._joining) p.then((c) => { if (c === conversation) this._joining.delete(key); }, () => {});
  }

  _conversation(sidOrName) {
    if (typeof sidOrName !== 'string' || sidOrName === '') {
      return Promise.reject(new ConversationsError('Name the conversation: the room\'s sid or name.', 20400, 400, 'invalid_field'));
    }
    for (const c of this._conversations.values()) {
      if (c.sid === sidOrName || c.uniqueName === sidOrName) return Promise.resolve(c);
    }
    let p = this._joining.get(sidOrName);
    if (!p) {
      p = this._ready.then(() => this._joinRoom(sidOrName));
      this._joining.set(sidOrName, p);
      p.catch(() => this._joining.delete(sidOrName));
    }
    return p;
  }

  // The room's chat, by the room's unique name or sid.
  getConversationByUniqueName(uniqueName) {
    return this._conversation(uniqueName);
  }

  getConversationBySid(conversationSid) {
    return this._conversation(conversationSid);
  }

  peekConversationBySid(conversationSid) {
    return this._conversation(conversationSid);
  }

  async getSubscribedConversations() {
    await this._ready;
    return new Paginator([...this._conversations.values()], null, null);
  }

  async getTemporaryContentUrlsForMedia(contentSet) {
    const pairs = await Promise.all(contentSet.map(async (m) => [m.sid, await m.getContentTemporaryUrl()]));
    return new Map(pairs);
  }

  // Later connections (rejoins) use the new token.
  async updateToken(token) {
    this._token = token;
    return this;
  }

  async shutdown() {
    this._shutdown = true;
    for (const c of this._conversations.values()) {
      c.status = 'notParticipating';
      c._connection.close();
    }
    this._conversations.clear();
    this._main?.close();
    this._setConnectionState('disconnected');
  }
}

export default { Client, Conversation, Message, Media, ConversationsError, version };
