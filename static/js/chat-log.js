// A chat transcript view: names, local times and text, rendered with textContent only.
import { language } from './i18n.js';
import { say } from './lang-switch.js';

export class ChatLog {
  constructor(list) {
    this.list = list;
  }

  /** Append a message; `mine` marks the local user's own lines. */
  add({ name, ts, text, mine = false }) {
    const item = document.createElement('li');
    if (mine) item.classList.add('mine');
    const when = document.createElement('time');
    when.className = 'when';
    const date = new Date(Number(ts) || Date.now());
    when.dateTime = date.toISOString();
    when.textContent = date.toLocaleTimeString(language(), { hour: '2-digit', minute: '2-digit' });
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = name;
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(when, who, body);
    this.append(item);
    return item;
  }

  /** A system line (someone joined / left), translated and kept in the current language. */
  system(key, vars) {
    const item = document.createElement('li');
    item.className = 'system';
    say(item, key, vars);
    this.append(item);
    return item;
  }

  append(item) {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.append(item);
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}
