// MediaPreview: a camera preview, a microphone level meter and the device lists,
// shared by /devices and the room's join screen (one copy of this logic).
//
//   const preview = new MediaPreview({ video, meter, cameraSelect, micSelect });
//   await preview.openCamera();      // or openCamera(deviceId); throws the getUserMedia error
//   await preview.openMic();
//   preview.peakLevel                // highest level seen since the mic opened (0..1)
//   const { camera, mic } = preview.handOver();   // the live tracks, for a call: no second prompt
//
// The tracks belong to the preview until handOver(); stopCamera()/stopMic() release them.
import { t } from './i18n.js';
import { AudioLevel, audioContext } from './audio-level.js';

/** Fill a <select> with the devices of `kind` (videoinput, audioinput, audiooutput); `current` is selected. */
export function fillDeviceSelect(select, devices, kind, current) {
  const list = devices.filter((d) => d.kind === kind && d.deviceId);
  select.replaceChildren();
  list.forEach((device, i) => {
    const option = document.createElement('option');
    option.value = device.deviceId;
    option.textContent = device.label || t('devices.unnamed', { kind: t(`devices.kind.${kind}`), n: i + 1 });
    if (device.deviceId === 'default' && !device.label) option.textContent = t('devices.default_device');
    option.selected = device.deviceId === current;
    select.append(option);
  });
  select.disabled = list.length === 0;
  return list.length;
}

/** The device id a live track was opened on (null without a track). */
export function deviceIdOf(track) {
  return track?.getSettings().deviceId || null;
}

export class MediaPreview {
  /**
   * @param {{video: HTMLVideoElement, meter: HTMLMeterElement, cameraSelect?: HTMLSelectElement,
   *   micSelect?: HTMLSelectElement, videoConstraints?: object|boolean, audioConstraints?: object|boolean}} options
   */
  constructor({ video, meter, cameraSelect = null, micSelect = null, videoConstraints = true, audioConstraints = true }) {
    this.video = video;
    this.meter = meter;
    this.cameraSelect = cameraSelect;
    this.micSelect = micSelect;
    this.videoConstraints = videoConstraints;
    this.audioConstraints = audioConstraints;
    this.cameraTrack = null;
    this.micTrack = null;
    this.levelMeter = null;
    this.peakLevel = 0; // highest level seen (tests and a quick "it moved" check)
    this._running = true;
    requestAnimationFrame(() => this._tick());
  }

  /** Open (or switch to) a camera; on failure the preview is empty and the error is thrown. */
  async openCamera(deviceId = null) {
    this.stopCamera();
    const stream = await navigator.mediaDevices.getUserMedia({ video: this._constraints(this.videoConstraints, deviceId) });
    this.cameraTrack = stream.getVideoTracks()[0];
    this.video.srcObject = stream;
    return this.cameraTrack;
  }

  /** Open (or switch to) a microphone and drive the meter from it. */
  async openMic(deviceId = null) {
    this.stopMic();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: this._constraints(this.audioConstraints, deviceId) });
    this.micTrack = stream.getAudioTracks()[0];
    this.levelMeter = new AudioLevel(stream);
    return this.micTrack;
  }

  stopCamera() {
    this.cameraTrack?.stop();
    this.cameraTrack = null;
    this.video.srcObject = null;
  }

  stopMic() {
    this.levelMeter?.close();
    this.levelMeter = null;
    this.micTrack?.stop();
    this.micTrack = null;
    this.meter.value = 0;
  }

  /** Refill the camera and microphone lists (labels appear once a device is open). */
  async listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return [];
    const devices = await navigator.mediaDevices.enumerateDevices();
    if (this.cameraSelect) fillDeviceSelect(this.cameraSelect, devices, 'videoinput', deviceIdOf(this.cameraTrack));
    if (this.micSelect) fillDeviceSelect(this.micSelect, devices, 'audioinput', deviceIdOf(this.micTrack));
    return devices;
  }

  /** Give the open tracks away (to a call) without stopping them; the preview goes quiet. */
  handOver() {
    const tracks = { camera: this.cameraTrack, mic: this.micTrack };
    this.levelMeter?.close();
    this.levelMeter = null;
    this.cameraTrack = this.micTrack = null;
    this.video.srcObject = null;
    this._running = false;
    return tracks;
  }

  /** Drive the meter again after handOver() (the tracks given away came back stopped). */
  resume() {
    if (this._running) return;
    this._running = true;
    requestAnimationFrame(() => this._tick());
  }

  /** Stop everything (leaving the page section). */
  close() {
    this.stopCamera();
    this.stopMic();
    this._running = false;
  }

  _constraints(base, deviceId) {
    if (!deviceId) return base;
    return { ...(typeof base === 'object' ? base : {}), deviceId: { exact: deviceId } };
  }

  _tick() {
    if (!this._running) return;
    const level = this.levelMeter ? this.levelMeter.level() : 0;
    this.meter.value = level;
    this.peakLevel = Math.max(this.peakLevel, level);
    requestAnimationFrame(() => this._tick());
  }
}

/** Resume the page's AudioContext at the first click or key press (browsers start it suspended). */
export function resumeAudioOnGesture() {
  const resume = () => {
    audioContext();
    removeEventListener('pointerdown', resume, true);
    removeEventListener('keydown', resume, true);
  };
  addEventListener('pointerdown', resume, true);
  addEventListener('keydown', resume, true);
}
