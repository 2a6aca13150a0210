// Landing page: language switch and the create/join room form.
import { say, startPage } from './lang-switch.js';
import { roomName } from './room-name.js';
import './strings/landing.js';

export const NAME_KEY = 'signaling.name';

class RoomForm {
  constructor(form) {
    this.form = form;
    this.room = form.querySelector('#room-name');
    this.name = form.querySelector('#display-name');
    this.error = document.getElementById('room-error');
    this.room.value = RoomForm.randomRoom();
    try { this.name.value = localStorage.getItem(NAME_KEY) || ''; } catch { /* storage blocked */ }
    form.addEventListener('submit', (event) => this.submit(event));
  }

  static randomRoom() {
    const bytes = crypto.getRandomValues(new Uint8Array(4));
    return 'room-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  submit(event) {
    event.preventDefault();
    const room = roomName(this.room.value);
    if (!room) {
      say(this.error, 'landing.room.invalid');
      this.error.hidden = false;
      this.room.focus();
      return;
    }
    const name = this.name.value.trim();
    try { if (name) localStorage.setItem(NAME_KEY, name); } catch { /* storage blocked */ }
    location.assign('/room/' + encodeURIComponent(room));
  }
}

startPage();
new RoomForm(document.getElementById('room-form'));
