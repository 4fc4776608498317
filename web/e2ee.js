// The end-to-end encryption mark (docs/e2ee.md): a visit joined with a
// room secret (the invite link's `#e2ee=` fragment, which never reaches
// the server) shows "End-to-end encrypted" and a six-digit verification
// code above the call.  Everyone in the visit sees the same code; people
// compare it aloud to know that nobody in between holds other keys.  The
// code changes with each key epoch (someone left), on every page alike.
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

// The room secret of the link this page was opened with, or null; read
// once at load, before the fragment leaves the address bar.
const atLoad = new URLSearchParams(location.hash.slice(1)).get('e2ee')?.trim() || null;
export function e2eeSecret() {
  return atLoad;
}

// @url (an invite link) with the room secret in its fragment.
export function withSecret(url, secret) {
  return `${url}${url.includes('#') ? '&' : '#'}e2ee=${encodeURIComponent(secret)}`;
}

// "123456" as "123 456", easier to read aloud.
const spaced = (code) => `${code.slice(0, 3)} ${code.slice(3)}`;

export class E2eeMark {
  constructor(room, call) {
    this.room = room;
    this.call = call;
    this.code = null;
    this.onChanged = (info) => this.show(info, true);
    room.on('hqE2eeChanged', this.onChanged);
    this.show(room.hqE2ee, false);
  }

  show(info, changed) {
    const mark = $('e2ee-indicator');
    mark.hidden = !info;
    if (!info) return;
    const before = this.code;
    this.code = info.code;
    this.refreshWords();
    if (changed && before && before !== info.code) this.call.announce(t('e2ee.changed', { code: spaced(info.code) }));
  }

  refreshWords() {
    if (!this.code) return;
    const mark = $('e2ee-indicator');
    $('e2ee-code').textContent = spaced(this.code);
    mark.dataset.code = this.code;
    mark.setAttribute('aria-label', t('e2ee.label', { code: spaced(this.code) }));
    mark.title = t('e2ee.label', { code: spaced(this.code) });
  }

  close() {
    this.room.off('hqE2eeChanged', this.onChanged);
    $('e2ee-indicator').hidden = true;
  }
}
