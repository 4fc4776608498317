// The consultation page served at `/`: the way in (name, visit, optional
// passcode; camera preview, microphone meter, devices, help when a device
// is refused or missing), the call, and the screen after it.  Built only
// on the browser SDK (/sdk/video.js, twilio-video's API); docs/web.md
// describes it.
import * as Video from '/sdk/video.js';
import { t, translate, setLanguage, language, LANGUAGES } from './i18n.js';
import { icons } from './icons.js';
import { capture, helpKeys, listDevices, canChooseSpeaker, LevelMeter } from './media.js';
import { Call, initials } from './call.js';
import { ChatPanel } from './chat.js';
import { RecordingNotice } from './recording.js';
import { E2eeMark, e2eeSecret } from './e2ee.js';
import { inviteCode, showInviteForm, exchangeInvite, forgetInvite } from './invite.js';
import { Waiting } from './waiting.js';
import { HostPanel, hostReason } from './host.js';

const $ = (id) => document.getElementById(id);
const screens = ['prejoin', 'waiting', 'call', 'postcall'];

// What this person has chosen and captured.
const local = {
  audio: null, // LocalAudioTrack or null
  video: null, // LocalVideoTrack or null
  problems: { audio: null, video: null },
  micOn: true,
  camOn: true,
  ids: { camera: '', microphone: '', speaker: '' },
};
const meter = new LevelMeter($('meter'));
let call = null;
let extras = []; // the call's chat panel, recording notice, e2ee mark
// An end-to-end encrypted visit's room secret, from the link's fragment.
const secret = e2eeSecret();
let host = null; // the clinician's tools (host.js), for a host
let lastJoin = null; // {name, room, passcode, create, invite, token} of the last join, for Rejoin
const invite = inviteCode(); // the code of the invite link this page came from

function show(screen) {
  for (const s of screens) $(s).hidden = s !== screen;
  document.body.dataset.screen = screen;
}

function setError(key, vars) {
  const el = $('join-error');
  el.hidden = !key;
  el.textContent = key ? t(key, vars) : '';
  // On a phone the form is taller than the screen: bring the message into sight.
  if (key) el.scrollIntoView({ block: 'center' });
}

// --- language ---

function fillLanguages() {
  const sel = $('lang');
  sel.replaceChildren(...LANGUAGES.map((l) => {
    const o = document.createElement('option');
    o.value = l;
    o.textContent = { en: 'English', es: 'Español' }[l] || l;
    return o;
  }));
  sel.value = language();
  sel.addEventListener('change', () => {
    setLanguage(sel.value);
    refreshWords();
  });
}

// Everything with words in it, after a language change.
function refreshWords() {
  translate();
  document.title = t('app.title');
  refreshPreviewButtons();
  showHelp();
  fillDeviceFields();
  call?.refreshWords();
  for (const x of extras) x.refreshWords();
  host?.render();
  if (document.body.dataset.screen === 'postcall') $('post-reason').textContent = postReasonText;
}

// --- devices ---

let deviceLists = { camera: [], microphone: [], speaker: [] };

