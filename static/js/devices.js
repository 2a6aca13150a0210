// Device check page: camera preview, microphone level meter, device lists, a test tone.
import { mediaError, say, startPage } from './lang-switch.js';
import { audioContext } from './audio-level.js';
import { MediaPreview, fillDeviceSelect } from './media-preview.js';
import './strings/devices.js';

class DeviceCheck {
  constructor() {
    this.video = document.getElementById('preview');
    this.speakerSelect = document.getElementById('speaker-select');
    this.status = document.getElementById('status');
    this.cameraStatus = document.getElementById('camera-status');
    this.micStatus = document.getElementById('mic-status');
    this.speakerStatus = document.getElementById('speaker-status');
    this.preview = new MediaPreview({
      video: this.video,
      meter: document.getElementById('mic-level'),
      cameraSelect: document.getElementById('camera-select'),
      micSelect: document.getElementById('mic-select'),
    });
    this.toneCount = 0;

    document.getElementById('start').addEventListener('click', () => this.start());
    document.getElementById('tone').addEventListener('click', () => this.playTone());
    this.preview.cameraSelect.addEventListener('change', () => this.openCamera(this.preview.cameraSelect.value));
    this.preview.micSelect.addEventListener('change', () => this.openMic(this.preview.micSelect.value));
    this.speakerSelect.addEventListener('change', () => this.applySpeaker());
    navigator.mediaDevices?.addEventListener('devicechange', () => this.listDevices());
    document.addEventListener('languagechange', () => this.listDevices());
  }

  /** Highest microphone level seen (tests read it). */
  get peakLevel() { return this.preview.peakLevel; }

  /** The open microphone's track (tests read it). */
  get micTrack() { return this.preview.micTrack; }

  async start() {
    if (!navigator.mediaDevices) {
      this.showStatus('error', ...mediaError(null));
      return;
    }
    this.showStatus('', 'devices.asking');
    audioContext(); // created inside the click so it may play sound
    const [cameraOk, micOk] = [await this.openCamera(), await this.openMic()];
    await this.listDevices();
    if (cameraOk && micOk) this.showStatus('ok', 'devices.ready');
    else this.showStatus('error', 'devices.partial');
  }

  showStatus(kind, key, vars) {
    this.status.className = 'notice' + (kind ? ' ' + kind : '');
    say(this.status, key, vars);
  }

  async openCamera(deviceId) {
    let track;
    try {
      track = await this.preview.openCamera(deviceId);
    } catch (error) {
      if (error.name === 'NotFoundError') say(this.cameraStatus, 'devices.no_camera');
      else say(this.cameraStatus, ...mediaError(error));
      return false;
    }
    const settings = track.getSettings();
    say(this.cameraStatus, 'devices.camera_ok', { width: settings.width || '?', height: settings.height || '?' });
    return true;
  }

  async openMic(deviceId) {
    try {
      await this.preview.openMic(deviceId);
    } catch (error) {
      if (error.name === 'NotFoundError') say(this.micStatus, 'devices.no_mic');
      else say(this.micStatus, ...mediaError(error));
      return false;
    }
    say(this.micStatus, 'devices.mic_ok');
    return true;
  }

  async listDevices() {
    const devices = await this.preview.listDevices();
    fillDeviceSelect(this.speakerSelect, devices, 'audiooutput', this.speakerSelect.value);
    const canChooseOutput = typeof HTMLMediaElement.prototype.setSinkId === 'function'
      || typeof AudioContext.prototype.setSinkId === 'function';
    if (!canChooseOutput) {
      this.speakerSelect.disabled = true;
      say(this.speakerStatus, 'devices.no_speaker_choice');
    }
  }

  async applySpeaker() {
    const context = audioContext();
    const id = this.speakerSelect.value;
    if (id && typeof context.setSinkId === 'function') {
      try { await context.setSinkId(id === 'default' ? '' : id); } catch (error) { say(this.speakerStatus, ...mediaError(error)); }
    }
  }

  async playTone() {
    const context = audioContext();
    await this.applySpeaker();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 440;
    gain.gain.setValueAtTime(0, context.currentTime);
    gain.gain.linearRampToValueAtTime(0.2, context.currentTime + 0.05);
    gain.gain.setValueAtTime(0.2, context.currentTime + 0.9);
    gain.gain.linearRampToValueAtTime(0, context.currentTime + 1);
    oscillator.connect(gain).connect(context.destination);
    oscillator.addEventListener('ended', () => {
      this.toneCount += 1;
      say(this.speakerStatus, 'devices.tone_done');
    });
    oscillator.start();
    oscillator.stop(context.currentTime + 1);
    say(this.speakerStatus, 'devices.tone_playing');
  }
}

startPage();
window.devices = new DeviceCheck();
