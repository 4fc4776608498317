// The call: one tile per participant (and one per shared screen), the
// controls, the people list, layouts with pinning, the dominant speaker,
// network quality and the reconnecting banner, all from the SDK's Room
// and its events (twilio-video's API).
import * as Video from '/sdk/video.js';
import { t } from './i18n.js';
import { icons } from './icons.js';
import { cameraConstraints, capture } from './media.js';

const $ = (id) => document.getElementById(id);
const SCREEN = 'screen';
// The side panels: one open at a time (on phones each covers the call).
const isScreen = (pub) => pub.kind === 'video' && pub.trackName === SCREEN;

export function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

// "Connection: 4 of 5", then the figures the server measured.
function qualityText(level, stats) {
  if (level == null) return t('q.unknown');
  const parts = [t('q.label', { level })];
  for (const kind of ['video', 'audio']) {
    const m = stats?.[kind];
    if (!m) continue;
    for (const [dir, s] of [['send', m.sendStats], ['recv', m.recvStats]]) {
      if (!s) continue;
      const figs = [];
      if (s.bandwidth?.actual != null) figs.push(t('q.rate', { kbps: Math.round(s.bandwidth.actual / 1000) }));
      if (s.latency?.rtt != null) figs.push(t('q.rtt', { ms: Math.round(s.latency.rtt * 1000) }));
      if (s.fractionLost?.fractionLost != null) figs.push(t('q.loss', { pct: Math.round(s.fractionLost.fractionLost * 1000) / 10 }));
      if (figs.length) parts.push(`${t(`q.${kind}`)} ${t(`q.${dir}`)}: ${figs.join(', ')}`);
    }
  }
  return parts.join('. ');
}

export class Call {
  constructor(room, local, { name, onEnd }) {
    this.room = room;
    this.local = local;
    this.myName = name;
    this.onEnd = onEnd;
    this.tiles = new Map(); // key (participant sid, or sid + ':screen', 'local') -> tile
    this.layout = 'gallery';
    this.pinned = null;
    this.dominant = null; // participant sid
    this.screenTrack = null;
    this.ended = false;
    this.stage = $('stage');
    this.panels = ['people', 'settings', 'chat']; // side panels, one open at a time (host.js adds its own)
    this.stage.replaceChildren();
    $('call-title').textContent = t('call.label', { room: room.name });
    $('call-title').tabIndex = -1;
    this.wireControls();
    this.addLocal();
    for (const p of room.participants.values()) this.addParticipant(p);
    room.on('participantConnected', (p) => {
      this.addParticipant(p);
      this.announce(t('call.joined', { name: this.nameOf(p) }));
    });
    room.on('participantDisconnected', (p) => {
      this.removeParticipant(p);
      this.announce(t('call.left', { name: this.nameOf(p) }));
    });
    room.on('dominantSpeakerChanged', (p) => {
      this.dominant = p?.sid ?? null;
      this.arrange();
    });
    room.on('reconnecting', () => this.banner(t('call.reconnecting')));
    room.on('reconnected', () => {
      this.banner(null);
      this.announce(t('call.reconnected'));
      this.refreshLocal();
    });
    room.on('disconnected', (r, error) => this.end(error));
    // A host muted this microphone (docs/sdk.md, "Moderation"): the Mute
    // button follows and the person is told.
    room.localParticipant.on('trackDisabled', (track) => {
      if (track.kind !== 'audio' || !this.local.micOn) return;
      this.local.micOn = false;
      this.announce(t('call.mutedByHost'));
      this.refreshControls();
    });
    room.localParticipant.on('networkQualityLevelChanged', (level, stats) => this.quality('local', level, stats));
    this.refreshControls();
    this.arrange();
    $('call-title').focus();
  }

  nameOf(p) {
    return p.name || p.identity;
  }

  announce(text) {
    $('announce').textContent = text;
  }

  banner(text) {
    $('banner').hidden = !text;
    $('banner').textContent = text || '';
    document.body.classList.toggle('reconnecting', Boolean(text));
  }

  // --- tiles ---

  makeTile(key, label, { screen = false } = {}) {
    const tile = document.createElement('div');
    tile.className = `tile no-video${screen ? ' screen' : ''}`;
    tile.dataset.key = key;
    tile.setAttribute('role', 'group');
    tile.innerHTML = `<video playsinline autoplay muted></video>
      <div class="avatar" aria-hidden="true"><span class="initials"></span></div>
      <div class="label"><span class="mic-off" role="img" hidden>${icons.micOff}</span><span class="name"></span></div>
      <div class="quality" role="img" hidden><i></i><i></i><i></i><i></i><i></i></div>
      <div class="reconn" hidden></div>
      <button type="button" class="pin icon" aria-pressed="false">${icons.pin}</button>`;
    tile.querySelector('.pin').addEventListener('click', () => this.togglePin(key));
    this.tiles.set(key, tile);
    this.setTileName(tile, label);
    this.stage.append(tile);
    return tile;
  }

