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
//   send-error {error, messages}  statechange {state, previous}  closed {}
//
// Lifecycle (`client.state`): idle -> connecting -> open <-> reconnecting -> closed.
// close() settles every pending promise: connect() and queued or in-flight
// sends reject with a SignalingError of kind 'closed'.
//
// The parts, one job each: http.js (requests, SignalingError), sse-receiver.js
// and longpoll-receiver.js (the Receiver interface of receiver.js),
// send-queue.js (ordering, batching, cids, retries). This file is the policy
// between them: which transport, when to reconnect, dedupe, acks, presence.

import { Emitter } from './emitter.js';
import { SignalingError, backoffDelay, request, sleep } from './http.js';
import { LongPollReceiver } from './longpoll-receiver.js';
import { SendQueue } from './send-queue.js';
import { SseReceiver } from './sse-receiver.js';

export { SignalingError, backoffDelay };

/**
 * @typedef {object} SignalingOptions
 * @property {string} [base] URL prefix of the API ('' = same origin)
 * @property {string} [name]
 * @property {string|null} [peerId] ask for this peer id (a taken one gets a new id)
 * @property {boolean} [listed] true: appear in GET /v1/peers (the phone); rooms and tools stay unlisted
 * @property {'auto'|'sse'|'longpoll'} [transport]
 * @property {boolean} [readUrlParams] ?transport=longpoll|sse in the page URL
 * @property {number} [sseReadyTimeout] ms
 * @property {number} [sseFailuresBeforeFallback]
 * @property {number} [batchDelay] ms
 * @property {number} [backoffBase] ms
 * @property {number} [backoffMax] ms
 * @property {number} [sendRetryFor] keep retrying a send through outages this long (ms)
 * @property {boolean} [reregister] register again (same peer id) when the session ended
 * @property {boolean} [leaveOnUnload] DELETE the session on pagehide
 * @property {number|null} [longpollWait] seconds; default: the server's longpoll_max_wait
 * @property {number} [ackEvery] over SSE, acknowledge after this many messages (besides every heartbeat)
 */

/**
 * The registration answer (POST /v1/sessions).
 * @typedef {{peer_id: string, name: string, token: string, ice_servers: RTCIceServer[],
 *   transports?: string[], heartbeat_interval?: number, longpoll_max_wait?: number, listed?: boolean}} Session
 * @typedef {{id: string, type: string, from: string, from_name?: string, data: any, room?: string, ts?: number}} Envelope
 * @typedef {'idle'|'connecting'|'open'|'reconnecting'|'closed'} State
 */

/** @type {Required<SignalingOptions>} */
const DEFAULTS = {
  base: '',
  name: '',
  peerId: null,
  listed: false,
  transport: 'auto',
  readUrlParams: true,
  sseReadyTimeout: 4000,
  sseFailuresBeforeFallback: 3,
  batchDelay: 6,
  backoffBase: 250,
  backoffMax: 10000,
  sendRetryFor: 20000,
  reregister: true,
  leaveOnUnload: true,
  longpollWait: null,
  ackEvery: 64,
};

const STREAM_MIN_LIFE = 5000; // ms: an SSE stream that lived longer ended routinely
const SEEN_MAX = 2000;

/**
 * Compare two stream ids ("ms-seq"); '0' is the smallest.
 * @param {string} a
 * @param {string} b
 * @returns {number} <0, 0 or >0
 */
export function compareIds(a, b) {
  const [am, as = '0'] = String(a).split('-');
  const [bm, bs = '0'] = String(b).split('-');
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  return Number(as) - Number(bs);
}

/**
 * A signal aborted when either is (AbortSignal.any where the browser has it).
 * @param {AbortSignal} a
 * @param {AbortSignal} b
 * @returns {AbortSignal}
 */
function anySignal(a, b) {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const both = new AbortController();
  const abort = () => both.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return both.signal;
}

