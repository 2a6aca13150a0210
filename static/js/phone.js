// The phone app's UI (static/phone.html): screens, contact list, call screen.
// Call flow lives in phone-call.js (PhoneLine), transport in signaling.js,
// media in call.js. User data (names) is only ever set with textContent.
//
// Page URL options: ?transport=longpoll|sse (read by SignalingClient),
// ?ring_timeout=<seconds> (unanswered-call timeout, default 30).
// For tests and the benchmark: window.phone = {client, line, call, tones, ui, directory, alerts}.
//
// One person per browser (phone-tab.js): a second tab says the phone is open
// elsewhere. Nothing registers on open: the remembered name is filled in and
// the user presses the button. The phone registers listed (it is in the
// directory); the directory is polled with ETags (phone-directory.js).

import { t } from './i18n.js';
import { say, startPage } from './lang-switch.js';
import { mediaBlockedByInsecurePage } from './media-errors.js';
import { CallAlerts } from './phone-alerts.js';
import { PhoneLine, RING_TIMEOUT_MS } from './phone-call.js';
import { contactItem, initial, missedItem } from './phone-contacts.js';
import { PhoneDirectory } from './phone-directory.js';
import { TabLock } from './phone-tab.js';
import { Tones } from './phone-tones.js';
import { SignalingClient } from './signaling.js';
import './strings/phone.js';

const NAME_KEY = 'signaling.name'; // shared with the other apps
const NUMBER_KEY = 'phone.number';
const MISSED_KEY = 'phone.missed';
const DND_KEY = 'phone.dnd';
const STATS_EVERY_MS = 1000;
const SEARCH_DELAY_MS = 250;

const $ = (id) => document.getElementById(id);

function storage(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch { /* storage blocked: nothing remembered */ }
  return null;
}