  setTileName(tile, label) {
    tile.dataset.name = label;
    tile.setAttribute('aria-label', label);
    tile.querySelector('.name').textContent = label;
    tile.querySelector('.initials').textContent = initials(label.replace(/\s*\(.*\)$/, ''));
    tile.querySelector('.mic-off').setAttribute('aria-label', t('call.micOff'));
    this.refreshPin(tile);
  }

  refreshPin(tile) {
    const pinned = this.pinned === tile.dataset.key;
    const pin = tile.querySelector('.pin');
    pin.setAttribute('aria-pressed', String(pinned));
    pin.setAttribute('aria-label', t(pinned ? 'call.unpin' : 'call.pin', { name: tile.dataset.name }));
    pin.title = pin.getAttribute('aria-label');
  }

  removeTile(key) {
    const tile = this.tiles.get(key);
    if (!tile) return;
    tile.remove();
    this.tiles.delete(key);
    if (this.pinned === key) this.pinned = null;
  }

  // The local tile shows the local camera track (mirrored) or the name.
  addLocal() {
    this.makeTile('local', t('call.you', { name: this.myName }));
    this.refreshLocal();
  }

  refreshLocal() {
    const tile = this.tiles.get('local');
    if (!tile) return;
    const video = tile.querySelector('video');
    const cam = this.local.video;
    if (cam && cam.mediaStreamTrack.readyState === 'live') {
      if (video.srcObject?.getVideoTracks()[0] !== cam.mediaStreamTrack) cam.attach(video);
      tile.classList.remove('no-video');
    } else {
      tile.classList.add('no-video');
    }
    tile.classList.add('mirror');
    tile.querySelector('.mic-off').hidden = Boolean(this.local.audio?.isEnabled);
    this.refreshPeople();
  }

  addParticipant(p) {
    const tile = this.makeTile(p.sid, this.nameOf(p));
    tile.dataset.identity = p.identity;
    for (const pub of p.tracks.values()) {
      if (pub.track) this.subscribed(p, pub.track, pub);
      this.watchPublication(p, pub);
    }
    p.on('trackPublished', (pub) => {
      this.watchPublication(p, pub);
      this.refreshParticipant(p);
    });
    p.on('trackUnpublished', () => this.refreshParticipant(p));
    p.on('trackSubscribed', (track, pub) => this.subscribed(p, track, pub));
    p.on('trackUnsubscribed', (track, pub) => this.unsubscribed(p, track, pub));
    p.on('networkQualityLevelChanged', (level, stats) => this.quality(p.sid, level, stats));
    p.on('reconnecting', () => this.reconnecting(p, true));
    p.on('reconnected', () => this.reconnecting(p, false));
    if (p.state === 'reconnecting') this.reconnecting(p, true);
    if (p.networkQualityLevel != null) this.quality(p.sid, p.networkQualityLevel, p.networkQualityStats);
    this.refreshParticipant(p);
    this.arrange();
  }

  // Another's connection dropped: the server keeps them for its grace
  // period; their tile and the people list say so until they are back
  // (or gone).
  reconnecting(p, on) {
    const tile = this.tiles.get(p.sid);
    if (tile) {
      tile.classList.toggle('reconnecting', on);
      tile.querySelector('.reconn').hidden = !on;
      tile.querySelector('.reconn').textContent = on ? t('call.theyReconnecting') : '';
    }
    this.announce(t(on ? 'call.otherReconnecting' : 'call.otherReconnected', { name: this.nameOf(p) }));
    this.refreshPeople();
  }

  watchPublication(p, pub) {
    pub.on('trackEnabled', () => this.refreshParticipant(p));
    pub.on('trackDisabled', () => this.refreshParticipant(p));
  }

  removeParticipant(p) {
    for (const pub of p.tracks.values()) pub.track?.detach?.();
    this.removeTile(p.sid);
    this.removeTile(`${p.sid}:${SCREEN}`);
    this.arrange();
    this.refreshPeople();
  }

