// The hqrooms web page: join a room by name, publish camera and microphone,
// show every other participant's video and play their audio, mark the
// dominant speaker and show network quality levels.
import { HqRoomClient } from './hqclient.js';

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
async function join(name, room, token, passcode) {
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
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const me = tile(joined.participant.sid, `${myName} (you)`);
  me.querySelector('video').srcObject = stream;
  me.querySelector('video').muted = true;
  await client.publish(stream);
  status.textContent = `In room ${joined.room.name} as ${myName}`;
  return client;
}

const params = new URLSearchParams(location.search);
const form = document.getElementById('join');
form.room.value = params.get('room') || form.room.value;
form.addEventListener('submit', (e) => {
  e.preventDefault();
  form.querySelector('button').disabled = true;
  const passcode = form.passcode.value || undefined;
  join(form.identity.value, form.room.value, undefined, passcode).catch((err) => {
    // The server wants a passcode for this room: ask for it.
    if (err.reason && err.reason.startsWith('passcode')) {
      document.getElementById('passcode').hidden = false;
      form.passcode.focus();
    }
    status.textContent = `Could not join: ${err.message}`;
    form.querySelector('button').disabled = false;
  });
});
window.hqJoin = join;