// The camera, microphone and (where the browser can) speaker choices, in
// every .device-fields box (pre-join and the call's settings).
function fillDeviceFields() {
  for (const [i, box] of [...document.querySelectorAll('.device-fields')].entries()) {
    const fields = [];
    for (const kind of ['camera', 'microphone', 'speaker']) {
      if (kind === 'speaker' && !canChooseSpeaker()) continue;
      const id = `dev-${i}-${kind}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = t(`pre.${kind}`);
      const sel = document.createElement('select');
      sel.id = id;
      sel.dataset.kind = kind;
      const list = deviceLists[kind];
      if (!list.length) {
        sel.append(new Option(t('dev.none'), ''));
        sel.disabled = true;
      }
      list.forEach((d, n) => {
        sel.append(new Option(d.label || t('dev.deviceN', { kind: t(`pre.${kind}`), n: n + 1 }), d.deviceId));
      });
      const current = kind === 'camera' ? local.video?.mediaStreamTrack.getSettings().deviceId
        : kind === 'microphone' ? local.audio?.mediaStreamTrack.getSettings().deviceId : local.ids.speaker;
      if (current && list.some((d) => d.deviceId === current)) sel.value = current;
      sel.addEventListener('change', () => chooseDevice(kind, sel.value));
      fields.push(label, sel);
      if (kind === 'speaker') {
        const test = document.createElement('button');
        test.type = 'button';
        test.className = 'test-sound';
        test.textContent = t('pre.testSpeaker');
        test.addEventListener('click', playTestSound);
        fields.push(test);
      }
    }
    box.replaceChildren(...fields);
  }
}

// A short two-tone chime on the chosen speaker.
async function playTestSound() {
  const ctx = new AudioContext();
  const out = ctx.createMediaStreamDestination();
  const gain = ctx.createGain();
  gain.gain.value = 0.2;
  gain.connect(out);
  for (const [freq, at] of [[660, 0], [880, 0.25]]) {
    const osc = ctx.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.22);
  }
  const el = new Audio();
  el.srcObject = out.stream;
  if (local.ids.speaker && el.setSinkId) await el.setSinkId(local.ids.speaker).catch(() => {});
  await el.play().catch(() => {});
  setTimeout(() => {
    el.srcObject = null;
    ctx.close();
  }, 700);
}

async function refreshDevices() {
  deviceLists = await listDevices();
  fillDeviceFields();
}

async function chooseDevice(kind, deviceId) {
  local.ids[kind] = deviceId;
  try {
    if (kind === 'speaker') {
      for (const el of document.querySelectorAll('audio')) await el.setSinkId?.(deviceId);
    } else if (kind === 'camera' && local.video) {
      await local.video.restart({ width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 }, deviceId: { exact: deviceId } });
    } else if (kind === 'microphone' && local.audio) {
      await local.audio.restart({ deviceId: { exact: deviceId } });
      if (!call) meter.attach(local.audio.mediaStreamTrack);
    }
  } catch {
    call ? call.announce(t('call.deviceFailed')) : setError('call.deviceFailed');
  }
  fillDeviceFields();
}

// --- pre-join ---

function showHelp() {
  const keys = helpKeys(local.problems);
  $('device-help').hidden = !keys.length;
  $('device-help').textContent = keys.map((k) => t(k)).join(' ');
}

function refreshPreviewButtons() {
  const mic = $('pre-mic');
  const cam = $('pre-cam');
  const micOn = Boolean(local.audio) && local.micOn;
  const camOn = Boolean(local.video) && local.camOn;
  mic.innerHTML = micOn ? icons.mic : icons.micOff;
  mic.setAttribute('aria-label', t(micOn ? 'call.mute' : 'call.unmute'));
  mic.title = mic.getAttribute('aria-label');
  mic.setAttribute('aria-pressed', String(!micOn));
  mic.disabled = !local.audio && local.problems.audio !== null && local.problems.audio !== 'busy';
  cam.innerHTML = camOn ? icons.cam : icons.camOff;
  cam.setAttribute('aria-label', t(camOn ? 'call.cameraOff' : 'call.cameraOn'));
  cam.title = cam.getAttribute('aria-label');
  cam.setAttribute('aria-pressed', String(!camOn));
  cam.disabled = !local.video && local.problems.video !== null && local.problems.video !== 'busy';
  $('preview-off').hidden = camOn;
  $('preview').hidden = !camOn;
  $('preview-off').querySelector('.initials').textContent = initials($('name').value);
  $('preview-off-text').textContent = t(local.camOn ? 'pre.noCamera' : 'pre.cameraOff');
}

function stopLocal() {
  meter.detach();
  for (const kind of ['audio', 'video']) {
    local[kind]?.detach();
    local[kind]?.stop();
    local[kind] = null;
  }
}

// Asks for the camera and microphone before joining, so that the first
// frame goes out as soon as the call is connected.
async function startPreview() {
  const got = await capture({ audio: true, video: local.camOn }, local.ids);
  local.audio = got.audio;
  local.video = got.video;
  local.problems = got.problems;
  if (!local.camOn) local.problems.video = null;
  if (local.audio) {
    local.audio.mediaStreamTrack.enabled = local.micOn;
    meter.attach(local.audio.mediaStreamTrack);
  }
  if (local.video) local.video.attach($('preview'));
  showHelp();
  refreshPreviewButtons();
  await refreshDevices();
}

$('pre-mic').addEventListener('click', () => {
  local.micOn = !local.micOn;
  if (local.audio) local.audio.mediaStreamTrack.enabled = local.micOn;
  refreshPreviewButtons();
});

$('pre-cam').addEventListener('click', async () => {
  local.camOn = !local.camOn;
  if (!local.camOn && local.video) {
    local.video.detach();
    local.video.stop(); // the camera light goes off
    local.video = null;
  } else if (local.camOn && !local.video) {
    const got = await capture({ video: true }, local.ids);
    local.video = got.video;
    local.problems.video = got.problems.video;
    if (local.video) local.video.attach($('preview'));
    showHelp();
  }
  refreshPreviewButtons();
});

$('name').addEventListener('input', refreshPreviewButtons);

// The /token request (the reference app's fields) with a reply's error
// as the key of a sentence a patient understands.
async function fetchToken({ name, room, passcode, create }) {
  let res;
  try {
    res = await fetch('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_identity: name, room_name: room, passcode: passcode || undefined, create_room: create }),
    });
  } catch {
    throw Object.assign(new Error('offline'), { key: 'err.offline' });
  }
  const body = await res.json().catch(() => ({}));
  if (res.ok) return body.token;
  const message = body.error?.message || `HTTP ${res.status}`;
  const key = {
    'passcode required': 'err.passcodeNeeded',
    'passcode incorrect': 'err.passcodeWrong',
    'passcode expired': 'err.passcodeExpired',
    'token endpoint closed': 'err.closed',
    'room not created': 'err.notStarted',
    'too many rooms': 'err.tooMany',
  }[message] || (res.status === 429 ? 'err.tooMany' : null);
  throw Object.assign(new Error(message), { key, detail: body.error?.explanation || message });
}

// A TwilioError from connect() as a sentence key.
function connectErrorKey(err) {
  return {
    53106: 'err.notStarted', 53105: 'err.full', 53118: 'err.ended', 53104: 'err.denied',
    20104: 'err.expired', 53000: 'err.offline', 53001: 'err.offline', 53002: 'err.offline',
    53405: 'err.media', 53400: 'err.media', 53402: 'err.media', 53403: 'err.media',
  }[err?.code] || null;
}

async function join(params) {
  setError(null);
  if (!params.name) {
    setError('err.noName');
    $('name').focus();
    return;
  }
  if (!params.room && !params.invite) {
    setError('err.noRoom');
    $('room').focus();
    return;
  }
  const button = $('join');
  button.disabled = true;
  button.textContent = t('pre.joining');
  button.setAttribute('aria-busy', 'true');
  let waiting = null;
  try {
    // An invite link's code gives the token once; the token is kept for
    // Rejoin, and the code leaves the address bar.
    if (params.invite && !params.token) {
      const got = await exchangeInvite(params.invite, params.name);
      params = { ...params, token: got.token, room: got.room };
      forgetInvite();
    }
    const token = params.token || await fetchToken(params);
    const tracks = [local.audio, local.video].filter(Boolean);
    if (local.audio) {
      if (local.micOn) local.audio.enable();
      else local.audio.disable();
    }
    const pending = Video.connect(token, {
      name: params.room, tracks, dominantSpeaker: true, networkQuality: { local: 3, remote: 3 },
      // Group rooms: the camera in three layers, and the server told which
      // tiles show (and how large), so it sends each the layer it needs
      // and nothing for what is hidden (docs/web.md, "In the call").
      preferredVideoCodecs: [{ codec: 'VP8', simulcast: true }],
      bandwidthProfile: { video: { mode: 'collaboration', dominantSpeakerPriority: 'high' } },
      // A waiting room: the waiting screen until a host admits us.
      hqOnWaiting: () => waiting.show(),
      ...(secret ? { e2ee: { secret } } : {}),
    });
    waiting = new Waiting(local, params.name, { show, onLeave: () => pending.cancel() });
    const room = await pending;
    waiting.done();
    lastJoin = params;
    meter.detach();
    show('call');
    call = new Call(room, local, { name: params.name, onEnd: endCall });
    if (room.localParticipant.hqRole === 'host') host = new HostPanel(call, { token });
    window.hqApp.room = room;
    const chat = new ChatPanel(room, token, call);
    extras = [chat, new RecordingNotice(room, call), new E2eeMark(room, call)];
    window.hqApp.chat = chat;
  } catch (err) {
    waiting?.done();
    // Turned away from the waiting room: the screen after, with why.
    if (err?.code === 53104 && document.body.dataset.screen === 'waiting') {
      endCall(err);
      return;
    }
    if (document.body.dataset.screen === 'waiting') show('prejoin'); // left the waiting room
    if (err?.message === 'Canceled') return;
    const key = err.key || connectErrorKey(err);
    if (key) setError(key);
    else setError('err.other', { detail: err.detail || err.message });
    if (key === 'err.passcodeNeeded' || key === 'err.passcodeWrong') $('passcode').focus();
  } finally {
    button.disabled = false;
    button.textContent = t('pre.join');
    button.removeAttribute('aria-busy');
  }
}

function formParams() {
  return {
    name: $('name').value.trim(),
    room: $('room').value.trim(),
    passcode: $('passcode').value.trim(),
    create: $('create').checked,
    invite,
    // The link's code works once: the token it gave serves again.
    token: invite && lastJoin?.invite === invite ? lastJoin.token : undefined,
  };
}

$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  join(formParams());
});

// --- after the call ---

let postReasonText = '';

function endCall(error) {
  call = null;
  for (const x of extras.splice(0)) x.close();
  host?.end();
  host = null;
  window.hqApp.room = null;
  stopLocal();
  const byHost = /A host ended/.test(error?.message || '');
  const key = {
    53204: 'post.removed', 53205: 'post.replaced', 53118: byHost ? 'post.endedByHost' : 'post.ended',
    53216: 'post.duration', 53001: 'post.lost', 53002: 'post.lost', 53405: 'post.lost', 53104: 'post.denied',
  }[error?.code];
  const reason = hostReason(error);
  postReasonText = key ? t(key) + (reason ? ` ${t('post.hostSaid', { reason })}` : '') : '';
  $('post-reason').textContent = postReasonText;
  $('post-reason').hidden = !key;
  // Removed, denied or ended: coming back is the clinic's decision.
  $('post-title').dataset.i18n = { 53204: 'post.titleRemoved', 53104: 'post.titleDenied', 53118: 'post.titleEnded' }[error?.code] || 'post.title';
  $('post-title').textContent = t($('post-title').dataset.i18n);
  $('rejoin').hidden = [53118, 53204, 53104].includes(error?.code);
  show('postcall');
  $('post-title').focus();
}

$('rejoin').addEventListener('click', async () => {
  show('prejoin');
  await startPreview();
  if (lastJoin) await join(lastJoin);
});

$('restart').addEventListener('click', async () => {
  show('prejoin');
  await startPreview();
  $('name').focus();
});

// --- start ---

function start() {
  fillLanguages();
  translate();
  document.title = t('app.title');
  const params = new URLSearchParams(location.search);
  if (params.get('room')) $('room').value = params.get('room');
  if (params.get('name')) $('name').value = params.get('name');
  if (invite) showInviteForm();
  $('post-title').tabIndex = -1;
  show('prejoin');
  navigator.mediaDevices?.addEventListener?.('devicechange', refreshDevices);
  window.hqApp = { room: null, local, Video, ready: false };
  startPreview().finally(() => { window.hqApp.ready = true; });
}

start();