  subscribed(p, track, pub) {
    if (track.kind === 'data') return;
    if (track.kind === 'audio') {
      const el = track.attach();
      el.dataset.identity = p.identity;
      if (this.local.ids.speaker && el.setSinkId) el.setSinkId(this.local.ids.speaker).catch(() => {});
      this.tiles.get(p.sid)?.append(el);
    } else if (isScreen(pub)) {
      const tile = this.makeTile(`${p.sid}:${SCREEN}`, t('call.screenOf', { name: this.nameOf(p) }), { screen: true });
      track.attach(tile.querySelector('video'));
      tile.classList.remove('no-video');
      tile.querySelector('.label .mic-off').remove();
      // A shared screen is shown large; the view returns when it ends.
      if (!this.pinned && this.layout !== 'speaker') {
        this.setLayout('speaker');
        this.autoSpeaker = true;
      }
    } else {
      track.attach(this.tiles.get(p.sid)?.querySelector('video'));
    }
    this.refreshParticipant(p);
    this.arrange();
  }

  unsubscribed(p, track, pub) {
    track.detach?.();
    if (track.kind === 'audio') {
      for (const el of this.tiles.get(p.sid)?.querySelectorAll('audio') || []) {
        if (!el.srcObject) el.remove();
      }
    }
    if (isScreen(pub)) {
      this.removeTile(`${p.sid}:${SCREEN}`);
      if (this.autoSpeaker) this.setLayout('gallery');
    }
    this.refreshParticipant(p);
    this.arrange();
  }

  // A participant's tile: video when its camera is subscribed and enabled,
  // else its name; the muted-microphone icon when its audio is off.
  refreshParticipant(p) {
    const tile = this.tiles.get(p.sid);
    if (!tile) return;
    const pubs = [...p.tracks.values()];
    const cam = pubs.find((pub) => pub.kind === 'video' && !isScreen(pub));
    const mic = pubs.find((pub) => pub.kind === 'audio');
    const hasVideo = Boolean(cam?.track && cam.isTrackEnabled);
    tile.classList.toggle('no-video', !hasVideo);
    if (!hasVideo) tile.querySelector('video').srcObject = null;
    else if (!tile.querySelector('video').srcObject) cam.track.attach(tile.querySelector('video'));
    tile.querySelector('.mic-off').hidden = Boolean(mic && mic.isTrackEnabled);
    this.refreshPeople();
  }

  quality(key, level, stats) {
    const tile = this.tiles.get(key);
    if (!tile) return;
    const q = tile.querySelector('.quality');
    q.hidden = false;
    q.dataset.level = String(level ?? '');
    const text = qualityText(level, stats);
    q.setAttribute('aria-label', text);
    q.title = text;
  }

  // --- layout ---

  setLayout(layout) {
    this.layout = layout;
    this.autoSpeaker = false;
    this.arrange();
    this.refreshControls();
  }

  togglePin(key) {
    this.pinned = this.pinned === key ? null : key;
    this.autoSpeaker = false;
    if (this.pinned) this.layout = 'speaker';
    this.arrange();
    this.refreshControls();
  }

  // Which tile is large in speaker view: the pinned one, else a shared
  // screen, else the dominant speaker, else the first other person.
  mainKey() {
    if (this.pinned && this.tiles.has(this.pinned)) return this.pinned;
    const keys = [...this.tiles.keys()];
    const screen = keys.find((k) => k.endsWith(`:${SCREEN}`)) || (this.tiles.has(`local:${SCREEN}`) ? `local:${SCREEN}` : null);
    if (screen) return screen;
    if (this.dominant && this.tiles.has(this.dominant)) return this.dominant;
    return keys.find((k) => k !== 'local' && !k.startsWith('local')) || 'local';
  }

  arrange() {
    if (this.ended) return;
    const speaker = this.layout === 'speaker' && this.tiles.size > 1;
    this.stage.classList.toggle('speaker', speaker);
    this.stage.classList.toggle('gallery', !speaker);
    const main = speaker ? this.mainKey() : null;
    const n = this.tiles.size;
    const wide = this.stage.clientWidth >= this.stage.clientHeight;
    const cols = n <= 1 ? 1 : wide ? Math.ceil(Math.sqrt(n)) : (n <= 3 ? 1 : 2);
    this.stage.style.setProperty('--cols', String(cols));
    this.stage.style.setProperty('--rows', String(Math.ceil(n / cols)));
    for (const [key, tile] of this.tiles) {
      tile.classList.toggle('main', key === main);
      tile.classList.toggle('dominant', key === this.dominant);
      tile.querySelector('.name').dataset.speaking = String(key === this.dominant);
      this.refreshPin(tile);
    }
    // The large tile first, in the reading and tab order too.
    if (main && this.stage.firstElementChild !== this.tiles.get(main)) this.stage.prepend(this.tiles.get(main));
    $('alone').hidden = this.room.participants.size > 0;
  }

