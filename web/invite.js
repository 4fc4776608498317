// Invite links (docs/invites.md): a link's code (`/#invite=CODE`) is
// exchanged for a token at POST /token when the person clicks Join, and
// taken out of the address bar once it has worked, so no history entry
// opens the visit again.  A host makes new links with POST /v1/Visits and
// its own token.
const $ = (id) => document.getElementById(id);

// The code of the link this page was opened with, or null.
export function inviteCode() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const code = (hash.get('invite') || query.get('invite') || '').trim();
  return code || null;
}

// The link chose the visit: the form asks only for the name.
export function showInviteForm() {
  document.body.classList.add('invited');
  for (const id of ['room', 'passcode', 'create']) {
    const field = $(id);
    field.required = false;
    for (const el of [field, field.closest('label'), document.querySelector(`label[for="${id}"]`), $(`${id}-hint`)]) {
      el?.setAttribute('hidden', '');
    }
  }
  $('pre-intro-invite').hidden = false;
}

// The code has given its token: out of the address bar and history.
export function forgetInvite() {
  const url = new URL(location.href);
  url.hash = '';
  url.searchParams.delete('invite');
  history.replaceState(null, '', url.pathname + url.search);
}

// The server's refusals as sentences a patient understands.
const REFUSALS = {
  'invite unknown': 'err.inviteUnknown',
  'invalid invite': 'err.inviteUnknown',
  'invite expired': 'err.inviteExpired',
  'invite used': 'err.inviteUsed',
  'visit not started': 'err.inviteNotStarted',
  'visit ended': 'err.ended',
};

// {token, room, role} for the code, or throws with `key` (i18n) set.
export async function exchangeInvite(code, name) {
  let res;
  try {
    res = await fetch('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ invite: code, user_identity: name }),
    });
  } catch {
    throw Object.assign(new Error('offline'), { key: 'err.offline' });
  }
  const body = await res.json().catch(() => ({}));
  if (res.ok) return { token: body.token, room: body.room_name, role: body.role };
  const message = body.error?.message || `HTTP ${res.status}`;
  const key = REFUSALS[message] || (res.status === 429 ? 'err.tooMany' : null);
  throw Object.assign(new Error(message), { key, detail: body.error?.explanation || message });
}

// New host and patient links for `room` (the host's own visit), made
// with the host's token: {visit, expires_at, host: {url}, patient: {url}}.
export async function makeLinks(token, room) {
  const res = await fetch('/v1/Visits', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(room ? { UniqueName: room } : {}),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.explanation || `HTTP ${res.status}`);
  // The page's own address: the one people reached it by.
  const page = `${location.origin}${location.pathname}`;
  for (const link of [body.host, body.patient]) link.url = `${page}#invite=${link.code}`;
  return body;
}
