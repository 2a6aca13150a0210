// The send queue: ordered sending, one POST at a time. Messages queued while
// a POST is out (or within `batchDelay` ms for {batch: true}) go together as
// one batch POST of up to 100. Every message carries a client id (`cid`) kept
// across resends: a POST whose answer was lost (network failure, 503) is
// resent as is and the server stores it once. A full mailbox (429
// mailbox-full) is retried with backoff until `retryFor` ms have passed;
// 503 and 429 honour Retry-After. close() rejects everything still pending.

import { SignalingError, backoffDelay, sleep } from './http.js';

const MAX_BATCH = 100;
const RETRYABLE = ['network', 'server', 'rate-limited', 'unauthorized', 'mailbox-full', 'peer-offline'];
const HONOURS_RETRY_AFTER = ['rate-limited', 'server', 'mailbox-full', 'peer-offline'];

/**
 * A message as POSTed: to a peer (`to`) or a room (`room`).
 * @typedef {{to?: string, room?: string, type: string, data: unknown, cid?: string}} OutMessage
 * @typedef {{message: OutMessage, resolve: (r: {id: string|null}) => void, reject: (e: unknown) => void, batch: boolean, since: number}} Item
 */

/**
 * @typedef {object} SendQueueOptions
 * @property {(body: unknown, signal: AbortSignal) => Promise<any>} post POST /v1/messages
 * @property {() => Promise<boolean>} reauthenticate after a 401: re-register; false when not allowed
 * @property {(type: string, detail: any) => void} emit send-error, rate-limited, peer-offline
 * @property {number} [batchDelay] ms
 * @property {number} [retryFor] ms to keep retrying a message
 * @property {number} [backoffBase] ms
 * @property {number} [backoffMax] ms
 * @property {string} [cidPrefix] random per page load: cids must not repeat for a sender
 */

export class SendQueue {
  /** @param {SendQueueOptions} options */
  constructor({ post, reauthenticate, emit, batchDelay = 6, retryFor = 20000, backoffBase = 250, backoffMax = 10000, cidPrefix = randomPrefix() }) {
    this.post = post;
    this.reauthenticate = reauthenticate;
    this.emit = emit;
    this.batchDelay = batchDelay;
    this.retryFor = retryFor;
    this.backoffBase = backoffBase;
    this.backoffMax = backoffMax;
    this.cidPrefix = cidPrefix;
    this.counters = { sent: 0, posts: 0, sendRetries: 0 };
    /** @type {Item[]} */
    this._queue = [];
    /** @type {Item[]} the POST being made (or retried) */
    this._inFlight = [];
    /** @type {ReturnType<typeof setTimeout>|null} */
    this._flushTimer = null;
    this._sending = false;
    this._cidCount = 0;
    this._abort = new AbortController();
  }

  get closed() { return this._abort.signal.aborted; }

  /**
   * Queue one message; resolves with {id} (null when the server did not say),
   * rejects with a SignalingError.
   * @param {OutMessage} message
   * @param {boolean} [batch] wait `batchDelay` ms for company
   * @returns {Promise<{id: string|null}>}
   */
  enqueue(message, batch = false) {
    if (this.closed) return Promise.reject(new SignalingError('closed', 'the client is closed'));
    this.counters.sent += 1;
    message.cid = `${this.cidPrefix}-${(this._cidCount++).toString(36)}`;
    return new Promise((resolve, reject) => {
      this._queue.push({ message, resolve, reject, batch, since: Date.now() });
      this._scheduleFlush(batch ? this.batchDelay : 0);
    });
  }

  /** Reject every queued and in-flight message with `closed`, abort the POST. */
  close() {
    if (this.closed) return;
    this._abort.abort();
    if (this._flushTimer) clearTimeout(this._flushTimer);
    const error = new SignalingError('closed', 'the client is closed');
    for (const item of [...this._inFlight, ...this._queue.splice(0)]) item.reject(error);
    this._inFlight = [];
  }

