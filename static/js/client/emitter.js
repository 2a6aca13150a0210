// Emitter: the one event base of the client and the apps. EventTarget with
// CustomEvent details, so listeners use the platform's addEventListener and
// nothing here needs a polyfill (Node 19+ has both). The listener types say
// CustomEvent, so checked callers read `event.detail` without a cast.

/** @typedef {((event: CustomEvent) => void) | {handleEvent(event: CustomEvent): void}} Listener */

export class Emitter extends EventTarget {
  /**
   * @param {string} type
   * @param {Listener|null} listener
   * @param {boolean|AddEventListenerOptions} [options]
   */
  addEventListener(type, listener, options) {
    super.addEventListener(type, /** @type {EventListenerOrEventListenerObject|null} */ (listener), options);
  }

  /**
   * @param {string} type
   * @param {Listener|null} listener
   * @param {boolean|EventListenerOptions} [options]
   */
  removeEventListener(type, listener, options) {
    super.removeEventListener(type, /** @type {EventListenerOrEventListenerObject|null} */ (listener), options);
  }

  /**
   * Dispatch `type` with `detail` as a CustomEvent.
   * @param {string} type
   * @param {any} [detail]
   * @returns {boolean} false when a listener called preventDefault()
   */
  _emit(type, detail) {
    return this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
