// One person per browser: only one tab runs the phone. The first tab takes a
// Web Lock; another tab opened later waits for it and says the phone is open
// elsewhere (it takes over by itself once that tab closes, or at once when the
// user presses "use here", which steals the lock: the first tab then signs
// out and says so). Browsers without Web Locks fall back to running anyway.

import { Emitter } from './client/emitter.js';

const LOCK = 'signaling.phone.tab';

export class TabLock extends Emitter {
  constructor(name = LOCK) {
    super();
    this.name = name;
    this.held = false;
    this._release = null;
  }

  /** Resolves true once this tab holds the lock; emits `waiting` if another tab has it. */
  acquire({ steal = false } = {}) {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) { this.held = true; return Promise.resolve(true); }
    return new Promise((resolve) => {
      const hold = () => new Promise((release) => {
        this.held = true;
        this._release = release;
        resolve(true);
      });
      const options = steal ? { steal: true } : { ifAvailable: true };
      locks.request(this.name, options, (lock) => {
        if (lock) return hold();
        // Someone else has it: say so and queue for it.
        this._emit('waiting');
        locks.request(this.name, () => hold()).catch((error) => this._lost(error));
        return undefined;
      }).catch((error) => this._lost(error));
    });
  }

  _lost(error) {
    // AbortError: another tab stole the lock ("use here" over there).
    if (!this.held) return;
    this.held = false;
    this._release = null;
    this._emit('stolen', { error });
  }
}
