// The clinician's tools, for a host only (the token's role, the SDK's
// hqRole): the waiting room's queue with Admit and Deny, mute and remove
// a participant (with a reason told to them), start and stop recording,
// new invite links for this visit, and end the visit for everyone.  A
// panel beside the call like People and Settings, opened by its own
// button; built on the SDK's extensions (docs/sdk.md, "Extensions").
import { t } from './i18n.js';
import { makeLinks } from './invite.js';
import { e2eeSecret, withSecret } from './e2ee.js';

const $ = (id) => document.getElementById(id);
const svg = (body) => `<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;
// A clipboard with a tick: the clinician's list of things to do.
const HOST_ICON = svg('<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V3h6v1M9 13l2 2 4-4"/>');

// The host's own sentence from a removal's or a denial's message ("A host
// removed you from this room: <reason>", docs/protocol.md), or null.
export function hostReason(error) {
  const m = /^A host (?:removed you from|declined to admit you to) this room: (.+)$/s.exec(error?.message || '');
  return m ? m[1] : null;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

export class HostPanel {
  constructor(call, { token }) {
    this.call = call;
    this.room = call.room;
    this.token = token;
    this.links = null; // the last links made
    this.confirmEnd = false;
    this.recordingBusy = false;
    this.build();
    const room = this.room;
    room.on('participantWaiting', (w) => {
      this.call.announce(t('host.waitingNow', { name: w.name || w.identity }));
      this.render();
    });
    room.on('hqLobbyChanged', () => this.render());
    for (const ev of ['participantConnected', 'participantDisconnected', 'trackPublished', 'trackUnpublished',
      'trackEnabled', 'trackDisabled']) {
      room.on(ev, () => this.render());
    }
    room.on('recordingStarted', () => { this.recordingBusy = false; this.render(); });
    room.on('recordingStopped', () => { this.recordingBusy = false; this.render(); });
    this.render();
  }

  // The button in the call's bar and the panel beside the stage.
  build() {
    document.body.classList.add('is-host');
    const btn = $('host-btn') || el('button', {
      type: 'button', id: 'host-btn', class: 'ctl', 'aria-expanded': 'false', 'aria-controls': 'host',
    }, el('span', { class: 'ic' }), el('span', { class: 'txt' }), el('span', { class: 'badge', 'aria-hidden': 'true', hidden: true }));
    $('leave').before(btn);
    btn.hidden = false;
    btn.onclick = () => this.call.togglePanel('host');
    let panel = $('host');
    if (!panel) {
      panel = el('aside', { id: 'host', class: 'panel host-panel', 'aria-labelledby': 'host-title', hidden: true });
      $('people').before(panel);
    }
    this.panel = panel;
    if (!this.call.panels.includes('host')) this.call.panels.push('host');
  }

  // Everything in the panel, from the room as it is now.
  render() {
    if (this.call.ended) return;
    const room = this.room;
    const waiting = [...room.hqLobby.values()];
    const btn = $('host-btn');
    const label = waiting.length ? t('host.buttonWaiting', { n: waiting.length }) : t('host.button');
    btn.querySelector('.ic').innerHTML = HOST_ICON;
    btn.querySelector('.txt').textContent = t('host.button');
    btn.setAttribute('aria-label', label);
    btn.title = label;
    const badge = btn.querySelector('.badge');
    badge.hidden = !waiting.length;
    // The number is drawn by CSS (attr()): the button's name says it.
    badge.dataset.n = String(waiting.length);

    const focused = document.activeElement?.id && this.panel.contains(document.activeElement)
      ? document.activeElement.id : null;
    const reason = $('host-reason')?.value || '';
    this.panel.replaceChildren(
      el('div', { class: 'panel-head' },
        el('h3', { id: 'host-title' }, t('host.title')),
        el('button', {
          type: 'button', class: 'icon close', 'aria-label': t('call.close'), title: t('call.close'),
          onclick: () => this.call.togglePanel('host', false),
        })),
      this.waitingSection(waiting),
      el('label', { for: 'host-reason', class: 'host-reason-label' }, t('host.reason')),
      el('input', { id: 'host-reason', maxlength: '200', autocomplete: 'off', value: reason }),
      this.peopleSection(),
      this.recordingSection(),
      this.linksSection(),
      this.endSection(),
    );
    if (focused) $(focused)?.focus();
  }

  section(id, title, ...children) {
    return el('section', { class: 'host-section', 'aria-labelledby': id }, el('h4', { id }, title), ...children);
  }

  waitingSection(waiting) {
    const list = el('ul', { id: 'host-waiting', class: 'host-list' });
    for (const w of waiting) {
      const name = w.name || w.identity;
      list.append(el('li', { 'data-identity': w.identity },
        el('span', { class: 'who' }, name),
        el('span', { class: 'acts' },
          el('button', {
            type: 'button', class: 'primary small admit', 'aria-label': t('host.admitName', { name }),
            onclick: (e) => this.act(e.currentTarget, () => this.room.hqAdmit(w.identity)),
          }, t('host.admit')),
          el('button', {
            type: 'button', class: 'small deny', 'aria-label': t('host.denyName', { name }),
            onclick: (e) => this.act(e.currentTarget, () => this.room.hqDeny(w.identity, this.takeReason())),
          }, t('host.deny')))));
    }
    return this.section('host-waiting-title', t('host.waitingTitle', { n: waiting.length }),
      waiting.length ? list : el('p', { class: 'quiet' }, t('host.nobodyWaiting')));
  }

  peopleSection() {
    const list = el('ul', { id: 'host-people', class: 'host-list' });
    for (const p of this.room.participants.values()) {
      const name = p.name || p.identity;
      const audio = [...p.audioTracks.values()];
      const muted = !audio.some((pub) => pub.isTrackEnabled);
      list.append(el('li', { 'data-identity': p.identity },
        el('span', { class: 'who' }, name),
        el('span', { class: 'acts' },
          el('button', {
            type: 'button', class: 'small mute', disabled: muted,
            'aria-label': muted ? t('host.mutedName', { name }) : t('host.muteName', { name }),
            onclick: (e) => this.act(e.currentTarget, () => this.room.hqMute(p)),
          }, muted ? t('host.muted') : t('host.mute')),
          el('button', {
            type: 'button', class: 'small danger remove', 'aria-label': t('host.removeName', { name }),
            onclick: (e) => this.act(e.currentTarget, () => this.room.hqRemove(p, this.takeReason())),
          }, t('host.remove')))));
    }
    return this.section('host-people-title', t('host.peopleTitle'),
      this.room.participants.size ? list : el('p', { class: 'quiet' }, t('host.nobodyElse')));
  }

  recordingSection() {
    const on = Boolean(this.room.isRecording);
    const status = this.recordingBusy ? t(on ? 'host.recStopping' : 'host.recStarting')
      : t(on ? 'host.recOn' : 'host.recOff');
    return this.section('host-rec-title', t('host.recTitle'),
      el('p', { id: 'host-rec-status', class: on ? 'rec-on' : 'quiet' }, status),
      el('button', {
        type: 'button', id: 'host-record', disabled: this.recordingBusy, 'aria-pressed': String(on),
        onclick: () => this.toggleRecording(),
      }, t(on ? 'host.recStop' : 'host.recStart')));
  }

  linksSection() {
    const children = [el('div', { class: 'acts wrap' },
      el('button', {
        type: 'button', id: 'host-links', onclick: (e) => this.act(e.currentTarget, () => this.newLinks(this.room.name)),
      }, t('host.newLinks')),
      el('button', {
        type: 'button', id: 'host-new-visit', onclick: (e) => this.act(e.currentTarget, () => this.newLinks(null)),
      }, t('host.newVisit')))];
    if (this.links) {
      children.push(el('p', { id: 'host-links-visit', class: 'quiet' }, t(
        this.links.visit === this.room.name ? 'host.linksThis' : 'host.linksNew', { visit: this.links.visit })));
      for (const [kind, link] of [['patient', this.links.patient], ['host', this.links.host]]) {
        const id = `host-link-${kind}`;
        children.push(
          el('label', { for: id }, t(kind === 'patient' ? 'host.patientLink' : 'host.hostLink')),
          el('div', { class: 'link-row' },
            el('input', { id, readOnly: true, value: link.url, onfocus: (e) => e.target.select() }),
            el('button', {
              type: 'button', class: 'small', 'aria-label': t('host.copyWhich', { which: t(kind === 'patient' ? 'host.patientLink' : 'host.hostLink') }),
              onclick: () => this.copy(id),
            }, t('host.copy'))));
      }
      children.push(el('p', { class: 'quiet' }, t(this.links.patient.max_uses === 1 ? 'host.linksOnce' : 'host.linksMany',
        { until: new Date(this.links.expires_at).toLocaleString() })));
    }
    return this.section('host-links-title', t('host.linksTitle'), ...children);
  }

  endSection() {
    if (!this.confirmEnd) {
      return el('div', { class: 'host-section' }, el('button', {
        type: 'button', id: 'host-end', class: 'danger wide',
        onclick: () => { this.confirmEnd = true; this.render(); $('host-end-yes').focus(); },
      }, t('host.end')));
    }
    return el('div', { class: 'host-section confirm', role: 'alertdialog', 'aria-labelledby': 'host-end-q' },
      el('p', { id: 'host-end-q' }, t('host.endSure')),
      el('div', { class: 'acts' },
        el('button', {
          type: 'button', id: 'host-end-yes', class: 'danger',
          onclick: (e) => this.act(e.currentTarget, () => this.room.hqEndRoom()),
        }, t('host.endYes')),
        el('button', {
          type: 'button', id: 'host-end-no',
          onclick: () => { this.confirmEnd = false; this.render(); $('host-end').focus(); },
        }, t('host.endNo'))));
  }

  // The reason typed for this denial or removal; the field empties, so
  // the next one is not given the same words by mistake.
  takeReason() {
    const field = $('host-reason');
    const reason = field?.value.trim() || undefined;
    if (field) field.value = '';
    return reason;
  }

  // Runs a host request with its button disabled meanwhile; a refusal is
  // said, not thrown.
  async act(button, fn) {
    button.disabled = true;
    try {
      await fn();
    } catch (err) {
      this.call.announce(t('host.failed', { detail: err?.message || String(err) }));
    } finally {
      button.disabled = false;
      this.render();
    }
  }

  async toggleRecording() {
    const on = Boolean(this.room.isRecording);
    this.recordingBusy = true;
    this.render();
    try {
      if (on) await this.room.hqStopRecording();
      else await this.room.hqStartRecording();
    } catch (err) {
      this.recordingBusy = false;
      this.call.announce(t('host.failed', { detail: err?.message || String(err) }));
    }
    this.render();
  }

  // Links for this visit (`room`), or for a new one (null) that the host
  // link will start.
  async newLinks(room) {
    this.links = await makeLinks(this.token, room);
    // An encrypted visit's links carry its secret in their fragment.
    const secret = room && e2eeSecret();
    for (const link of secret ? Object.values(this.links) : []) {
      if (link?.url) link.url = withSecret(link.url, secret);
    }
    this.render();
    $('host-link-patient').focus();
  }

  async copy(id) {
    const input = $(id);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      this.call.announce(t('host.copied'));
    } catch {
      // No clipboard (an insecure page, or refused): the text is selected.
      this.call.announce(t('host.copyByHand'));
    }
  }

  end() {
    document.body.classList.remove('is-host');
    $('host-btn')?.setAttribute('hidden', '');
    this.panel.hidden = true;
  }
}
