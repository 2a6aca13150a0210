// The room's join screen media: camera preview, microphone meter and device
// choice (the shared MediaPreview, as on /devices), driven by the
// "Camera on" / "Microphone on" boxes. join() hands the open tracks to the
// call, so joining asks for no device a second time.
import { mediaError, say } from './lang-switch.js';
import { MediaPreview, resumeAudioOnGesture } from './media-preview.js';

const $ = (id) => document.getElementById(id);

export class JoinPreview {
  /** @param {{video: object, audio: object}} constraints what LocalMedia would ask for */
  constructor(constraints) {
    this.preview = new MediaPreview({
      video: $('join-preview'),
      meter: $('join-level'),
      cameraSelect: $('join-camera-device'),
      micSelect: $('join-mic-device'),
      videoConstraints: constraints.video,
      audioConstraints: constraints.audio,
    });
    this.cameraBox = $('join-camera');
    this.micBox = $('join-mic');
    this.status = $('join-media-status');
    this.errors = { video: null, audio: null }; // the last failure per kind
    this._queue = Promise.resolve(); // one device change at a time, in click order
    this.cameraBox.addEventListener('change', () => this.update());
    this.micBox.addEventListener('change', () => this.update());
    this.preview.cameraSelect.addEventListener('change', () => this.update({ camera: this.preview.cameraSelect.value }));
    this.preview.micSelect.addEventListener('change', () => this.update({ mic: this.preview.micSelect.value }));
    resumeAudioOnGesture();
  }

  /** Bring the open devices in line with the boxes (and a newly chosen device). */
  update(chosen = {}) {
    this._queue = this._queue.then(() => this._apply(chosen)).catch(() => {});
    return this._queue;
  }

  async _apply({ camera = null, mic = null }) {
    if (!navigator.mediaDevices?.getUserMedia) { this._show(); return; }
    const p = this.preview;
    if (!p.cameraTrack && this.cameraBox.checked) say(this.status, 'room.preview_starting');
    await this._one('video', this.cameraBox.checked, p.cameraTrack, camera, (id) => p.openCamera(id), () => p.stopCamera());
    await this._one('audio', this.micBox.checked, p.micTrack, mic, (id) => p.openMic(id), () => p.stopMic());
    await p.listDevices();
    this._show();
  }

  async _one(kind, wanted, track, chosen, open, stop) {
    if (!wanted) { stop(); this.errors[kind] = null; return; }
    if (track && track.readyState === 'live' && !chosen) return;
    try {
      await open(chosen);
      this.errors[kind] = null;
    } catch (error) {
      this.errors[kind] = error;
    }
  }

  _show() {
    const p = this.preview;
    $('join-preview-off').hidden = Boolean(p.cameraTrack);
    say($('join-preview-off'), 'room.camera_off');
    p.video.hidden = !p.cameraTrack;
    p.cameraSelect.disabled ||= !this.cameraBox.checked;
    p.micSelect.disabled ||= !this.micBox.checked;
    const error = this.errors.video || this.errors.audio;
    if (error || !navigator.mediaDevices?.getUserMedia) say(this.status, ...mediaError(error));
    else say(this.status, p.cameraTrack || p.micTrack ? 'room.preview_ready' : null);
  }

  /** Wait for pending device changes, then give the tracks (and what failed) to the call. */
  async handOver() {
    await this._queue;
    const failures = [this.errors.video, this.errors.audio].filter(Boolean);
    return { ...this.preview.handOver(), failures };
  }

  /** Joining failed and the call stopped the tracks: open the preview again. */
  restart() {
    this.preview.resume();
    return this.update();
  }

  close() {
    this.preview.close();
  }
}
