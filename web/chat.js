// The chat beside the call: a panel opened from the control bar, with the
// visit's earlier messages, who said what and when, files sent as
// attachments (an image shows a preview; any file downloads from its
// link), and an unread count on the chat button while the panel is closed.
// Built on @hqrooms/conversations (/sdk/conversations.js,
// @twilio/conversations' API): the conversation is the room's chat.
import { Client } from '/sdk/conversations.js';
import { t, language } from './i18n.js';
import { icons } from './icons.js';

const $ = (id) => document.getElementById(id);
const PAGE = 50; // messages shown at first, and per "earlier messages"
const MAX_BODY = 4096; // bytes the server takes in one message

// Friendly names of the content types the server usually takes.
const TYPE_NAMES = {
  'application/pdf': 'PDF', 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/gif': 'GIF',
  'image/webp': 'WebP', 'image/*': 'chat.typeImages', 'text/plain': 'chat.typeText',
};

export function formatSize(bytes) {
  const num = (n, digits) => n.toLocaleString(language(), { maximumFractionDigits: digits });
  if (bytes >= 1024 * 1024) return `${num(bytes / (1024 * 1024), 1)} MB`;
  if (bytes >= 1024) return `${num(Math.round(bytes / 1024), 0)} KB`;
  return t('chat.bytes', { n: bytes });
}

