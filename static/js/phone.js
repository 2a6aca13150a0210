// The phone app's UI (static/phone.html): screens, contact list, call screen.
// Call flow lives in phone-call.js (PhoneLine), transport in signaling.js,
// media in call.js. User data (names) is only ever set with textContent.
//
// Page URL options: ?transport=longpoll|sse (read by SignalingClient),
// ?ring_timeout=<seconds> (unanswered-call timeout, default 30).
// For tests and the benchmark: window.phone = {client, line, call, tones, ui}.

import { t } from './i18n.js';
import { say, startPage } from './lang-switch.js';
import { PhoneLine, RING_TIMEOUT_MS } from './phone-call.js';
import { Tones } from './phone-tones.js';
import { SignalingClient } from './signaling.js';
import './strings/phone.js';

const NAME_KEY = 'signaling.name'; // shared with the other apps
const NUMBER_KEY = 'phone.number';
const MISSED_KEY = 'phone.missed';
const CONTACTS_EVERY_MS = 3000;
const STATS_EVERY_MS = 1000;

const $ = (id) => document.getElementById(id);

function storage(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch { /* storage blocked: nothing remembered */ }
  return null;
}

function initial(name) {
  return (Array.from(String(name || '?').trim())[0] || '?').toUpperCase();
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
    this.missed = [];
    this._contactsTimer = null;
    this._tickTimer = null;
    this._statsTimer = null;
    this.lastStats = null;

    startPage();
    this._bind();
    document.addEventListener('languagechange', () => this._relabel());
    const saved = storage(NAME_KEY);
    $('name-input').value = saved || '';
    this._show('register');
    if (saved) this.register(saved);
    else $('name-input').focus();
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
    $('search').addEventListener('input', () => this._renderContacts());
    $('contacts').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-peer-id]');
      if (button) this.dial(button.dataset.peerId, button.dataset.name);
    });
    $('missed').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-peer-id]');
      if (button) this.dial(button.dataset.peerId, button.dataset.name);
    });
    $('missed-clear').addEventListener('click', () => { this.missed = []; this._saveMissed(); this._renderMissed(); });
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

  // ---- registration ----------------------------------------------------------
  async register(name) {
    const button = $('register-button');
    button.disabled = true;
    say(button.querySelector('span'), 'register.busy');
    this._notice(null);
    const client = new SignalingClient({ name, peerId: storage(NUMBER_KEY) || null, leaveOnUnload: false });
    this._watchClient(client);
    try {
      await client.connect();
    } catch (error) {
      client.close();
      button.disabled = false;
      say(button.querySelector('span'), 'register.submit');
      this._notice('register.failed', {}, 'error');
      this._show('register');
      return;
    }
    this.client = client;
    storage(NAME_KEY, client.name);
    storage(NUMBER_KEY, client.peerId);
    this.line = new PhoneLine({ signaling: client, ringTimeout: this.ringTimeout });
    this._watchLine(this.line);
    this._renderMe();
    this._renderMissed();
    this._show('home');
    document.body.dataset.transport = client.transport;
    this._pollContacts();
  }

  _watchClient(client) {
    const status = $('server-status');
    client.addEventListener('reconnecting', (e) => {
      if (e.detail.reason === 'stream-ended' && e.detail.delay === 0) return; // routine: the stream's time was up
      say(status, 'status.reconnecting');
      status.hidden = false;
      document.body.dataset.server = 'reconnecting';
    });
    client.addEventListener('open', () => {
      status.hidden = true;
      document.body.dataset.server = 'connected';
      document.body.dataset.transport = client.transport;
    });
    client.addEventListener('transportchange', () => {
      document.body.dataset.transport = client.transport;
      if (client.transport === 'longpoll') this._notice('status.longpoll', {}, 'info');
    });
    client.addEventListener('session-ended', () => {
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
    this.tones.unlock();
    this._notice(null);
    this.line.dial(peerId, name).catch(() => {});
  }

  _watchLine(line) {
    line.addEventListener('statechange', () => this._renderCall());
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
      this._ringing = false;
      this._connection = null;
      this._remoteVideo = false;
      $('remote-audio').srcObject = null;
      $('remote-video').srcObject = null;
      $('local-video').srcObject = null;
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
    else if (this._connection === 'disconnected' || this._connection === 'failed') say(statusEl, 'call.reconnecting');
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

  // ---- home: me, contacts, missed ------------------------------------------------
  _renderMe() {
    $('me-name').textContent = this.client.name;
    $('me-avatar').textContent = initial(this.client.name);
    say($('me-number-label'), 'me.number', { number: this.client.peerId });
  }

  async _pollContacts() {
    clearTimeout(this._contactsTimer);
    if (!this.client) return;
    try {
      const peers = await this.client.allPeers();
      this.contacts = peers.filter((p) => p.peer_id !== this.client.peerId);
      this.contacts.sort((a, b) => a.name.localeCompare(b.name) || a.peer_id.localeCompare(b.peer_id));
      this._renderContacts();
    } catch { /* the server status banner explains; keep the last list */ }
    this._contactsTimer = setTimeout(() => this._pollContacts(), CONTACTS_EVERY_MS);
  }

  _renderContacts() {
    const list = $('contacts');
    const query = $('search').value.trim().toLowerCase();
    const shown = this.contacts.filter((p) => !query || p.name.toLowerCase().includes(query) || p.peer_id.includes(query));
    const items = shown.map((peer) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'contact';
      button.dataset.peerId = peer.peer_id;
      button.dataset.name = peer.name;
      button.dataset.testid = 'contact';
      button.setAttribute('aria-label', t('contacts.call', { name: peer.name }));
      button.disabled = Boolean(this.line && this.line.state !== 'idle');
      const avatar = document.createElement('span');
      avatar.className = 'avatar';
      avatar.setAttribute('aria-hidden', 'true');
      avatar.textContent = initial(peer.name);
      const text = document.createElement('span');
      text.className = 'contact-text';
      const name = document.createElement('span');
      name.className = 'contact-name';
      name.textContent = peer.name;
      const number = document.createElement('span');
      number.className = 'contact-number muted small';
      number.textContent = peer.peer_id;
      text.append(name, number);
      const icon = document.createElement('img');
      icon.src = '/static/icons/phone.svg';
      icon.alt = '';
      icon.className = 'call-icon';
      button.append(avatar, text, icon);
      li.append(button);
      return li;
    });
    // Keep keyboard focus on the same contact across refreshes.
    const focused = document.activeElement?.closest?.('#contacts button')?.dataset.peerId;
    list.replaceChildren(...items);
    if (focused) list.querySelector(`button[data-peer-id="${CSS.escape(focused)}"]`)?.focus();
    const empty = $('contacts-empty');
    empty.hidden = shown.length > 0;
    if (!shown.length) say(empty, query ? 'contacts.nomatch' : 'contacts.empty', { query: $('search').value.trim() });
    say($('contacts-count'), 'contacts.count', { count: this.contacts.length });
  }

  _renderMissed() {
    const list = $('missed');
    $('missed-block').hidden = this.missed.length === 0;
    list.replaceChildren(...this.missed.map((entry) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'missed-entry';
      button.dataset.peerId = entry.peer_id;
      button.dataset.name = entry.name;
      button.dataset.testid = 'missed-call';
      button.setAttribute('aria-label', t('contacts.call', { name: entry.name }));
      const text = document.createElement('span');
      text.textContent = t(entry.reason === 'busy' ? 'missed.busy' : 'missed.entry', { name: entry.name, time: timeOf(entry.at) });
      button.append(text);
      li.append(button);
      return li;
    }));
  }

  _saveMissed() {
    storage(MISSED_KEY, JSON.stringify(this.missed));
  }

  // ---- helpers -------------------------------------------------------------------
  _show(name) {
    for (const screen of document.querySelectorAll('.screen')) screen.hidden = screen.id !== `screen-${name}`;
    document.body.dataset.screen = name;
    if (name !== 'call' && this.line) document.body.dataset.state = this.line.state;
    else if (name === 'register') document.body.dataset.state = 'register';
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
};