export class SignalingClient extends Emitter {
  /** @param {SignalingOptions} [options] */
  constructor(options = {}) {
    super();
    /** @type {Required<SignalingOptions>} */
    this.options = { ...DEFAULTS, ...options };
    if (this.options.readUrlParams && typeof location !== 'undefined') {
      const forced = new URLSearchParams(location.search).get('transport');
      if (forced === 'longpoll' || forced === 'sse') this.options.transport = forced;
    }
    /** @type {Session|null} the registration answer */
    this.session = null;
    /** @type {'sse'|'longpoll'|null} while receiving */
    this.transport = null;
    /** @type {State} */
    this.state = 'idle';
    this.connected = false; // receiving is live
    this.cursor = '0';
    /** @type {Set<string>} rooms joined, joined again after a re-registration */
    this.rooms = new Set();
    this.counters = { registrations: 0, sseOpens: 0, sseReady: 0, sseErrors: 0, sseRoutineEnds: 0, polls: 0, posts: 0, sent: 0, sendRetries: 0, received: 0, duplicates: 0 };
    /** @type {Set<string>} */
    this._seen = new Set();
    /** @type {string|null} */
    this._lastId = null;
    /** @type {import('./receiver.js').Receiver|null} */
    this._receiver = null;
    this._fellBack = false;
    this._fallbackReason = '';
    this._sseFailures = 0;
    this._attempt = 0;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this._reconnectTimer = undefined;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this._heartbeatTimer = undefined;
    this._lastContact = 0;
    /** @type {Promise<void>|null} */
    this._reregistering = null;
    this._generation = 0; // bumps on every (re)start of receiving; stale reconnects stop
    /** @type {string|null} the last id acknowledged with a heartbeat */
    this._acked = null;
    this._sinceAck = 0; // messages processed over SSE since then
    this._acking = false;
    /** @type {AbortController} aborted by close(): every request and wait of this client ends */
    this._life = new AbortController();
    this._queue = this._newQueue();
    this._onPageHide = () => { this.leave({ keepalive: true }); };
  }

  get peerId() { return this.session?.peer_id ?? null; }
  get name() { return this.session?.name ?? this.options.name; }
  get token() { return this.session?.token ?? null; }
  /** @returns {RTCIceServer[]} */
  get iceServers() { return this.session?.ice_servers ?? []; }
  get _closed() { return this._life.signal.aborted; }