  /** @param {number} delay */
  _scheduleFlush(delay) {
    if (this._sending) return; // the running flush picks the queue up
    if (this._flushTimer && delay > 0) return;
    if (this._flushTimer) clearTimeout(this._flushTimer);
    this._flushTimer = setTimeout(() => { this._flushTimer = null; this._flush(); }, delay);
  }

  async _flush() {
    if (this._sending) return;
    this._sending = true;
    try {
      while (this._queue.length && !this.closed) {
        this._inFlight = this._queue.splice(0, MAX_BATCH);
        await this._post();
        this._inFlight = [];
      }
    } finally {
      this._sending = false;
    }
  }

  async _post() {
    let attempt = 0;
    while (this._inFlight.length && !this.closed) {
      const items = this._inFlight;
      // The same message objects (and so the same cids) on every attempt: a
      // resend after a lost answer is stored once.
      const body = items.length === 1 ? items[0].message : { messages: items.map((i) => i.message) };
      /** @type {SignalingError} */
      let error;
      try {
        this.counters.posts += 1;
        const res = await this.post(body, this._abort.signal);
        if (this.closed) return; // close() settled them
        const ids = items.length === 1 ? [res?.id] : res?.ids || [];
        items.forEach((item, n) => item.resolve({ id: ids[n] ?? null }));
        this._inFlight = [];
        return;
      } catch (caught) {
        if (this.closed) return;
        error = caught instanceof SignalingError ? caught : new SignalingError('network', String(caught));
      }
      const delay = await this._afterRefusal(error, attempt++);
      if (delay === null) return;
      await sleep(delay, this._abort.signal);
    }
  }

  /**
   * Settle what the refusal settles; returns the ms to wait before resending
   * the rest, or null when nothing is left to send.
   * @param {SignalingError} error
   * @param {number} attempt
   * @returns {Promise<number|null>}
   */
  async _afterRefusal(error, attempt) {
    const kind = error.kind;
    if (kind === 'peer-offline' || kind === 'mailbox-full') {
      this._inFlight = this._settleRefused(this._inFlight, error);
      if (!this._inFlight.length) return null;
    }
    const items = this._inFlight;
    const oldest = Math.min(...items.map((i) => i.since));
    if (!RETRYABLE.includes(kind) || Date.now() - oldest > this.retryFor) {
      const final = kind === 'peer-offline' ? new SignalingError('mailbox-full', error.message, error) : error;
      this._fail(final);
      return null;
    }
    this.counters.sendRetries += 1;
    let delay = backoffDelay(attempt, this.backoffBase, this.backoffMax);
    if (HONOURS_RETRY_AFTER.includes(kind)) delay = Math.max(delay, error.retryAfter * 1000);
    if (kind === 'rate-limited') this.emit('rate-limited', { retryAfter: error.retryAfter });
    if (kind === 'unauthorized') {
      if (!(await this.reauthenticate())) { this._fail(error, false); return null; }
      delay = 0;
    }
    return delay;
  }

  /**
   * @param {SignalingError} error
   * @param {boolean} [report] emit send-error
   */
  _fail(error, report = true) {
    const items = this._inFlight;
    this._inFlight = [];
    items.forEach((item) => item.reject(error));
    if (report) this.emit('send-error', { error, messages: items.map((i) => i.message) });
  }

  /**
   * Settle the messages of a 404/429 answer: accepted ones resolve with their
   * id, those to an offline peer reject, those to a full mailbox are returned
   * for another try (the caller backs off until `retryFor`).
   * @param {Item[]} items
   * @param {SignalingError} error
   * @returns {Item[]}
   */
  _settleRefused(items, error) {
    const problem = error.problem || {};
    const ids = problem.ids || [];
    const offline = new Set(problem.offline || []);
    const full = new Set(problem.full || []);
    /** @type {Item[]} */
    const retry = [];
    /** @type {Item[]} */
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
      this.emit('peer-offline', { peers: [...offline], types });
    }
    return retry;
  }
}

/** A client message id prefix, random per page load. */
function randomPrefix() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}
