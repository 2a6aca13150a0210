// SignalingClient: the browser side of the HTTP signaling API.
//
//   const client = new SignalingClient({ name: 'Ann' });
//   client.addEventListener('message', (e) => console.log(e.detail)); // envelopes
//   await client.connect();            // POST /v1/sessions, then SSE or long-poll
//   await client.send(peerId, 'hello', { any: 'json' });
//   client.send(peerId, 'rtc', candidate, { batch: true });  // merged into one POST
//
// Receiving: Server-Sent Events (EventSource, ?token=) when the server offers
// them; long-poll (GET /v1/messages?cursor=&wait=) when SSE yields no `ready`
// event within `sseReadyTimeout` ms, keeps failing while the server is
// reachable, is not advertised, or `?transport=longpoll` is in the page URL.
// Reconnects with exponential backoff and jitter, resumes from the cursor,
// drops duplicate message ids, sends heartbeats when it has not talked to the
// server for a while, re-registers (same peer id) when the session ended, and
// leaves with a keepalive fetch on page unload.
//
// Sending is ordered: one POST at a time; messages queued meanwhile (or within
// `batchDelay` ms for { batch: true }) go together as one batch POST. Every
// message carries a client id (`cid`), kept across resends: a POST whose
// answer was lost (network failure, 503) is resent as is and the server stores
// it once. A full mailbox (429 mailbox-full) is retried with backoff until
// `sendRetryFor` ms have passed; 503 and 429 honour Retry-After.
//
// Over SSE the client acknowledges what it processed with its heartbeats
// ({ack: id}, every `heartbeat_interval` and after `ackEvery` messages), so a
// reader that keeps up never leaves a full mailbox for its senders.
//
// Events (all CustomEvent, details in brackets):
//   registered {peer_id, name, reregistered}  open {transport}  transportchange {transport, reason}
//   reconnecting {attempt, delay, reason}     message {envelope}  (also `message:<type>` per type)
//   peer-offline {peers, type}  rate-limited {retryAfter}  session-ended {reregistering}
//   send-error {error, message}  closed {}

const DEFAULTS = {
  base: '',
  name: '',
  peerId: null,
  listed: false, // true: appear in GET /v1/peers (the phone); rooms and tools stay unlisted
  transport: 'auto', // 'auto' | 'sse' | 'longpoll'
  readUrlParams: true, // ?transport=longpoll|sse in the page URL
  sseReadyTimeout: 4000,
  sseFailuresBeforeFallback: 3,
  batchDelay: 6,
  backoffBase: 250,
  backoffMax: 10000,
  sendRetryFor: 20000, // keep retrying a send through outages this long (ms)
  reregister: true,
  leaveOnUnload: true,
  longpollWait: null, // seconds; default: the server's longpoll_max_wait
  ackEvery: 64, // over SSE, acknowledge after this many messages (besides every heartbeat)
};

const MAX_BATCH = 100;
const STREAM_MIN_LIFE = 5000; // ms: an SSE stream that lived longer ended routinely
const SEEN_MAX = 2000;

/** A client message id prefix, random per page load: cids must not repeat for a sender. */
function randomPrefix() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}

