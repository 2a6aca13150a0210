// The video tiles: one per participant, names set with textContent only. The
// grid's data-count drives the CSS layout (1-6 people, phone portrait too).
import { t } from './i18n.js';
import { say } from './lang-switch.js';

export class Tile {
  constructor({ id, name, local = false }) {
    this.id = id;
    this.local = local;
    this.stream = null;
    this.el = document.createElement('figure');
    this.el.className = 'tile' + (local ? ' local' : '');
    this.el.dataset.peer = id;

    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = local; // never play our own microphone back

    this.placeholder = document.createElement('div');
    this.placeholder.className = 'placeholder';
    this.avatar = document.createElement('div');
    this.avatar.className = 'avatar';
    this.avatar.setAttribute('aria-hidden', 'true');
    this.placeholder.append(this.avatar);

    this.label = document.createElement('figcaption');
    this.label.className = 'label';
    this.micOff = document.createElement('img');
    this.micOff.src = '/static/icons/mic-off.svg';
    this.micOff.className = 'mic-off';
    this.micOff.hidden = true;
    this.nameEl = document.createElement('span');
    this.nameEl.className = 'name';
    this.label.append(this.micOff, this.nameEl);

    this.badge = document.createElement('span');
    this.badge.className = 'state';
    this.badge.hidden = true;

    this.el.append(this.video, this.placeholder, this.label, this.badge);
    this.videoOn = false;
    this.setName(name);
    this.setVideoVisible(false);
    this.setMicOn(true);
  }

  setName(name) {
    this.name = name;
    if (this.local) say(this.nameEl, 'room.you', { name });
    else this.nameEl.textContent = name;
    this.avatar.textContent = Array.from(name.trim())[0]?.toUpperCase() || '?';
    this.el.setAttribute('aria-label', name);
  }

  setStream(stream) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    this.stream = stream;
    this.video.play().catch(() => { /* autoplay may wait for a gesture */ });
  }

  /** Show the video, or the placeholder with the initial (camera off, not yet receiving). */
  setVideoVisible(on) {
    this.videoOn = on;
    this.placeholder.hidden = on;
    this.video.classList.toggle('hidden-video', !on);
    this.el.classList.toggle('camera-off', !on);
    this.placeholder.setAttribute('aria-label', t('room.camera_off'));
  }

  setMicOn(on) {
    this.micOff.hidden = on;
    this.el.classList.toggle('mic-muted', !on);
    this.micOff.alt = on ? '' : t('room.mic_off');
  }

  setScreen(on) {
    this.el.classList.toggle('screen', on);
  }

  /** A short status in the corner (connecting…), or none. */
  setBadge(key) {
    this.badge.hidden = !key;
    say(this.badge, key || null);
  }

  setSpeaking(on) {
    this.el.classList.toggle('speaking', on);
  }

  remove() {
    this.video.srcObject = null;
    this.el.remove();
  }
}

export class TileGrid {
  constructor(container) {
    this.container = container;
    this.tiles = new Map();
  }

  add(tile) {
    this.tiles.set(tile.id, tile);
    this.container.append(tile.el);
    this.layout();
    return tile;
  }

  get(id) {
    return this.tiles.get(id);
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.tiles.delete(id);
    tile.remove();
    this.layout();
  }

  layout() {
    this.container.dataset.count = String(Math.min(this.tiles.size, 6));
  }

  get size() {
    return this.tiles.size;
  }
}
