// Receiving over Server-Sent Events. EventSource's own reconnects are not
// used: on the first error the stream is closed and the client reconnects
// from its cursor (with backoff, after asking the server why), so a stream
// that stays silent or keeps failing can fall back to long-poll.

/**
 * @typedef {import('./receiver.js').ReceiverHooks} ReceiverHooks
 * @typedef {import('./receiver.js').Receiver} Receiver
 */

/** @implements {Receiver} */
export class SseReceiver {
  /**
   * @param {{url: string, readyTimeout: number, EventSource?: typeof EventSource}} options
   *   url: /v1/events with token and last_event_id; readyTimeout: ms to wait for `ready`
   * @param {ReceiverHooks} hooks
   */
  constructor({ url, readyTimeout, EventSource: Source = globalThis.EventSource }, hooks) {
    /** @type {'sse'} */
    this.transport = 'sse';
    this.url = url;
    this.readyTimeout = readyTimeout;
    this.Source = Source;
    this.hooks = hooks;
    this.stopped = false;
    this.readyAt = 0; // when the `ready` event came
    /** @type {EventSource|null} */
    this.es = null;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
  }

  start() {
    const es = new this.Source(this.url);
    this.es = es;
    this.timer = setTimeout(() => {
      if (this.stopped || this.readyAt) return;
      this.stop();
      this.hooks.fallback?.('sse-silent');
    }, this.readyTimeout);
    es.addEventListener('ready', () => {
      if (this.stopped) return;
      this.readyAt = Date.now();
      clearTimeout(this.timer);
      this.hooks.open();
    });
    es.addEventListener('message', (event) => {
      if (this.stopped) return;
      let envelope;
      try { envelope = JSON.parse(event.data); } catch { return; }
      this.hooks.message(envelope, event.lastEventId || envelope?.id);
    });
    es.addEventListener('end', () => {
      // The server ends streams routinely (`event: end` before `retry:`).
      if (this.stopped) return;
      this.stop();
      this.hooks.ended?.();
    });
    es.addEventListener('session-ended', () => {
      if (this.stopped) return;
      this.stop();
      this.hooks.sessionEnded();
    });
    es.addEventListener('error', () => {
      if (this.stopped) return;
      this.stop();
      this.hooks.failed?.({ readyAt: this.readyAt });
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
  }
}
