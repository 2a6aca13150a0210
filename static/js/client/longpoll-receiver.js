// Receiving by long-poll: GET /v1/messages?cursor=&wait= in a loop. The first
// poll answers at once (it proves the transport works); later ones wait up to
// `maxWait` seconds. A failed poll waits what the client's backoff says and
// tries again; a 401 means the session ended.

import { sleep } from './http.js';

/**
 * @typedef {import('./receiver.js').ReceiverHooks} ReceiverHooks
 * @typedef {import('./receiver.js').Receiver} Receiver
 */

/**
 * @callback Poll
 * @param {number} wait seconds the server may hold the request
 * @param {AbortSignal} signal aborted by stop()
 * @returns {Promise<{messages?: any[], cursor?: string}>}
 */

/** @implements {Receiver} */
export class LongPollReceiver {
  /**
   * @param {{poll: Poll, maxWait: number}} options
   * @param {ReceiverHooks} hooks
   */
  constructor({ poll, maxWait }, hooks) {
    /** @type {'longpoll'} */
    this.transport = 'longpoll';
    this.poll = poll;
    this.maxWait = maxWait;
    this.hooks = hooks;
    this.stopped = false;
    this.abort = new AbortController();
  }

  start() {
    this._loop();
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
  }

  async _loop() {
    let wait = 0;
    while (!this.stopped) {
      let answer;
      try {
        answer = await this.poll(wait, this.abort.signal);
      } catch (error) {
        if (this.stopped) return;
        const kind = /** @type {{kind?: string}} */ (error)?.kind || 'network';
        if (kind === 'unauthorized') { this.stop(); this.hooks.sessionEnded(); return; }
        await sleep(this.hooks.retrying?.(kind) ?? 1000, this.abort.signal);
        continue;
      }
      if (this.stopped) return;
      this.hooks.open();
      for (const envelope of answer?.messages || []) this.hooks.message(envelope, envelope?.id);
      if (answer?.cursor) this.hooks.cursor?.(answer.cursor);
      wait = this.maxWait;
    }
  }
}
