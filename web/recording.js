// The recording notice: while the room records any track (the SDK's
// room.isRecording, recordingStarted/recordingStopped; whoever started it:
// a host, or the clinic's back-end through REST recording rules) everyone
// sees a "Recording" mark above the call, and when recording starts (or
// on joining a visit that records) a dialog says so and asks to
// acknowledge it, with a way to leave instead (not the host who started
// it: they see the mark and hear it announced).  When it stops, the mark
// and any open dialog go away.  docs/web.md explains the choice.
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

export class RecordingNotice {
  constructor(room, call) {
    this.room = room;
    this.call = call;
    this.dialog = $('rec-consent');
    this.onStarted = () => this.started();
    this.onStopped = () => this.stopped();
    this.onChanged = () => {
      this.refreshWords();
      // The host who started it is not asked to consent to their own act.
      if (this.dialog.open && this.bySelf()) this.acknowledge();
    };
    room.on('recordingStarted', this.onStarted);
    room.on('recordingStopped', this.onStopped);
    room.on('hqRecordingChanged', this.onChanged);
    $('rec-ack').onclick = () => this.acknowledge();
    $('rec-leave').onclick = () => {
      this.dialog.close();
      room.disconnect();
    };
    // Escape does not dismiss it: the notice wants an answer.
    this.dialog.oncancel = (e) => e.preventDefault();
    this.refreshWords();
    if (room.isRecording) this.started();
    else this.show(false);
  }

  show(on) {
    $('rec-indicator').hidden = !on;
    document.body.classList.toggle('recording', on);
  }

  bySelf() {
    return Boolean(this.room.hqRecording?.by) && this.room.hqRecording.by.sid === this.room.localParticipant.sid;
  }

  started() {
    this.show(true);
    this.refreshWords();
    if (this.bySelf()) {
      this.call.announce(t('rec.startedBySelf'));
      return;
    }
    if (!this.dialog.open) {
      this.returnFocus = document.activeElement;
      this.dialog.showModal();
      $('rec-ack').focus();
    }
  }

  stopped() {
    this.show(false);
    if (this.dialog.open) this.dialog.close();
    this.call.announce(t('rec.stopped'));
  }

  acknowledge() {
    this.dialog.close();
    if (this.returnFocus?.isConnected) this.returnFocus.focus();
  }

  // Who started it, when the server says (a host by name; rules: the clinic).
  refreshWords() {
    const rec = this.room.hqRecording;
    const text = rec?.by?.name ? t('rec.byHost', { name: rec.by.name }) : t('rec.byClinic');
    $('rec-text').textContent = text;
    $('rec-indicator').setAttribute('aria-label', t('rec.indicatorLabel'));
    $('rec-indicator').title = t('rec.indicatorLabel');
  }

  close() {
    this.room.off('recordingStarted', this.onStarted);
    this.room.off('recordingStopped', this.onStopped);
    this.room.off('hqRecordingChanged', this.onChanged);
    if (this.dialog.open) this.dialog.close();
    this.show(false);
  }
}