/** An HTTP or network failure, with the problem+json body when there is one. */
export class SignalingError extends Error {
  constructor(kind, message, { status = 0, problem = null, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'SignalingError';
    this.kind = kind; // network | peer-offline | rate-limited | mailbox-full | unauthorized | invalid | server
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter; // seconds
  }
}

/** Compare two stream ids ("ms-seq"); '0' is the smallest. */
export function compareIds(a, b) {
  const [am, as = '0'] = String(a).split('-');
  const [bm, bs = '0'] = String(b).split('-');
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  return Number(as) - Number(bs);
}

/** Exponential backoff with full jitter: a random delay in [d/2, d]. */
export function backoffDelay(attempt, base = 250, max = 10000, random = Math.random) {
  const d = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(d / 2 + (random() * d) / 2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class SignalingClient extends EventTarget {
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    if (this.options.readUrlParams && typeof location !== 'undefined') {
      const forced = new URLSearchParams(location.search).get('transport');
      if (forced === 'longpoll' || forced === 'sse') this.options.transport = forced;
    }
    this.session = null; // the registration answer
    this.transport = null; // 'sse' | 'longpoll' while receiving
    this.connected = false; // receiving is live
    this.cursor = '0';
    this.rooms = new Set();
    this.counters = { registrations: 0, sseOpens: 0, sseReady: 0, sseErrors: 0, sseRoutineEnds: 0, polls: 0, posts: 0, sent: 0, sendRetries: 0, received: 0, duplicates: 0 };
    this._seen = new Set();
    this._queue = [];
    this._flushTimer = null;
    this._sending = false;
    this._closed = false;
    this._es = null;
    this._sseTimer = null;
    this._sseFailures = 0;
    this._attempt = 0;
    this._reconnectTimer = null;
    this._pollAbort = null;
    this._heartbeatTimer = null;
    this._lastContact = 0;
    this._reregistering = null;
    this._generation = 0; // bumps on every (re)start of receiving; stale loops stop
    this._cidPrefix = randomPrefix();
    this._cidCount = 0;
    this._acked = null; // the last id acknowledged with a heartbeat
    this._sinceAck = 0; // messages processed over SSE since then
    this._acking = false;
    this._onPageHide = () => this.leave({ keepalive: true });
  }

  get peerId() { return this.session?.peer_id ?? null; }
  get name() { return this.session?.name ?? this.options.name; }
  get token() { return this.session?.token ?? null; }
  get iceServers() { return this.session?.ice_servers ?? []; }

  /** Register and start receiving. Resolves with the session once receiving is live. */
  async connect(name = this.options.name, peerId = this.options.peerId) {
    this._closed = false;
    await this._register(name, peerId);
    if (this.options.leaveOnUnload && typeof window !== 'undefined') {
      window.addEventListener('pagehide', this._onPageHide);
    }
    const opened = new Promise((resolve) => this.addEventListener('open', resolve, { once: true }));
    this._startReceiving();
    this._startHeartbeat();
    await opened;
    return this.session;
  }

  async _register(name, peerId) {
    const body = { name };
    if (peerId) body.peer_id = peerId;
    if (this.options.listed) body.listed = true;
    let res;
    try {
      res = await this._fetch('POST', '/v1/sessions', body, { auth: false });
    } catch (error) {
      if (peerId && error.status === 409) {
        res = await this._fetch('POST', '/v1/sessions', { name }, { auth: false });
      } else {
        throw error;
      }
    }
    const reregistered = this.session !== null;
    this.session = res;
    this.options.name = res.name;
    this.counters.registrations += 1;
    this.cursor = '0';
    this._emit('registered', { peer_id: res.peer_id, name: res.name, reregistered });
    return res;
  }

  // ---- receiving ---------------------------------------------------------
  _wantedTransport() {
    const offered = this.session?.transports || ['sse', 'longpoll'];
    const forced = this.options.transport;
    if (forced !== 'auto' && offered.includes(forced)) return forced;
    if (this._fellBack) return 'longpoll';
    if (offered.includes('sse') && typeof EventSource !== 'undefined') return 'sse';
    return 'longpoll';
  }

  _startReceiving() {
    this._stopReceiving();
    const gen = ++this._generation;
    const transport = this._wantedTransport();
    if (transport !== this.transport) {
      const previous = this.transport;
      this.transport = transport;
      if (previous) this._emit('transportchange', { transport, reason: this._fallbackReason || '' });
    }
    if (transport === 'sse') this._openSse(gen);
    else this._pollLoop(gen);
  }

  _stopReceiving() {
    this._generation += 1;
    clearTimeout(this._reconnectTimer);
    clearTimeout(this._sseTimer);
    if (this._es) { this._es.close(); this._es = null; }
    if (this._pollAbort) { this._pollAbort.abort(); this._pollAbort = null; }
  }

  _setConnected(value) {
    if (value && !this.connected) {
      this.connected = true;
      this._attempt = 0;
      this._emit('open', { transport: this.transport });
    } else if (!value) {
      this.connected = false;
    }
  }

  _openSse(gen) {
    const params = new URLSearchParams({ token: this.token });
    if (this.cursor !== '0') params.set('last_event_id', this.cursor);
    const es = new EventSource(`${this.options.base}/v1/events?${params}`);
    this._es = es;
    this.counters.sseOpens += 1;
    let ready = 0; // when the `ready` event came
    this._sseTimer = setTimeout(() => {
      if (gen !== this._generation || ready) return;
      this._fellBack = true;
      this._fallbackReason = 'sse-silent';
      this._startReceiving();
    }, this.options.sseReadyTimeout);
    es.addEventListener('ready', () => {
      if (gen !== this._generation) return;
      ready = Date.now();
      clearTimeout(this._sseTimer);
      this.counters.sseReady += 1;
      this._sseFailures = 0;
      this._setConnected(true);
    });
    es.addEventListener('message', (event) => {
      if (gen !== this._generation) return;
      let envelope;
      try { envelope = JSON.parse(event.data); } catch { return; }
      this._accept(envelope, event.lastEventId || envelope.id);
    });
    es.addEventListener('end', () => {
      // A routine end (the stream's time is up, or unacknowledged mail piled
      // up): come back at once from our cursor, which acknowledges what we got,
      // without the probe and backoff that follow a failure.
      if (gen !== this._generation) return;
      this.counters.sseRoutineEnds += 1;
      this._setConnected(false);
      this._emit('reconnecting', { attempt: 0, delay: 0, reason: 'stream-ended' });
      this._startReceiving();
    });
    es.addEventListener('session-ended', () => {
      if (gen !== this._generation) return;
      this._stopReceiving();
      this._sessionEnded();
    });
    es.addEventListener('error', () => {
      if (gen !== this._generation) return;
      // Whatever EventSource would do next, we take over: close and reconnect
      // ourselves from our cursor, with backoff, after asking why it failed.
      this.counters.sseErrors += 1;
      clearTimeout(this._sseTimer);
      es.close();
      this._es = null;
      this._setConnected(false);
      this._afterFailure(gen, 'sse', ready);
    });
  }

  async _afterFailure(gen, transport, hadReady) {
    // Is the server reachable and our session still live?
    let reachable = true;
    try {
      await this._fetch('GET', '/v1/sessions/me');
    } catch (error) {
      if (gen !== this._generation) return;
      if (error.kind === 'unauthorized') { this._sessionEnded(); return; }
      reachable = false;
    }
    if (gen !== this._generation) return;
    if (transport === 'sse' && reachable && !hadReady) {
      this._sseFailures += 1;
      if (this._sseFailures >= this.options.sseFailuresBeforeFallback && this.options.transport === 'auto') {
        this._fellBack = true;
        this._fallbackReason = 'sse-failing';
      }
    }
    // A stream that ended after working a while (the server's bounded duration)
    // reconnects at once; one that keeps ending early (a draining server) backs off.
    const routine = reachable && hadReady && Date.now() - hadReady > STREAM_MIN_LIFE;
    const attempt = routine ? 0 : ++this._attempt;
    const delay = routine ? 0 : backoffDelay(attempt - 1, this.options.backoffBase, this.options.backoffMax);
    this._emit('reconnecting', { attempt, delay, reason: reachable ? 'stream-ended' : 'unreachable' });
    this._reconnectTimer = setTimeout(() => { if (gen === this._generation) this._startReceiving(); }, delay);
  }

  async _pollLoop(gen) {
    const maxWait = this.options.longpollWait ?? this.session?.longpoll_max_wait ?? 25;
    let wait = 0; // the first poll answers at once: it proves the transport works
    while (gen === this._generation && !this._closed) {
      const abort = new AbortController();
      this._pollAbort = abort;
      let answer;
      try {
        this.counters.polls += 1;
        answer = await this._fetch('GET', `/v1/messages?cursor=${encodeURIComponent(this.cursor)}&wait=${wait}`, undefined, { signal: abort.signal });
      } catch (error) {
        if (gen !== this._generation) return;
        this._setConnected(false);
        if (error.kind === 'unauthorized') { this._sessionEnded(); return; }
        const delay = backoffDelay(this._attempt++, this.options.backoffBase, this.options.backoffMax);
        this._emit('reconnecting', { attempt: this._attempt, delay, reason: error.kind });
        await sleep(delay);
        continue;
      }
      if (gen !== this._generation) return;
      this._setConnected(true);
      for (const envelope of answer.messages || []) this._accept(envelope, envelope.id);
      if (answer.cursor && compareIds(answer.cursor, this.cursor) > 0) this.cursor = answer.cursor;
      wait = maxWait;
    }
  }

  _accept(envelope, id) {
    if (!envelope || typeof envelope !== 'object') return;
    id = id || envelope.id;
    if (id) {
      if (this._seen.has(id) || (this._lastId && compareIds(id, this._lastId) <= 0)) {
        this.counters.duplicates += 1;
        return;
      }
      this._seen.add(id);
      if (this._seen.size > SEEN_MAX) this._seen.delete(this._seen.values().next().value);
      this._lastId = id;
      if (compareIds(id, this.cursor) > 0) this.cursor = id;
    }
    this.counters.received += 1;
    this._emit('message', envelope);
    this._emit(`message:${envelope.type}`, envelope);
    if (id && this.transport === 'sse' && ++this._sinceAck >= this.options.ackEvery && !this._acking) {
      this.heartbeat().catch(() => {});
    }
  }

  /** Subscribe to messages of one type; returns an unsubscribe function. */
  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(`message:${type}`, listener);
    return () => this.removeEventListener(`message:${type}`, listener);
  }

  async _sessionEnded() {
    this._setConnected(false);
    this._stopReceiving();
    const reregistering = this.options.reregister && !this._closed;
    this._emit('session-ended', { reregistering });
    if (!reregistering) return;
    if (this._reregistering) return this._reregistering;
    this._reregistering = (async () => {
      for (let attempt = 0; !this._closed; attempt++) {
        try {
          this._lastId = null;
          await this._register(this.name, this.peerId);
          for (const room of this.rooms) {
            try { await this.joinRoom(room); } catch { /* the room app sees the failure on its next send */ }
          }
          this._startReceiving();
          return;
        } catch {
          await sleep(backoffDelay(attempt, this.options.backoffBase, this.options.backoffMax));
        }
      }
    })().finally(() => { this._reregistering = null; });
    return this._reregistering;
  }

  // ---- presence ----------------------------------------------------------
  _contact() { this._lastContact = Date.now(); }

  _startHeartbeat() {
    clearInterval(this._heartbeatTimer);
    const every = Math.max(1, this.session?.heartbeat_interval ?? 15) * 1000;
    // Only the client's own requests keep presence alive (an open SSE stream
    // does not, so a frozen tab leaves): a heartbeat goes out whenever no
    // request (poll, send) reached the server for a while.
    // Over SSE it goes out every interval regardless: it also acknowledges
    // what the stream delivered (long-polls acknowledge by their cursor).
    this._heartbeatTimer = setInterval(() => {
      if (this._closed || this._reregistering) return;
      const unacked = this.transport === 'sse' && this._lastId && this._lastId !== this._acked;
      if (!unacked && Date.now() - this._lastContact < every * 0.9) return;
      this.heartbeat().catch(() => {});
    }, every / 3);
  }

  /** Keep the session alive; over SSE also acknowledge the last message processed. */
  async heartbeat() {
    const ack = this.transport === 'sse' && this._lastId ? this._lastId : null;
    const body = ack ? { ack } : {};
    this._acking = true;
    this._sinceAck = 0;
    try {
      const answer = await this._fetch('POST', '/v1/sessions/me/heartbeat', body);
      if (ack) this._acked = ack;
      return answer;
    } catch (error) {
      if (error.kind === 'unauthorized') this._sessionEnded();
      throw error;
    } finally {
      this._acking = false;
    }
  }

  // ---- sending -----------------------------------------------------------
  /** Send one message to a peer. Resolves with {id}; rejects with a SignalingError. */
  send(to, type, data, { batch = false } = {}) {
    return this._enqueue({ to, type, data: data === undefined ? null : data }, batch);
  }

  /** Send one message to every other member of a room you joined. */
  sendToRoom(room, type, data, { batch = false } = {}) {
    return this._enqueue({ room, type, data: data === undefined ? null : data }, batch);
  }

  _enqueue(message, batch) {
    this.counters.sent += 1;
    message.cid = `${this._cidPrefix}-${(this._cidCount++).toString(36)}`;
    return new Promise((resolve, reject) => {
      this._queue.push({ message, resolve, reject, batch, since: Date.now() });
      this._scheduleFlush(batch ? this.options.batchDelay : 0);
    });
  }

  _scheduleFlush(delay) {
    if (this._sending) return; // the running flush picks the queue up
    if (this._flushTimer && delay > 0) return;
    clearTimeout(this._flushTimer);
    this._flushTimer = setTimeout(() => { this._flushTimer = null; this._flush(); }, delay);
  }

  async _flush() {
    if (this._sending) return;
    this._sending = true;
    try {
      while (this._queue.length) {
        const items = this._queue.splice(0, MAX_BATCH);
        await this._post(items);
      }
    } finally {
      this._sending = false;
    }
  }

  async _post(items) {
    let attempt = 0;
    for (;;) {
      // The same message objects (and so the same cids) on every attempt: a
      // resend after a lost answer is stored once.
      const body = items.length === 1 ? items[0].message : { messages: items.map((i) => i.message) };
      let error;
      try {
        this.counters.posts += 1;
        const res = await this._fetch('POST', '/v1/messages', body);
        const ids = items.length === 1 ? [res.id] : res.ids;
        items.forEach((item, n) => item.resolve({ id: ids[n] }));
        return;
      } catch (caught) {
        error = caught;
      }
      const kind = error.kind;
      if (kind === 'peer-offline' || kind === 'mailbox-full') {
        items = this._settleRefused(items, error);
        if (!items.length) return;
      }
      const oldest = Math.min(...items.map((i) => i.since));
      const retryable = ['network', 'server', 'rate-limited', 'unauthorized', 'mailbox-full', 'peer-offline'].includes(kind);
      if (!retryable || this._closed || Date.now() - oldest > this.options.sendRetryFor) {
        const final = kind === 'peer-offline' ? new SignalingError('mailbox-full', error.message, error) : error;
        items.forEach((item) => item.reject(final));
        this._emit('send-error', { error: final, messages: items.map((i) => i.message) });
        return;
      }
      this.counters.sendRetries += 1;
      let delay = backoffDelay(attempt++, this.options.backoffBase, this.options.backoffMax);
      if (kind === 'rate-limited' || kind === 'server' || kind === 'mailbox-full' || kind === 'peer-offline') {
        delay = Math.max(delay, error.retryAfter * 1000);
      }
      if (kind === 'rate-limited') this._emit('rate-limited', { retryAfter: error.retryAfter });
      if (kind === 'unauthorized') {
        if (!this.options.reregister) { items.forEach((item) => item.reject(error)); return; }
        await this._sessionEnded();
        delay = 0;
      }
      await sleep(delay);
    }
  }

  /**
   * Settle the messages of a 404/429 answer: accepted ones resolve with their
   * id, those to an offline peer reject, those to a full mailbox are returned
   * for another try (the caller backs off until `sendRetryFor`).
   */
  _settleRefused(items, error) {
    const problem = error.problem || {};
    const ids = problem.ids || [];
    const offline = new Set(problem.offline || []);
    const full = new Set(problem.full || []);
    const retry = [];
    const gone = [];
    items.forEach((item, n) => {
      const to = item.message.to;
      if (ids[n]) item.resolve({ id: ids[n] });
      else if (to && offline.has(to)) gone.push(item);
      else if (to && full.has(to)) retry.push(item);
      else item.resolve({ id: null });
    });
    if (gone.length) {
      const offlineError = new SignalingError('peer-offline', error.message, error);
      gone.forEach((item) => item.reject(offlineError));
      const types = [...new Set(gone.map((i) => i.message.type))];
      this._emit('peer-offline', { peers: [...offline], types });
    }
    return retry;
  }

  // ---- directory, rooms, ICE ---------------------------------------------
  /** One page of the directory: {peers: [{peer_id, name}], total, next}. */
  listPeers({ after = '', limit = 50 } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (after) q.set('after', after);
    return this._fetch('GET', `/v1/peers?${q}`);
  }

  /** Every online peer (follows `next` up to maxPages pages). */
  async allPeers({ limit = 200, maxPages = 10 } = {}) {
    const peers = [];
    let after = '';
    for (let page = 0; page < maxPages; page++) {
      const answer = await this.listPeers({ after, limit });
      peers.push(...answer.peers);
      if (!answer.next) break;
      after = answer.next;
    }
    return peers;
  }

  /** Join a room: resolves with {room, members, capacity}; re-joined after a re-registration. */
  async joinRoom(room) {
    const answer = await this._fetch('POST', `/v1/rooms/${encodeURIComponent(room)}/members`, {});
    this.rooms.add(room);
    return answer;
  }

  async leaveRoom(room) {
    this.rooms.delete(room);
    await this._fetch('DELETE', `/v1/rooms/${encodeURIComponent(room)}/members/me`);
  }

  roomMembers(room) {
    return this._fetch('GET', `/v1/rooms/${encodeURIComponent(room)}`);
  }

  /** Fresh STUN/TURN servers (TURN credentials are minted per session). */
  async fetchIceServers() {
    const answer = await this._fetch('GET', '/v1/ice-servers');
    if (this.session) this.session.ice_servers = answer.ice_servers;
    return answer.ice_servers;
  }

  // ---- leaving -----------------------------------------------------------
  /** End the session (DELETE /v1/sessions/me) and stop everything. */
  async leave({ keepalive = false } = {}) {
    if (this._closed) return;
    const token = this.token;
    this.close();
    if (!token) return;
    try {
      await fetch(`${this.options.base}/v1/sessions/me`, {
        method: 'DELETE',
        keepalive,
        headers: { Authorization: `Bearer ${token}` },
      });
    } catch { /* leaving anyway */ }
  }

  /** Stop receiving and sending without telling the server (presence expires). */
  close() {
    this._closed = true;
    this._stopReceiving();
    this._setConnected(false);
    clearInterval(this._heartbeatTimer);
    clearTimeout(this._flushTimer);
    if (typeof window !== 'undefined') window.removeEventListener('pagehide', this._onPageHide);
    this._emit('closed', {});
  }

  // ---- HTTP --------------------------------------------------------------
  async _fetch(method, path, body, { auth = true, signal, keepalive = false } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await fetch(`${this.options.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        keepalive,
        cache: 'no-store',
      });
    } catch (error) {
      throw new SignalingError('network', error?.message || 'network error');
    }
    this._contact();
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    if (res.ok) return data;
    const retryAfter = Number(res.headers.get('Retry-After')) || 0;
    const slug = String(data?.type || '').split(':').pop();
    let kind = 'invalid';
    if (res.status === 401) kind = 'unauthorized';
    else if (res.status === 404 && slug === 'peer-offline') kind = 'peer-offline';
    else if (res.status === 429) kind = slug === 'mailbox-full' ? 'mailbox-full' : 'rate-limited';
    else if (res.status >= 500) kind = 'server';
    const error = new SignalingError(kind, data?.detail || data?.title || `HTTP ${res.status}`, { status: res.status, problem: data, retryAfter });
    throw error;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