  // --- people list ---

  refreshPeople() {
    const list = $('people-list');
    const rows = [];
    const row = (name, micOn, camOn, reconnecting = false) => {
      const li = document.createElement('li');
      const n = document.createElement('span');
      n.className = 'who';
      n.textContent = name;
      li.append(n);
      const st = document.createElement('span');
      st.className = 'states';
      if (reconnecting) {
        const r = document.createElement('span');
        r.className = 'state reconn-state';
        r.textContent = t('call.theyReconnecting');
        st.append(r);
      }
      if (!micOn) st.insertAdjacentHTML('beforeend', `<span class="state" role="img" aria-label="${t('call.micOff')}" title="${t('call.micOff')}">${icons.micOff}</span>`);
      if (!camOn) st.insertAdjacentHTML('beforeend', `<span class="state" role="img" aria-label="${t('call.audioOnly')}" title="${t('call.audioOnly')}">${icons.camOff}</span>`);
      li.append(st);
      rows.push(li);
    };
    row(t('call.you', { name: this.myName }), Boolean(this.local.audio?.isEnabled),
      Boolean(this.local.video && this.local.video.mediaStreamTrack.readyState === 'live'));
    for (const p of this.room.participants.values()) {
      const pubs = [...p.tracks.values()];
      const mic = pubs.find((pub) => pub.kind === 'audio');
      const cam = pubs.find((pub) => pub.kind === 'video' && !isScreen(pub));
      row(this.nameOf(p), Boolean(mic?.isTrackEnabled), Boolean(cam?.isTrackEnabled), p.state === 'reconnecting');
    }
    list.replaceChildren(...rows);
    const count = this.room.participants.size + 1;
    const btn = $('people-btn');
    btn.querySelector('.txt').textContent = t('call.people', { n: count });
    btn.setAttribute('aria-label', t('call.people', { n: count }));
  }

  // --- controls ---

  wireControls() {
    const on = (id, fn) => {
      const el = $(id);
      const handler = () => fn().catch?.(() => {});
      el.onclick = handler;
    };
    on('mic', async () => this.toggleMic());
    on('cam', async () => this.toggleCamera());
    on('share', async () => this.toggleShare());
    on('layout', async () => this.setLayout(this.layout === 'gallery' ? 'speaker' : 'gallery'));
    this.autoSpeaker = false;
    on('people-btn', async () => this.togglePanel('people'));
    on('settings-btn', async () => this.togglePanel('settings'));
    on('leave', async () => this.room.disconnect());
    for (const b of document.querySelectorAll('[data-close]')) b.onclick = () => this.togglePanel(b.dataset.close, false);
    document.onkeydown = (e) => {
      if (e.key === 'Escape' && !this.ended) {
        for (const name of this.panels) this.togglePanel(name, false);
      }
    };
    window.onresize = () => this.arrange();
  }

  togglePanel(name, open) {
    const panel = $(name);
    const btn = $(`${name}-btn`);
    const show = open ?? panel.hidden;
    if (show) for (const other of this.panels) if (other !== name) this.togglePanel(other, false);
    const was = !panel.hidden;
    panel.hidden = !show;
    btn.setAttribute('aria-expanded', String(show));
    if (show) panel.querySelector('button, select')?.focus();
    else if (open === false && panel.contains(document.activeElement)) btn.focus();
    if (was !== show) this.panelChanged?.(name, show);
    this.arrange();
  }

  setControl(id, icon, label, pressed) {
    const b = $(id);
    b.querySelector('.ic').innerHTML = icon;
    b.querySelector('.txt').textContent = label;
    b.setAttribute('aria-label', label);
    b.title = label;
    if (pressed !== undefined) b.setAttribute('aria-pressed', String(pressed));
  }

  refreshControls() {
    const micOn = Boolean(this.local.audio?.isEnabled);
    const camOn = Boolean(this.local.video);
    this.setControl('mic', micOn ? icons.mic : icons.micOff, t(micOn ? 'call.mute' : 'call.unmute'), !micOn);
    this.setControl('cam', camOn ? icons.cam : icons.camOff, t(camOn ? 'call.cameraOff' : 'call.cameraOn'), !camOn);
    const sharing = Boolean(this.screenTrack);
    this.setControl('share', sharing ? icons.screenStop : icons.screen, t(sharing ? 'call.stopShare' : 'call.share'), sharing);
    $('share').hidden = !navigator.mediaDevices?.getDisplayMedia;
    const speaker = this.layout === 'speaker';
    this.setControl('layout', speaker ? icons.gallery : icons.speaker, t(speaker ? 'call.layoutGallery' : 'call.layoutSpeaker'));
    this.setControl('people-btn', icons.people, t('call.people', { n: this.room.participants.size + 1 }));
    this.setControl('settings-btn', icons.settings, t('call.settings'));
    this.setControl('leave', icons.leave, t('call.leave'));
    this.refreshLocal();
  }

