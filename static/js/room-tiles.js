// The video tiles: one per participant, names set with textContent only. The
// grid's data-count drives the CSS layout (1-6 people, phone portrait too).
// The stage: one tile large and the others in a strip below, when someone is
// pinned, shares a screen, or (three people or more) is the active speaker.
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
    this.placeholder.setAttribute('role', 'img'); // it carries an aria-label ("Camera off"): a plain div may not
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

    this.pin = document.createElement('button');
    this.pin.type = 'button';
    this.pin.className = 'pin';
    this.pin.setAttribute('aria-pressed', 'false');
    const pinIcon = document.createElement('img');
    pinIcon.src = '/static/icons/pin.svg';
    pinIcon.alt = '';
    this.pin.append(pinIcon);

    this.el.append(this.video, this.placeholder, this.label, this.badge, this.pin);
    this.videoOn = false;
    this.setName(name);
    this.setVideoVisible(false);
    this.setMicOn(true);
  }

  setName(name) {
    this.name = name;
    if (this.local) say(this.nameEl, 'room.you', { name });
    else this.nameEl.textContent = name;
    this.nameEl.title = name; // clamped to two lines: the whole name on hover
    this.setPinned(this.pinned || false);
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
    if (this.el.classList.contains('screen') === on) return;
    this.el.classList.toggle('screen', on);
    this.el.dispatchEvent(new CustomEvent('tilechange', { bubbles: true }));
  }

  /** A short status in the corner (connecting…), or none. */
  setBadge(key) {
    this.badge.hidden = !key;
    say(this.badge, key || null);
  }

  setPinned(on) {
    this.pinned = on;
    this.pin.setAttribute('aria-pressed', String(on));
    this.pin.setAttribute('aria-label', t(on ? 'room.unpin' : 'room.pin', { name: this.name }));
    this.pin.title = this.pin.getAttribute('aria-label');
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
    this.pinned = null; // tile id the user pinned
    container.addEventListener('tilechange', () => this.layout());
    this.speaker = null; // the remote tile that spoke last
    document.addEventListener('languagechange', () => { for (const tile of this.tiles.values()) tile.setPinned(tile.pinned); });
  }

  add(tile) {
    this.tiles.set(tile.id, tile);
    this.container.append(tile.el);
    tile.pin.addEventListener('click', () => this.pin(this.pinned === tile.id ? null : tile.id));
    this.layout();
    return tile;
  }

  /** Pin a tile to the stage (null unpins). */
  pin(id) {
    this.pinned = id && this.tiles.has(id) ? id : null;
    for (const tile of this.tiles.values()) tile.setPinned(tile.id === this.pinned);
    this.layout();
  }

  /** A remote member started speaking: the stage follows them (from three people up). */
  spoke(id) {
    if (this.speaker === id || !this.tiles.has(id) || this.tiles.get(id).local) return;
    this.speaker = id;
    this.layout();
  }

  /** Which tile has the stage: pinned, else a shared screen, else the active speaker; or none. */
  featured() {
    if (this.pinned && this.tiles.has(this.pinned)) return this.pinned;
    const tiles = [...this.tiles.values()];
    const screen = tiles.find((tile) => !tile.local && tile.el.classList.contains('screen'));
    if (screen) return screen.id;
    if (tiles.length >= 3 && this.speaker && this.tiles.has(this.speaker)) return this.speaker;
    return null;
  }

  get(id) {
    return this.tiles.get(id);
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.tiles.delete(id);
    if (this.pinned === id) this.pinned = null;
    if (this.speaker === id) this.speaker = null;
    tile.remove();
    this.layout();
  }

  layout() {
    this.container.dataset.count = String(Math.min(this.tiles.size, 6));
    const featured = this.featured();
    this.container.classList.toggle('staged', Boolean(featured));
    this.container.dataset.featured = featured || '';
    for (const tile of this.tiles.values()) tile.el.classList.toggle('featured', tile.id === featured);
  }

  get size() {
    return this.tiles.size;
  }
}
