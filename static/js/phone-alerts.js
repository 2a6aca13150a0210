// Incoming-call alerts outside the page: the tab title ("Alice is calling…"), and a system
// notification once the user allowed them. Permission is asked only from a
// button (`ask()`), never on load. Names go in as plain text.

export class CallAlerts {
  /** @param {{t: (key: string, vars?: object) => string}} options */
  constructor({ t }) {
    this.t = t;
    this.baseTitle = document.title;
    this.notification = null;
    this._active = false;
  }

  /** Whether notifications exist here and what the user said: unsupported | default | granted | denied. */
  get permission() {
    return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  }

  /** Ask for permission (call from a click). Resolves with the new permission. */
  async ask() {
    if (this.permission !== 'default') return this.permission;
    try { return await Notification.requestPermission(); } catch { return this.permission; }
  }

  /** The page's normal title (after a language change). */
  setBaseTitle(title) {
    this.baseTitle = title;
    if (!this._active) document.title = title;
  }

  /** Someone is calling: title alternates, and a notification if allowed. */
  incoming(name) {
    this.clear();
    const text = this.t('alert.incoming', { name });
    this._active = true;
    document.title = `${text} · ${this.baseTitle}`;
    if (this.permission === 'granted') {
      try {
        this.notification = new Notification(text, { body: this.t('alert.body'), tag: 'phone-incoming', requireInteraction: true });
        this.notification.onclick = () => { window.focus(); this.notification?.close(); };
      } catch { this.notification = null; } // some platforms only allow service-worker notifications
    }
  }

  /** The call was answered, declined or went away. */
  clear() {
    this._active = false;
    document.title = this.baseTitle;
    try { this.notification?.close(); } catch { /* already gone */ }
    this.notification = null;
  }
}