  refreshWords() {
    $('call-title').textContent = t('call.label', { room: this.room.name });
    this.setTileName(this.tiles.get('local'), t('call.you', { name: this.myName }));
    for (const p of this.room.participants.values()) {
      const screen = this.tiles.get(`${p.sid}:${SCREEN}`);
      if (screen) this.setTileName(screen, t('call.screenOf', { name: this.nameOf(p) }));
      const tile = this.tiles.get(p.sid);
      const q = tile?.querySelector('.quality');
      if (q && !q.hidden) this.quality(p.sid, p.networkQualityLevel, p.networkQualityStats);
    }
    const lp = this.room.localParticipant;
    if (lp.networkQualityLevel != null) this.quality('local', lp.networkQualityLevel, lp.networkQualityStats);
    this.refreshControls();
  }

  // Mute: the track stays published, disabled (the others see the muted
  // icon).  Without a microphone yet, unmuting asks for one.
  async toggleMic() {
    const lp = this.room.localParticipant;
    if (!this.local.audio) {
      const got = await capture({ audio: true }, this.local.ids);
      if (!got.audio) {
        this.announce(t('call.deviceFailed'));
        return;
      }
      this.local.audio = got.audio;
      await lp.publishTrack(got.audio);
    } else if (this.local.audio.isEnabled) {
      this.local.micOn = false; // before disable(): not a host's mute
      this.local.audio.disable();
    } else {
      this.local.audio.enable();
    }
    this.local.micOn = this.local.audio.isEnabled;
    this.refreshControls();
  }

  // Camera off unpublishes and stops the capture (the light goes off; the
  // others see the name tile); on captures and publishes anew.
  async toggleCamera() {
    const lp = this.room.localParticipant;
    const btn = $('cam');
    btn.disabled = true;
    try {
      if (this.local.video) {
        const track = this.local.video;
        this.local.video = null;
        lp.unpublishTrack(track);
        track.detach();
        track.stop();
        this.local.camOn = false;
      } else {
        const track = await Video.createLocalVideoTrack(cameraConstraints(this.local.ids.camera)).catch(() => null);
        if (!track) {
          this.announce(t('call.deviceFailed'));
          return;
        }
        this.local.video = track;
        this.local.camOn = true;
        await lp.publishTrack(track, { priority: 'standard' });
      }
    } finally {
      btn.disabled = false;
      this.refreshControls();
    }
  }

  async toggleShare() {
    const lp = this.room.localParticipant;
    if (this.screenTrack) {
      this.stopShare();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
    } catch (err) {
      if (err?.name !== 'NotAllowedError') this.announce(t('call.shareFailed'));
      return;
    }
    const mst = stream.getVideoTracks()[0];
    const track = new Video.LocalVideoTrack(mst, { name: SCREEN });
    this.screenTrack = track;
    mst.addEventListener('ended', () => this.stopShare());
    try {
      await lp.publishTrack(track, { name: SCREEN, priority: 'high' });
    } catch {
      this.announce(t('call.shareFailed'));
      this.stopShare();
      return;
    }
    const tile = this.makeTile(`local:${SCREEN}`, t('call.screenOf', { name: t('call.you', { name: this.myName }) }), { screen: true });
    tile.querySelector('.label .mic-off').remove();
    track.attach(tile.querySelector('video'));
    tile.classList.remove('no-video');
    this.arrange();
    this.refreshControls();
  }

  stopShare() {
    const track = this.screenTrack;
    if (!track) return;
    this.screenTrack = null;
    if (this.room.state !== 'disconnected') this.room.localParticipant.unpublishTrack(track);
    track.detach();
    track.stop();
    this.removeTile(`local:${SCREEN}`);
    this.arrange();
    this.refreshControls();
  }

  // The room is over for us (left, removed, lost): capture stops, the
  // page shows the screen after the call.
  end(error) {
    if (this.ended) return;
    this.stopShare();
    this.ended = true;
    for (const tile of this.tiles.values()) {
      for (const el of tile.querySelectorAll('video, audio')) el.srcObject = null;
    }
    this.tiles.clear();
    this.stage.replaceChildren();
    this.banner(null);
    $('alone').hidden = true;
    for (const name of this.panels) this.togglePanel(name, false);
    document.onkeydown = null;
    window.onresize = null;
    this.onEnd(error);
  }
}
