// Device check page: camera preview, microphone level meter, device lists, a test tone.
import { t } from './i18n.js';
import { mediaError, say, startPage } from './lang-switch.js';
import { AudioLevel, audioContext } from './audio-level.js';
import './strings/devices.js';

class DeviceCheck {
  constructor() {
    this.video = document.getElementById('preview');
    this.meter = document.getElementById('mic-level');
    this.cameraSelect = document.getElementById('camera-select');
    this.micSelect = document.getElementById('mic-select');
    this.speakerSelect = document.getElementById('speaker-select');
    this.status = document.getElementById('status');
    this.cameraStatus = document.getElementById('camera-status');
    this.micStatus = document.getElementById('mic-status');
    this.speakerStatus = document.getElementById('speaker-status');
    this.camera = null; // MediaStream
    this.mic = null; // MediaStream
    this.levelMeter = null;
    this.peakLevel = 0; // highest level seen (for tests and a quick "it moved" check)
    this.toneCount = 0;

    document.getElementById('start').addEventListener('click', () => this.start());
    document.getElementById('tone').addEventListener('click', () => this.playTone());
    this.cameraSelect.addEventListener('change', () => this.openCamera(this.cameraSelect.value));
    this.micSelect.addEventListener('change', () => this.openMic(this.micSelect.value));
    this.speakerSelect.addEventListener('change', () => this.applySpeaker());
    navigator.mediaDevices?.addEventListener('devicechange', () => this.listDevices());
    document.addEventListener('languagechange', () => this.listDevices());
    requestAnimationFrame(() => this.tick());
  }

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
    this.stop(this.camera);
    this.camera = null;
    const video = deviceId ? { deviceId: { exact: deviceId } } : true;
    try {
      this.camera = await navigator.mediaDevices.getUserMedia({ video });
    } catch (error) {
      this.video.srcObject = null;
      if (error.name === 'NotFoundError') say(this.cameraStatus, 'devices.no_camera');
      else say(this.cameraStatus, ...mediaError(error));
      return false;
    }
    this.video.srcObject = this.camera;
    const settings = this.camera.getVideoTracks()[0].getSettings();
    say(this.cameraStatus, 'devices.camera_ok', { width: settings.width || '?', height: settings.height || '?' });
    return true;
  }

  async openMic(deviceId) {
    this.stop(this.mic);
    this.levelMeter?.close();
    this.levelMeter = null;
    this.mic = null;
    const audio = deviceId ? { deviceId: { exact: deviceId } } : true;
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio });
    } catch (error) {
      if (error.name === 'NotFoundError') say(this.micStatus, 'devices.no_mic');
      else say(this.micStatus, ...mediaError(error));
      return false;
    }
    this.levelMeter = new AudioLevel(this.mic);
    say(this.micStatus, 'devices.mic_ok');
    return true;
  }

  stop(stream) {
    for (const track of stream?.getTracks() || []) track.stop();
  }

  tick() {
    const level = this.levelMeter ? this.levelMeter.level() : 0;
    this.meter.value = level;
    this.peakLevel = Math.max(this.peakLevel, level);
    requestAnimationFrame(() => this.tick());
  }

  async listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const current = {
      videoinput: this.camera?.getVideoTracks()[0]?.getSettings().deviceId,
      audioinput: this.mic?.getAudioTracks()[0]?.getSettings().deviceId,
      audiooutput: this.speakerSelect.value,
    };
    const selects = { videoinput: this.cameraSelect, audioinput: this.micSelect, audiooutput: this.speakerSelect };
    for (const [kind, select] of Object.entries(selects)) {
      const list = devices.filter((d) => d.kind === kind && d.deviceId);
      select.replaceChildren();
      list.forEach((device, i) => {
        const option = document.createElement('option');
        option.value = device.deviceId;
        option.textContent = device.label || t('devices.unnamed', { kind: t(`devices.kind.${kind}`), n: i + 1 });
        if (device.deviceId === 'default' && !device.label) option.textContent = t('devices.default_device');
        option.selected = device.deviceId === current[kind];
        select.append(option);
      });
      select.disabled = list.length === 0;
    }
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
