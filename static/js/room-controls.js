// The control bar (mic, camera, screen, devices, chat, leave) and the device
// menu. Reflects LocalMedia's state; calls back into the page for actions.
import { t } from './i18n.js';
import { fillDeviceSelect } from './media-preview.js';

const $ = (id) => document.getElementById(id);

export class RoomControls {
  constructor({ media, onError, onLeave }) {
    this.media = media;
    this.onError = onError;
    this.mic = $('ctl-mic');
    this.camera = $('ctl-camera');
    this.screen = $('ctl-screen');
    this.settings = $('ctl-settings');
    this.chat = $('ctl-chat');
    this.leave = $('ctl-leave');
    this.panel = $('settings');
    this.cameraSelect = $('camera-device');
    this.micSelect = $('mic-device');

    this.mic.addEventListener('click', () => this.act(() => media.setMic(!media.state().mic), 'room.device_failed'));
    this.camera.addEventListener('click', () => this.act(() => media.setCamera(!media.state().camera), 'room.device_failed'));
    this.screen.addEventListener('click', () => this.act(
      () => (media.screen ? media.stopScreen() : media.startScreen()), 'room.screen_failed'));
    this.settings.addEventListener('click', () => this.toggleSettings());
    this.chat.addEventListener('click', () => this.toggleChat());
    this.leave.addEventListener('click', () => onLeave());
    this.cameraSelect.addEventListener('change', () => this.act(() => media.useDevice('video', this.cameraSelect.value), 'room.device_failed'));
    this.micSelect.addEventListener('change', () => this.act(() => media.useDevice('audio', this.micSelect.value), 'room.device_failed'));
    media.addEventListener('state', () => this.refresh());
    document.addEventListener('languagechange', () => this.refresh());
    navigator.mediaDevices?.addEventListener('devicechange', () => this.listDevices());
    this.refresh();
  }

  async act(action, errorKey) {
    try {
      await action();
    } catch (error) {
      this.onError(errorKey, error);
      this.refresh();
    }
  }

  refresh() {
    const { camera, mic, screen } = this.media.state();
    this.set(this.mic, mic, mic ? 'mic.svg' : 'mic-off.svg', mic ? 'room.ctl.mic_on' : 'room.ctl.mic_off');
    this.set(this.camera, camera, camera ? 'camera.svg' : 'camera-off.svg', camera ? 'room.ctl.camera_on' : 'room.ctl.camera_off');
    this.set(this.screen, screen, 'screen.svg', screen ? 'room.ctl.screen_stop' : 'room.ctl.screen');
    this.screen.classList.toggle('active', screen);
    this.screen.hidden = !navigator.mediaDevices?.getDisplayMedia;
    this.label(this.settings, 'room.ctl.settings');
    this.label(this.chat, 'room.ctl.chat');
    this.leave.setAttribute('title', t('room.ctl.leave'));
  }

  set(button, pressed, icon, key) {
    button.setAttribute('aria-pressed', String(pressed));
    button.querySelector('img').src = `/static/icons/${icon}`;
    this.label(button, key);
  }

  label(button, key) {
    button.setAttribute('aria-label', t(key));
    button.setAttribute('title', t(key));
  }

  toggleSettings() {
    this.panel.hidden = !this.panel.hidden;
    this.settings.setAttribute('aria-pressed', String(!this.panel.hidden));
    if (!this.panel.hidden) this.listDevices();
  }

  toggleChat() {
    this.setChatVisible($('chat-panel').hidden);
  }

  setChatVisible(visible) {
    $('chat-panel').hidden = !visible;
    this.chat.setAttribute('aria-pressed', String(visible));
    if (visible) this.chat.classList.remove('unread');
  }

  /** A chat line arrived: flag the chat button while the panel is folded away. */
  chatArrived() {
    if ($('chat-panel').hidden) this.chat.classList.add('unread');
  }

  async listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    fillDeviceSelect(this.cameraSelect, devices, 'videoinput', this.media.cameraId);
    fillDeviceSelect(this.micSelect, devices, 'audioinput', this.media.micId);
  }
}
