// Waiting in Node logic tests: a macrotask tick, and polling until a condition holds.
import assert from 'node:assert/strict';

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every 2 ms until it is true, or fail naming `what` after `ms`. */
export async function until(check, what, ms = 2000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await tick(2);
  }
  assert.fail(`timed out waiting for ${what}`);
}