function clock(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

class PhoneUI {
  constructor() {
    const params = new URLSearchParams(location.search);
    const ring = Number(params.get('ring_timeout'));
    this.ringTimeout = ring > 0 ? ring * 1000 : RING_TIMEOUT_MS;
    this.client = null;
    this.line = null;
    this.tones = new Tones();
    this.contacts = [];
    this.contactsTotal = 0;
    this.missed = [];
    this.directory = null;
    this.dnd = storage(DND_KEY) === '1';
    this._tickTimer = null;
    this._statsTimer = null;
    this._searchTimer = null;
    this.lastStats = null;
    this.renaming = false;

    startPage();
    this.alerts = new CallAlerts({ t });
    this.alerts.setBaseTitle(t('phone.title'));
    this._bind();
    document.addEventListener('languagechange', () => this._relabel());
    $('name-input').value = storage(NAME_KEY) || '';
    this._relabelRegister();
    this.tab = new TabLock();
    this.tab.addEventListener('waiting', () => this._show('elsewhere'));
    this.tab.addEventListener('stolen', () => this._lostTab());
    this._takeTab();
  }

  /** Run here once no other tab has the phone; then the name step (never an automatic registration). */
  async _takeTab(steal = false) {
    await this.tab.acquire({ steal });
    $('name-input').value = storage(NAME_KEY) || $('name-input').value; // the other tab may have renamed
    this._show('register');
    $('name-input').focus();
  }

  /** Another tab pressed "use here": step aside (sign out) and say so. */
  async _lostTab() {
    await this.signOut({ quiet: true });
    this._show('elsewhere');
    this._takeTab();
  }

  // ---- wiring --------------------------------------------------------------
  _bind() {
    $('register-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.tones.unlock();
      const name = $('name-input').value.trim();
      if (!name) { $('name-input').focus(); return; }
      this.register(name);
    });
    $('use-here-button').addEventListener('click', () => this._takeTab(true));
    $('rename-button').addEventListener('click', () => this._startRename());
    $('rename-cancel').addEventListener('click', () => { this.renaming = false; this._show('home'); $('rename-button').focus(); });
    $('signout-button').addEventListener('click', () => this.signOut());
    $('dnd-button').addEventListener('click', () => this.setDnd(!this.dnd));
    $('notify-button').addEventListener('click', async () => {
      await this.alerts.ask();
      this._renderMe();
    });
    $('search').addEventListener('input', () => {
      clearTimeout(this._searchTimer);
      this._searchTimer = setTimeout(() => this.directory?.search($('search').value), SEARCH_DELAY_MS);
    });
    $('contacts-more').addEventListener('click', () => this.directory?.more());
    $('contacts').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-peer-id]');
      if (button) this.dial(button.dataset.peerId, button.dataset.name);
    });
    $('missed').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-peer-id]');
      if (button) this.dial(button.dataset.peerId, button.dataset.name);
    });
    $('missed-clear').addEventListener('click', () => {
      this.missed = [];
      this._saveMissed();
      this._renderMissed();
      $('search').focus();
    });
    $('accept-button').addEventListener('click', () => { this.tones.unlock(); this.line?.accept(); });
    $('decline-button').addEventListener('click', () => this.line?.decline());
    $('hangup-button').addEventListener('click', () => this.line?.hangup());
    $('mute-button').addEventListener('click', () => {
      if (!this.line) return;
      this.line.setMuted(!this.line.muted);
      this._renderControls();
    });
    $('video-button').addEventListener('click', async () => {
      if (!this.line) return;
      $('video-button').disabled = true;
      try { await this.line.setVideo(!this.line.videoOn); } finally { $('video-button').disabled = false; }
      this._renderControls();
    });
    $('volume').addEventListener('input', () => { $('remote-audio').volume = Number($('volume').value); });
    $('notice-close').addEventListener('click', () => this._notice(null));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.line && this.line.state !== 'idle') {
        if (this.line.state === 'incoming') this.line.decline();
      }
    });
    window.addEventListener('pagehide', () => this._leave());
    // Back from the back/forward cache: the session was ended on pagehide, start afresh.
    window.addEventListener('pageshow', (event) => { if (event.persisted) location.reload(); });
    try {
      this.missed = JSON.parse(storage(MISSED_KEY) || '[]').filter((m) => m && typeof m.name === 'string');
    } catch { this.missed = []; }
  }

  // ---- registration, name change, sign-out -------------------------------------
  async register(name) {
    const button = $('register-button');
    const renaming = this.renaming;
    button.disabled = true;
    say($('register-label'), 'register.busy');
    this._notice(null);
    // A new name is a new listing under the same number: end the old session first.
    if (this.client) await this._teardown();
    const client = new SignalingClient({ name, peerId: storage(NUMBER_KEY) || null, leaveOnUnload: false, listed: true });
    this._watchClient(client);
    try {
      await client.connect();
    } catch (error) {
      client.close();
      button.disabled = false;
      this.renaming = false;
      this._relabelRegister();
      this._notice('register.failed', {}, 'error');
      this._show('register');
      return;
    }
    button.disabled = false;
    this.renaming = false;
    this._relabelRegister();
    this.client = client;
    storage(NAME_KEY, client.name);
    storage(NUMBER_KEY, client.peerId);
    this.line = new PhoneLine({ signaling: client, ringTimeout: this.ringTimeout });
    this.line.dnd = this.dnd;
    this._watchLine(this.line);
    this.directory = new PhoneDirectory({ client });
    this.directory.addEventListener('change', (e) => {
      this.contacts = e.detail.peers;
      this.contactsTotal = e.detail.total;
      this.contactsMore = e.detail.more;
      this._renderContacts();
    });
    this.directory.start();
    this._renderMe();
    this._renderMissed();
    this._show('home');
    if (renaming) $('rename-button').focus();
    else $('search').focus();
    document.body.dataset.transport = client.transport;
  }

  _startRename() {
    if (this.line && this.line.state !== 'idle') return;
    this.renaming = true;
    $('name-input').value = this.client?.name || '';
    this._relabelRegister();
    this._show('register');
    $('name-input').focus();
    $('name-input').select();
  }

  /** Sign out: end the call and the session, give the number up, back to the name step. */
  async signOut({ quiet = false } = {}) {
    await this._teardown();
    storage(NUMBER_KEY, null);
    this.renaming = false;
    this._relabelRegister();
    this.contacts = [];
    this._show('register');
    if (!quiet) {
      this._notice('me.signed-out', {}, 'info');
      $('name-input').focus();
    }
  }

  async _teardown() {
    const { client, line, directory } = this;
    if (line?.state !== 'idle') line?.hangup(); // while this.line is still set: the UI follows the end
    line?.destroy();
    directory?.stop();
    this.client = null;
    this.line = null;
    this.directory = null;
    this.alerts.clear();
    this.tones.stop();
    document.body.dataset.server = '';
    $('server-status').hidden = true;
    if (client) await client.leave();
  }

  setDnd(on) {
    this.dnd = on;
    storage(DND_KEY, on ? '1' : null);
    if (this.line) this.line.dnd = on;
    this._renderMe();
  }

  _watchClient(client) {
    const status = $('server-status');
    client.addEventListener('reconnecting', (e) => {
      if (client !== this.client) return;
      if (e.detail.reason === 'stream-ended' && e.detail.delay === 0) return; // routine: the stream's time was up
      say(status, 'status.reconnecting');
      status.hidden = false;
      document.body.dataset.server = 'reconnecting';
    });
    client.addEventListener('open', () => {
      if (client !== this.client && this.client) return;
      status.hidden = true;
      document.body.dataset.server = 'connected';
      document.body.dataset.transport = client.transport;
    });
    client.addEventListener('transportchange', () => {
      document.body.dataset.transport = client.transport;
      if (client.transport === 'longpoll') this._notice('status.longpoll', {}, 'info');
    });
    client.addEventListener('session-ended', () => {
      if (client !== this.client) return;
      say(status, 'status.session-ended');
      status.hidden = false;
    });
    client.addEventListener('registered', (e) => {
      if (!e.detail.reregistered) return;
      storage(NUMBER_KEY, e.detail.peer_id);
      this._renderMe();
    });
    client.addEventListener('rate-limited', (e) => this._notice('error.rate-limited', { seconds: e.detail.retryAfter || 1 }, 'info'));
  }

  // ---- calls -------------------------------------------------------------------
  dial(peerId, name) {
    if (!this.line || this.line.state !== 'idle') return;
    this._returnFocus = peerId;
    this.tones.unlock();
    this._notice(null);
    this.line.dial(peerId, name).catch(() => {});
  }

  _watchLine(line) {
    line.addEventListener('statechange', (e) => {
      if (e.detail.state === 'incoming') {
        this._returnFocus = line.peer?.peer_id;
        this.alerts.incoming(line.peer?.name || '');
      } else {
        this.alerts.clear();
      }
      this._renderCall();
    });
    line.addEventListener('remotestate', () => this._renderRemoteState());

    line.addEventListener('ringing', () => { this._ringing = true; this._renderCall(); });
    line.addEventListener('connection', (e) => {
      this._connection = e.detail.state;
      this._renderCall();
    });
    line.addEventListener('remotetrack', () => {
      const stream = line.call?.remoteStream;
      if (!stream) return;
      const audio = $('remote-audio');
      if (audio.srcObject !== stream) {
        audio.srcObject = stream;
        audio.volume = Number($('volume').value);
        audio.play().catch(() => {});
      }
      if ($('remote-video').srcObject !== stream) $('remote-video').srcObject = stream;
    });
    line.addEventListener('remotevideo', (e) => { this._remoteVideo = e.detail.on; this._renderVideo(); });
    line.addEventListener('localvideo', (e) => {
      $('local-video').srcObject = e.detail.on ? e.detail.stream : null;
      this._renderVideo();
    });
    line.addEventListener('missed', (e) => {
      this.missed.unshift(e.detail.entry);
      this.missed = this.missed.slice(0, 20);
      this._saveMissed();
      this._renderMissed();
    });
    line.addEventListener('ended', (e) => {
      const { reason, peer } = e.detail;
      const name = peer?.name || '';
      const kind = ['hangup', 'remote-hangup', 'cancelled', 'declined'].includes(reason) ? 'info' : 'error';
      this._notice(`ended.${reason}`, { name }, kind, reason);
      if (reason === 'offline' && peer) this.directory?.forget(peer.peer_id);
      this._ringing = false;
      this._connection = null;
      this._remoteVideo = false;
      $('remote-audio').srcObject = null;
      $('remote-video').srcObject = null;
      $('local-video').srcObject = null;
      this._renderRemoteState();
      this._focusAfterCall(peer?.peer_id);
    });
    line.addEventListener('error', (e) => this._notice(`error.${e.detail.kind}`, {}, 'error'));
  }

  _renderCall() {
    const line = this.line;
    const state = line.state;
    document.body.dataset.state = state;
    if (state === 'idle') {
      this.tones.stop();
      clearInterval(this._tickTimer);
      clearInterval(this._statsTimer);
      this._tickTimer = null; // or the next call's timer would never start
      this._statsTimer = null;
      $('call-timer').textContent = '';
      this.lastStats = null;
      this._show('home');
      this._renderContacts();
      return;
    }
    const screen = $('screen-call');
    screen.dataset.mode = state;
    const peer = line.peer;
    $('call-peer-name').textContent = peer.name;
    say($('call-peer-number'), 'call.number', { number: peer.peer_id });
    $('call-avatar').textContent = initial(peer.name);
    const wasHidden = screen.hidden;
    this._show('call');

    const statusEl = $('call-status');
    if (state === 'calling') say(statusEl, this._ringing ? 'call.ringing' : 'call.calling');
    else if (state === 'incoming') say(statusEl, 'call.incoming');
    else if (state === 'connecting') say(statusEl, 'call.connecting');
    else if (this._connection === 'disconnected' || this._connection === 'failed') {
      // With the server unreachable too, nothing can bring the call back: say so plainly.
      say(statusEl, this.client?.connected === false ? 'call.lost' : 'call.reconnecting');
    }
    else say(statusEl, null);
    screen.dataset.connection = this._connection || '';

    if (state === 'calling') this.tones.play('ringback');
    else if (state === 'incoming') this.tones.play('ringtone');
    else this.tones.stop();

    if (state === 'in-call' && !this._tickTimer) {
      this._tick();
      this._tickTimer = setInterval(() => this._tick(), 500);
      this._statsTimer = setInterval(() => this._updateStats(), STATS_EVERY_MS);
      this._updateStats();
    }
    if (state !== 'in-call') {
      clearInterval(this._tickTimer);
      clearInterval(this._statsTimer);
      this._tickTimer = null;
      this._statsTimer = null;
      $('call-timer').textContent = '';
      $('quality').dataset.quality = 'unknown';
    }
    this._renderControls();
    this._renderVideo();
    if (wasHidden || state === 'incoming' || state === 'in-call') {
      const focus = state === 'incoming' ? 'accept-button' : 'hangup-button';
      if (document.activeElement?.id !== focus) $(focus).focus();
    }
  }

  _tick() {
    $('call-timer').textContent = clock(this.line.duration());
  }

  async _updateStats() {
    const call = this.line?.call;
    if (!call) return;
    let stats;
    try { stats = await call.stats(); } catch { return; }
    this.lastStats = stats;
    const el = $('quality');
    el.dataset.quality = stats.quality;
    const label = t(`quality.${stats.quality}`);
    const detail = stats.rtt === null ? label : t('quality.detail', {
      label, rtt: stats.rtt, loss: (stats.packetLoss * 100).toFixed(1), kbps: stats.inboundKbps ?? 0,
    });
    el.setAttribute('aria-label', detail);
    el.title = detail;
  }

  _renderControls() {
    const line = this.line;
    if (!line) return;
    const mute = $('mute-button');
    mute.setAttribute('aria-pressed', String(line.muted));
    $('mute-icon').src = line.muted ? '/static/icons/mic-off.svg' : '/static/icons/mic.svg';
    say($('mute-label'), line.muted ? 'call.unmute' : 'call.mute');
    const video = $('video-button');
    video.setAttribute('aria-pressed', String(line.videoOn));
    $('video-icon').src = line.videoOn ? '/static/icons/camera-off.svg' : '/static/icons/camera.svg';
    say($('video-label'), line.videoOn ? 'call.video-off' : 'call.video-on');
    say($('hangup-label'), line.state === 'calling' ? 'call.cancel' : 'call.hangup');
  }

  _renderVideo() {
    const on = this.line && this.line.state !== 'idle';
    const local = Boolean(on && this.line.videoOn);
    const remote = Boolean(on && this._remoteVideo);
    $('videos').hidden = !(local || remote);
    $('local-video').hidden = !local;
    $('remote-video').hidden = !remote;
    $('screen-call').classList.toggle('with-video', local || remote);
  }

  /** After a call: focus the person's contact row (or the search box), never <body>. */
  _focusAfterCall(peerId) {
    const id = peerId || this._returnFocus;
    this._returnFocus = null;
    setTimeout(() => {
      if (!this.line || this.line.state !== 'idle') return;
      const row = id && $('contacts').querySelector(`button[data-peer-id="${CSS.escape(id)}"]`);
      if (row && !row.disabled) row.focus();
      else $('search').focus();
    }, 0);
  }

  _renderRemoteState() {
    const muted = Boolean(this.line && this.line.state !== 'idle' && this.line.remoteMuted);
    $('remote-muted').hidden = !muted;
    if (muted) say($('remote-muted-text'), 'call.remote-muted', { name: this.line.peer?.name || '' });
  }

  // ---- home: me, contacts, missed ------------------------------------------------
  _renderMe() {
    if (!this.client) return;
    $('me-name').textContent = this.client.name;
    $('me-name').title = this.client.name;
    $('me-avatar').textContent = initial(this.client.name);
    say($('me-number-label'), 'me.number', { number: this.client.peerId });
    $('dnd-button').setAttribute('aria-pressed', String(this.dnd));
    $('dnd-badge').hidden = !this.dnd;
    document.body.dataset.dnd = this.dnd ? 'on' : 'off';
    $('notify-button').hidden = this.alerts.permission !== 'default';
    const insecure = mediaBlockedByInsecurePage();
    $('insecure-note').hidden = !insecure;
    if (insecure) say($('insecure-note'), 'me.insecure', { url: `https://${location.host}${location.pathname}` });
  }

  _renderContacts() {
    const list = $('contacts');
    const shown = this.contacts;
    const busy = Boolean(this.line && this.line.state !== 'idle');
    // Keep keyboard focus on the same contact across refreshes.
    const focused = document.activeElement?.closest?.('#contacts button')?.dataset.peerId;
    list.replaceChildren(...shown.map((peer) => contactItem(peer, busy)));
    if (focused) list.querySelector(`button[data-peer-id="${CSS.escape(focused)}"]`)?.focus();
    const query = $('search').value.trim();
    const empty = $('contacts-empty');
    empty.hidden = shown.length > 0;
    if (!shown.length) say(empty, query ? 'contacts.nomatch' : 'contacts.empty', { query });
    say($('contacts-count'), 'contacts.count', { count: this.contactsTotal ?? shown.length });
    $('contacts-more').hidden = !this.contactsMore;
  }

  _renderMissed() {
    $('missed-block').hidden = this.missed.length === 0;
    $('missed').replaceChildren(...this.missed.map((entry) => missedItem(entry, timeOf)));
  }

  _saveMissed() {
    storage(MISSED_KEY, JSON.stringify(this.missed));
  }

  // ---- helpers -------------------------------------------------------------------
  _show(name) {
    for (const screen of document.querySelectorAll('.screen')) screen.hidden = screen.id !== `screen-${name}`;
    document.body.dataset.screen = name;
    if (name === 'register' || name === 'elsewhere') document.body.dataset.state = name;
    else if (this.line) document.body.dataset.state = this.line.state;
  }

  _relabelRegister() {
    say($('register-heading'), this.renaming ? 'rename.heading' : 'register.heading');
    say($('register-label'), this.renaming ? 'rename.submit' : 'register.submit');
    $('rename-cancel').hidden = !this.renaming;
    $('register-button').querySelector('img').hidden = this.renaming; // a phone icon on "Save name" reads as "call"
  }

  _notice(key, vars = {}, kind = 'info', reason = '') {
    const box = $('notice');
    if (!key) { box.hidden = true; box.dataset.reason = ''; return; }
    say($('notice-text'), key, vars);
    box.className = `notice ${kind}`;
    box.dataset.reason = reason || key;
    box.hidden = false;
  }

  _relabel() {
    this.alerts.setBaseTitle(t('phone.title'));
    if (this.client) this._renderMe();
    this._renderContacts();
    this._renderMissed();
    if (this.line) this._renderControls();
  }

  _leave() {
    // Best effort on the way out: tell the other side, then end the session.
    const client = this.client;
    if (!client?.token) return;
    const line = this.line;
    if (line && line.state !== 'idle' && line.peer) {
      const type = line.state === 'calling' ? 'phone.cancel' : line.state === 'incoming' ? 'phone.decline' : 'phone.hangup';
      fetch('/v1/messages', {
        method: 'POST',
        keepalive: true,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${client.token}` },
        body: JSON.stringify({ to: line.peer.peer_id, type, data: { call: line.callId, reason: 'cancelled' } }),
      }).catch(() => {});
    }
    client.leave({ keepalive: true });
  }
}

const ui = new PhoneUI();
window.phone = {
  ui,
  tones: ui.tones,
  get client() { return ui.client; },
  get line() { return ui.line; },
  get call() { return ui.line?.call ?? null; },
  get state() { return ui.line?.state ?? 'register'; },
  get directory() { return ui.directory; },
  alerts: ui.alerts,
};
