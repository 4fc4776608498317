// The waiting screen of a patient in a visit's waiting room: their own
// camera, words that say the clinician will let them in, and a way out.
// connect() stays pending meanwhile (the SDK's hqOnWaiting tells us it
// waits); the call screen follows when a host admits them.
import { initials } from './call.js';

const $ = (id) => document.getElementById(id);

export class Waiting {
  // `onLeave`: cancels the pending connect().
  constructor(local, name, { show, onLeave }) {
    this.local = local;
    this.name = name;
    this.showScreen = show;
    this.onLeave = onLeave;
    this.shown = false;
  }

  show() {
    this.shown = true;
    const video = $('wait-preview');
    const cam = this.local.video;
    const live = Boolean(cam && cam.mediaStreamTrack.readyState === 'live');
    if (live) cam.attach(video);
    video.hidden = !live;
    $('wait-preview-off').hidden = live;
    $('wait-preview-off').querySelector('.initials').textContent = initials(this.name);
    $('wait-leave').onclick = () => this.onLeave();
    this.showScreen('waiting');
    $('wait-title').focus();
  }

  // The call screen (or the one after it) takes over.
  done() {
    if (!this.shown) return;
    this.shown = false;
    this.local.video?.detach($('wait-preview'));
    $('wait-preview').srcObject = null;
  }
}