// Whether a content type is among the server's (patterns with * and ?).
export function typeTaken(type, patterns) {
  const base = String(type || '').split(';')[0].trim().toLowerCase();
  if (!base) return false;
  return patterns.some((p) => new RegExp(`^${p.toLowerCase().replace(/[.+^${}()|[\]\\/]/g, '\\$&')
    .replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(base));
}

function typeList(types) {
  return types.map((ty) => {
    const name = TYPE_NAMES[ty.toLowerCase()];
    return name?.startsWith('chat.') ? t(name) : name || ty;
  }).join(', ');
}

export class ChatPanel {
  // `room`: the connected Room; `token`: the access token it joined with
  // (good for chat too); `call`: the Call (its panels and announcements).
  constructor(room, token, call) {
    this.room = room;
    this.call = call;
    this.me = room.localParticipant.identity;
    this.items = new Map(); // message index -> {message, li}
    this.urls = new Map(); // media sid -> a temporary link, for previews
    this.unread = 0;
    this.isOpen = false;
    this.closed = false;
    this.conversation = null;
    this.older = null; // the page before the oldest shown, when there is one
    this.log = $('chat-log');
    this.log.replaceChildren();
    this.input = $('chat-input');
    this.input.value = '';
    this.fileInput = $('chat-file');
    this.wire();
    this.setError(null);
    this.setReady(false);
    this.setStatus('chat.connecting');
    this.refreshWords();
    call.panelChanged = (name, open) => {
      if (name === 'chat') this.opened(open);
    };
    this.client = new Client(token);
    this.client.on('connectionStateChanged', (state) => {
      if (this.conversation) this.setStatus(state === 'connected' ? null : 'chat.reconnecting');
    });
    this.ready = this.start();
  }

  async start() {
    try {
      this.conversation = await this.client.getConversationByUniqueName(this.room.sid);
      if (this.closed) return;
      this.conversation.on('messageAdded', (m) => this.add(m, true));
      const page = await this.conversation.getMessages(PAGE);
      if (this.closed) return;
      for (const m of page.items) this.add(m, false);
      this.setOlder(page);
      const { maxSize, types } = this.conversation.hqMediaLimits;
      this.fileInput.accept = types.join(',');
      $('chat-attach').hidden = maxSize === 0;
      this.setStatus(null);
      this.setReady(true);
      this.scrollDown();
    } catch {
      if (!this.closed) this.setStatus('chat.unavailable');
    }
  }

  wire() {
    $('chat-btn').onclick = () => this.call.togglePanel('chat');
    $('chat-form').onsubmit = (e) => {
      e.preventDefault();
      this.send();
    };
    this.input.onkeydown = (e) => {
      // Enter sends; Shift+Enter starts a new line.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    };
    $('chat-attach').onclick = () => this.fileInput.click();
    this.fileInput.onchange = () => {
      const file = this.fileInput.files[0];
      this.fileInput.value = ''; // the same file can be picked again
      if (file) this.sendFile(file);
    };
    $('chat-earlier').onclick = () => this.showEarlier();
  }

  setReady(ready) {
    for (const id of ['chat-input', 'chat-send', 'chat-attach']) $(id).disabled = !ready;
  }

  setStatus(key) {
    this.statusKey = key;
    $('chat-status').hidden = !key;
    $('chat-status').textContent = key ? t(key) : '';
  }

  setError(text) {
    $('chat-error').hidden = !text;
    $('chat-error').textContent = text || '';
  }

  setOlder(page) {
    this.older = page.hasPrevPage ? page : null;
    $('chat-earlier').hidden = !this.older;
  }

  async showEarlier() {
    if (!this.older) return;
    try {
      const page = await this.older.prevPage();
      for (const m of page.items) this.add(m, false);
      this.setOlder(page);
    } catch {
      this.setError(t('chat.failed'));
    }
  }

  // --- messages ---

  add(message, live) {
    if (this.closed || this.items.has(message.index)) return;
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const li = this.render(message);
    this.items.set(message.index, { message, li });
    const next = [...this.log.children].find((el) => Number(el.dataset.index) > message.index);
    this.log.insertBefore(li, next || null);
    if (!live) return;
    const mine = message.author === this.me;
    if (mine || atBottom) this.scrollDown();
    if (!mine && !this.isOpen) {
      this.unread += 1;
      this.refreshButton();
      this.call.announce(t('chat.newFrom', { name: message.hqAuthorName }));
    }
  }

  scrollDown() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  // One message: who, when, the text, the attachment.
  render(message) {
    const li = document.createElement('li');
    li.className = `msg${message.author === this.me ? ' mine' : ''}`;
    li.dataset.index = String(message.index);
    const meta = document.createElement('div');
    meta.className = 'meta';
    const who = document.createElement('span');
    who.className = 'author';
    who.textContent = message.author === this.me ? t('chat.you') : message.hqAuthorName;
    const when = document.createElement('time');
    when.dateTime = message.dateCreated.toISOString();
    when.textContent = message.dateCreated.toLocaleTimeString(language(), { hour: '2-digit', minute: '2-digit' });
    meta.append(who, ' ', when);
    li.append(meta);
    if (message.body) {
      const body = document.createElement('p');
      body.className = 'body';
      body.textContent = message.body;
      li.append(body);
    }
    for (const media of message.attachedMedia) li.append(this.renderMedia(media));
    return li;
  }

  // An attachment: a link that downloads it (a fresh temporary link at
  // each click: they last minutes), with a preview for an image.
  renderMedia(media) {
    const a = document.createElement('a');
    a.className = 'file';
    a.href = '#';
    a.download = media.filename || 'file';
    const image = /^image\//.test(media.contentType);
    if (image) {
      const img = document.createElement('img');
      img.alt = '';
      img.className = 'preview-img';
      a.append(img);
      this.link(media).then((url) => { img.src = url; }).catch(() => img.remove());
    } else {
      const ic = document.createElement('span');
      ic.className = 'file-ic';
      ic.innerHTML = icons.file;
      a.append(ic);
    }
    const verb = document.createElement('span');
    verb.className = 'sr-only';
    verb.textContent = `${t('chat.download')} `;
    const name = document.createElement('span');
    name.className = 'file-name';
    name.textContent = media.filename || t('chat.file');
    const size = document.createElement('span');
    size.className = 'file-size';
    size.textContent = `(${formatSize(media.size)})`;
    a.append(verb, name, ' ', size);
    a.onclick = async (e) => {
      e.preventDefault();
      try {
        const url = await media.getContentTemporaryUrl();
        const go = document.createElement('a');
        go.href = url;
        go.download = a.download;
        go.click();
      } catch {
        this.setError(t('chat.downloadFailed'));
      }
    };
    return a;
  }

  async link(media) {
    if (!this.urls.has(media.sid)) this.urls.set(media.sid, media.getContentTemporaryUrl());
    return this.urls.get(media.sid);
  }

  // --- sending ---

  async send() {
    const text = this.input.value.trim();
    if (!text || !this.conversation) return;
    if (new TextEncoder().encode(text).length > MAX_BODY) {
      this.setError(t('chat.tooLong'));
      return;
    }
    this.setError(null);
    $('chat-send').disabled = true;
    try {
      await this.conversation.sendMessage(text);
      this.input.value = '';
    } catch (err) {
      this.setError(this.errorText(err));
    } finally {
      $('chat-send').disabled = false;
      this.input.focus();
    }
  }

  async sendFile(file) {
    if (!this.conversation) return;
    const { maxSize, types } = this.conversation.hqMediaLimits;
    const vars = { file: file.name, size: formatSize(file.size), max: formatSize(maxSize), types: typeList(types) };
    if (file.size === 0) return this.setError(t('chat.fileEmpty', vars));
    if (file.size > maxSize) return this.setError(t('chat.fileTooBig', vars));
    if (!typeTaken(file.type, types)) return this.setError(t('chat.fileType', vars));
    this.setError(null);
    this.setStatus('chat.sending');
    $('chat-status').textContent = t('chat.sending', vars);
    try {
      await this.conversation.sendMessage({ contentType: file.type, filename: file.name, media: file });
    } catch (err) {
      this.setError(this.errorText(err, vars));
    } finally {
      this.setStatus(null);
    }
  }

  // A refused message or file in words a person understands.
  errorText(err, vars = {}) {
    switch (err?.code) {
      case 413: return t('chat.fileTooBig', vars);
      case 415: return t('chat.fileType', vars);
      case 403: return t('chat.noFiles');
      case 20400: return vars.file ? t('chat.fileEmpty', vars) : t('chat.tooLong');
      case 20429: return t('chat.tooFast');
      default: return t('chat.failed');
    }
  }

  // --- the panel and its button ---

  opened(open) {
    this.isOpen = open;
    if (open) {
      this.unread = 0;
      this.refreshButton();
      this.scrollDown();
      if (!this.input.disabled) this.input.focus();
    }
  }

  refreshButton() {
    const btn = $('chat-btn');
    const label = this.unread ? t('chat.buttonUnread', { n: this.unread }) : t('chat.button');
    btn.querySelector('.ic').innerHTML = icons.chat;
    btn.querySelector('.txt').textContent = t('chat.button');
    btn.setAttribute('aria-label', label);
    btn.title = label;
    const badge = btn.querySelector('.badge');
    badge.hidden = !this.unread;
    badge.textContent = this.unread > 99 ? '99+' : String(this.unread);
  }

  refreshWords() {
    this.refreshButton();
    this.input.placeholder = t('chat.placeholder');
    $('chat-input-label').textContent = t('chat.placeholder');
    for (const id of ['chat-send', 'chat-attach']) {
      const key = id === 'chat-send' ? 'chat.send' : 'chat.attach';
      $(id).setAttribute('aria-label', t(key));
      $(id).title = t(key);
    }
    $('chat-send').innerHTML = icons.send;
    $('chat-attach').innerHTML = icons.attach;
    if (this.statusKey && this.statusKey !== 'chat.sending') this.setStatus(this.statusKey);
    for (const item of this.items.values()) {
      const li = this.render(item.message);
      item.li.replaceWith(li);
      item.li = li;
    }
  }

  // The call is over: the chat connection closes.
  close() {
    this.closed = true;
    this.call.panelChanged = null;
    this.client.shutdown().catch(() => {});
    $('chat-btn').onclick = null;
    this.unread = 0;
    this.refreshButton();
  }
}