  /** @param {State} state */
  _setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this._emit('statechange', { state, previous });
  }

  _newQueue() {
    const queue = new SendQueue({
      post: (body, signal) => this._fetch('POST', '/v1/messages', body, { signal }),
      reauthenticate: async () => {
        if (!this.options.reregister) return false;
        await this._sessionEnded();
        return !this._closed;
      },
      emit: (type, detail) => this._emit(type, detail),
      batchDelay: this.options.batchDelay,
      retryFor: this.options.sendRetryFor,
      backoffBase: this.options.backoffBase,
      backoffMax: this.options.backoffMax,
    });
    // One set of counters for the whole client (tests and benchmarks read them).
    queue.counters = /** @type {any} */ (this.counters);
    return queue;
  }

  /**
   * Register and start receiving. Resolves with the session once receiving is
   * live; rejects when registration fails or close() comes first.
   * @param {string} [name]
   * @param {string|null} [peerId]
   * @returns {Promise<Session>}
   */
  async connect(name = this.options.name, peerId = this.options.peerId) {
    if (this._closed) { this._life = new AbortController(); this._queue = this._newQueue(); }
    this._setState('connecting');
    try {
      await this._register(name, peerId);
    } catch (error) {
      if (!this._closed) this._setState('idle');
      throw error;
    }
    if (this.options.leaveOnUnload && typeof window !== 'undefined') {
      window.addEventListener('pagehide', this._onPageHide);
    }
    const signal = this._life.signal;
    const opened = new Promise((resolve, reject) => {
      const onClose = () => reject(new SignalingError('closed', 'closed before receiving was live'));
      this.addEventListener('open', () => { signal.removeEventListener('abort', onClose); resolve(undefined); }, { once: true });
      signal.addEventListener('abort', onClose, { once: true });
    });
    this._startReceiving();
    this._startHeartbeat();
    await opened;
    return /** @type {Session} */ (this.session);
  }

  /**
   * @param {string} name
   * @param {string|null} peerId
   * @returns {Promise<Session>}
   */
  async _register(name, peerId) {
    /** @type {{name: string, peer_id?: string, listed?: boolean}} */
    const body = { name };
    if (peerId) body.peer_id = peerId;
    if (this.options.listed) body.listed = true;
    /** @type {Session} */
    let res;
    try {
      res = await this._fetch('POST', '/v1/sessions', body, { auth: false });
    } catch (error) {
      if (!peerId || /** @type {SignalingError} */ (error).status !== 409) throw error;
      delete body.peer_id;
      res = await this._fetch('POST', '/v1/sessions', body, { auth: false });
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
  /** @returns {'sse'|'longpoll'} */
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
    if (this._closed) return;
    const gen = this._generation;
    const transport = this._wantedTransport();
    if (transport !== this.transport) {
      const previous = this.transport;
      this.transport = transport;
      if (previous) this._emit('transportchange', { transport, reason: this._fallbackReason || '' });
    }
    const receiver = transport === 'sse' ? this._sseReceiver(gen) : this._longPollReceiver(gen);
    this._receiver = receiver;
    receiver.start();
  }

  _stopReceiving() {
    this._generation += 1;
    clearTimeout(this._reconnectTimer);
    this._receiver?.stop();
    this._receiver = null;
  }

  /**
   * Hooks every receiver shares; `gen` keeps a stopped one from reaching us.
   * @param {number} gen
   * @returns {import('./receiver.js').ReceiverHooks}
   */
  _hooks(gen) {
    const live = () => gen === this._generation;
    return {
      open: () => { if (live()) this._setConnected(true); },
      message: (envelope, id) => { if (live()) this._accept(envelope, id); },
      sessionEnded: () => { if (live()) this._sessionEnded(); },
    };
  }

  /** @param {number} gen */
  _sseReceiver(gen) {
    const params = new URLSearchParams({ token: this.token || '' });
    if (this.cursor !== '0') params.set('last_event_id', this.cursor);
    this.counters.sseOpens += 1;
    const hooks = this._hooks(gen);
    return new SseReceiver({ url: `${this.options.base}/v1/events?${params}`, readyTimeout: this.options.sseReadyTimeout }, {
      ...hooks,
      open: () => {
        if (gen !== this._generation) return;
        this.counters.sseReady += 1;
        this._sseFailures = 0;
        hooks.open();
      },
      fallback: (reason) => {
        if (gen !== this._generation) return;
        this._fellBack = true;
        this._fallbackReason = reason;
        this._startReceiving();
      },
      ended: () => {
        // A routine end (the stream's time is up, or unacknowledged mail piled
        // up): come back at once from our cursor, which acknowledges what we
        // got, without the probe and backoff that follow a failure.
        if (gen !== this._generation) return;
        this.counters.sseRoutineEnds += 1;
        this._setConnected(false);
        this._emit('reconnecting', { attempt: 0, delay: 0, reason: 'stream-ended' });
        this._startReceiving();
      },
      failed: ({ readyAt }) => {
        if (gen !== this._generation) return;
        this.counters.sseErrors += 1;
        this._setConnected(false);
        this._afterSseFailure(gen, readyAt);
      },
    });
  }

  /** @param {number} gen */
  _longPollReceiver(gen) {
    const maxWait = this.options.longpollWait ?? this.session?.longpoll_max_wait ?? 25;
    const poll = (/** @type {number} */ wait, /** @type {AbortSignal} */ signal) => {
      this.counters.polls += 1;
      const path = `/v1/messages?cursor=${encodeURIComponent(this.cursor)}&wait=${wait}`;
      return this._fetch('GET', path, undefined, { signal });
    };
    return new LongPollReceiver({ poll, maxWait }, {
      ...this._hooks(gen),
      retrying: (reason) => {
        this._setConnected(false);
        const delay = backoffDelay(this._attempt++, this.options.backoffBase, this.options.backoffMax);
        this._emit('reconnecting', { attempt: this._attempt, delay, reason });
        return delay;
      },
      cursor: (cursor) => {
        if (gen === this._generation && compareIds(cursor, this.cursor) > 0) this.cursor = cursor;
      },
    });
  }

  /** @param {boolean} value */
  _setConnected(value) {
    if (value && !this.connected) {
      this.connected = true;
      this._attempt = 0;
      this._setState('open');
      this._emit('open', { transport: this.transport });
    } else if (!value) {
      this.connected = false;
      if (!this._closed && this.state === 'open') this._setState('reconnecting');
    }
  }

  /**
   * After an SSE error: is the server reachable and our session still live?
   * Then reconnect at once (a routine end), with backoff, or on long-poll.
   * @param {number} gen
   * @param {number} readyAt
   */
  async _afterSseFailure(gen, readyAt) {
    let reachable = true;
    try {
      await this._fetch('GET', '/v1/sessions/me');
    } catch (error) {
      if (gen !== this._generation) return;
      if (/** @type {SignalingError} */ (error).kind === 'unauthorized') { this._sessionEnded(); return; }
      reachable = false;
    }
    if (gen !== this._generation) return;
    if (reachable && !readyAt) {
      this._sseFailures += 1;
      if (this._sseFailures >= this.options.sseFailuresBeforeFallback && this.options.transport === 'auto') {
        this._fellBack = true;
        this._fallbackReason = 'sse-failing';
      }
    }
    // A stream that ended after working a while (the server's bounded duration)
    // reconnects at once; one that keeps ending early (a draining server) backs off.
    const routine = reachable && readyAt && Date.now() - readyAt > STREAM_MIN_LIFE;
    const attempt = routine ? 0 : ++this._attempt;
    const delay = routine ? 0 : backoffDelay(attempt - 1, this.options.backoffBase, this.options.backoffMax);
    this._emit('reconnecting', { attempt, delay, reason: reachable ? 'stream-ended' : 'unreachable' });
    this._reconnectTimer = setTimeout(() => { if (gen === this._generation) this._startReceiving(); }, delay);
  }

  /**
   * Deliver one envelope unless it was seen (by id) before.
   * @param {any} envelope
   * @param {string} [id]
   */
  _accept(envelope, id) {
    if (!envelope || typeof envelope !== 'object') return;
    id = id || envelope.id;
    if (id) {
      if (this._seen.has(id) || (this._lastId && compareIds(id, this._lastId) <= 0)) {
        this.counters.duplicates += 1;
        return;
      }
      this._seen.add(id);
      if (this._seen.size > SEEN_MAX) this._seen.delete(/** @type {string} */ (this._seen.values().next().value));
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

  /**
   * Subscribe to messages of one type; returns an unsubscribe function.
   * @param {string} type
   * @param {(envelope: Envelope) => void} handler
   * @returns {() => void}
   */
  on(type, handler) {
    const listener = (/** @type {Event} */ event) => handler(/** @type {CustomEvent} */ (event).detail);
    this.addEventListener(`message:${type}`, listener);
    return () => this.removeEventListener(`message:${type}`, listener);
  }

  /** @returns {Promise<void>} settles once registered again (or closed) */
  async _sessionEnded() {
    this._setConnected(false);
    this._stopReceiving();
    const reregistering = this.options.reregister && !this._closed;
    this._emit('session-ended', { reregistering });
    if (!reregistering) { this._setState('closed'); return; }
    this._setState('reconnecting');
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
          await sleep(backoffDelay(attempt, this.options.backoffBase, this.options.backoffMax), this._life.signal);
        }
      }
    })().finally(() => { this._reregistering = null; });
    return this._reregistering;
  }

  // ---- presence ----------------------------------------------------------
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

  /**
   * Keep the session alive; over SSE also acknowledge the last message processed.
   * @returns {Promise<any>}
   */
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
      if (/** @type {SignalingError} */ (error).kind === 'unauthorized') this._sessionEnded();
      throw error;
    } finally {
      this._acking = false;
    }
  }

  // ---- sending -----------------------------------------------------------
  /**
   * Send one message to a peer. Resolves with {id}; rejects with a SignalingError.
   * @param {string} to
   * @param {string} type
   * @param {unknown} [data]
   * @param {{batch?: boolean}} [options] batch: wait a few ms to share a POST
   * @returns {Promise<{id: string|null}>}
   */
  send(to, type, data, { batch = false } = {}) {
    return this._queue.enqueue({ to, type, data: data === undefined ? null : data }, batch);
  }

  /**
   * Send one message to every other member of a room you joined.
   * @param {string} room
   * @param {string} type
   * @param {unknown} [data]
   * @param {{batch?: boolean}} [options]
   * @returns {Promise<{id: string|null}>}
   */
  sendToRoom(room, type, data, { batch = false } = {}) {
    return this._queue.enqueue({ room, type, data: data === undefined ? null : data }, batch);
  }

  // ---- directory, rooms, ICE ---------------------------------------------
  /**
   * One page of the directory of listed peers.
   * @param {{after?: string, limit?: number, q?: string}} [page] after: the `next` of the previous page
   * @returns {Promise<{peers: {peer_id: string, name: string}[], total: number, next: string|null, version?: string}>}
   */
  listPeers({ after = '', limit = 50, q = '' } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (after) query.set('after', after);
    if (q) query.set('q', q);
    return this._fetch('GET', `/v1/peers?${query}`);
  }

  /**
   * Every listed peer (follows `next` up to maxPages pages).
   * @param {{limit?: number, maxPages?: number}} [options]
   * @returns {Promise<{peer_id: string, name: string}[]>}
   */
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

  /**
   * Join a room: resolves with {room, members, capacity}; re-joined after a re-registration.
   * @param {string} room
   * @returns {Promise<any>}
   */
  async joinRoom(room) {
    const answer = await this._fetch('POST', `/v1/rooms/${encodeURIComponent(room)}/members`, {});
    this.rooms.add(room);
    return answer;
  }

  /** @param {string} room */
  async leaveRoom(room) {
    this.rooms.delete(room);
    await this._fetch('DELETE', `/v1/rooms/${encodeURIComponent(room)}/members/me`);
  }

  /**
   * @param {string} room
   * @returns {Promise<any>}
   */
  roomMembers(room) {
    return this._fetch('GET', `/v1/rooms/${encodeURIComponent(room)}`);
  }

  /**
   * Fresh STUN/TURN servers (TURN credentials are minted per session).
   * @returns {Promise<RTCIceServer[]>}
   */
  async fetchIceServers() {
    const answer = await this._fetch('GET', '/v1/ice-servers');
    if (this.session) this.session.ice_servers = answer.ice_servers;
    return answer.ice_servers;
  }

  // ---- leaving -----------------------------------------------------------
  /**
   * End the session (DELETE /v1/sessions/me) and stop everything.
   * @param {{keepalive?: boolean}} [options] keepalive: survives the page unloading
   */
  async leave({ keepalive = false } = {}) {
    if (this._closed) return;
    const token = this.token;
    this.close();
    if (!token) return;
    try {
      await request(`${this.options.base}/v1/sessions/me`, 'DELETE', undefined, { token, keepalive });
    } catch { /* leaving anyway */ }
  }

  /**
   * Stop receiving and sending without telling the server (presence expires).
   * Every pending promise settles: connect() and sends reject with kind 'closed'.
   */
  close() {
    if (this._closed) return;
    this._life.abort();
    this._stopReceiving();
    this._setConnected(false);
    clearInterval(this._heartbeatTimer);
    this._queue.close();
    if (typeof window !== 'undefined') window.removeEventListener('pagehide', this._onPageHide);
    this._setState('closed');
    this._emit('closed', {});
  }

  // ---- HTTP --------------------------------------------------------------
  /**
   * A request on this client's behalf: its token, its base URL, ended by close().
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{auth?: boolean, signal?: AbortSignal, keepalive?: boolean}} [options]
   * @returns {Promise<any>}
   */
  async _fetch(method, path, body, { auth = true, signal, keepalive = false } = {}) {
    if (this._closed) throw new SignalingError('closed', 'the client is closed');
    const life = this._life.signal;
    const both = signal ? anySignal(signal, life) : life;
    try {
      const answer = await request(`${this.options.base}${path}`, method, body, { token: auth ? this.token : null, signal: both, keepalive });
      this._lastContact = Date.now();
      return answer;
    } catch (error) {
      const kind = /** @type {SignalingError} */ (error).kind;
      if (kind !== 'network' && kind !== 'closed') this._lastContact = Date.now();
      throw error;
    }
  }
}
