// Emitter: the one event base of the client and the apps. EventTarget with
// CustomEvent details, so listeners use the platform's addEventListener and
// nothing here needs a polyfill (Node 19+ has both).

export class Emitter extends EventTarget {
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
