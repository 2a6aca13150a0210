// HTTP for the signaling client: one request helper that turns every answer
// that is not 2xx into a SignalingError carrying the problem+json body, the
// status and Retry-After, so callers decide on `kind` alone.

/**
 * What went wrong, coarse enough to decide on:
 * network | closed | peer-offline | rate-limited | mailbox-full | unauthorized | invalid | server
 * @typedef {'network'|'closed'|'peer-offline'|'rate-limited'|'mailbox-full'|'unauthorized'|'invalid'|'server'} ErrorKind
 */

/** An HTTP or network failure, with the problem+json body when there is one. */
export class SignalingError extends Error {
  /**
   * @param {ErrorKind} kind
   * @param {string} message
   * @param {{status?: number, problem?: any, retryAfter?: number}} [extra]
   */
  constructor(kind, message, { status = 0, problem = null, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'SignalingError';
    this.kind = kind;
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter; // seconds
  }
}

/**
 * @typedef {object} RequestOptions
 * @property {string|null} [token] sent as a Bearer token
 * @property {AbortSignal} [signal] aborting rejects with kind 'closed'
 * @property {boolean} [keepalive]
 */

/**
 * One JSON request. Resolves with the parsed body (null for 204); rejects
 * with a SignalingError.
 * @param {string} url
 * @param {string} method
 * @param {unknown} [body] JSON-encoded when not undefined
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(url, method, body, { token = null, signal, keepalive = false } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      keepalive,
      cache: 'no-store',
    });
  } catch (error) {
    if (signal?.aborted) throw new SignalingError('closed', 'aborted');
    throw new SignalingError('network', /** @type {Error} */ (error)?.message || 'network error');
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* empty or not JSON */ }
  if (res.ok) return data;
  throw errorFor(res.status, data, Number(res.headers.get('Retry-After')) || 0);
}

/**
 * The SignalingError for a refused request.
 * @param {number} status
 * @param {any} problem the problem+json body (or null)
 * @param {number} retryAfter seconds
 * @returns {SignalingError}
 */
export function errorFor(status, problem, retryAfter) {
  const slug = String(problem?.type || '').split(':').pop();
  /** @type {ErrorKind} */
  let kind = 'invalid';
  if (status === 401) kind = 'unauthorized';
  else if (status === 404 && slug === 'peer-offline') kind = 'peer-offline';
  else if (status === 429) kind = slug === 'mailbox-full' ? 'mailbox-full' : 'rate-limited';
  else if (status >= 500) kind = 'server';
  const message = problem?.detail || problem?.title || `HTTP ${status}`;
  return new SignalingError(kind, message, { status, problem, retryAfter });
}

/** Exponential backoff with full jitter: a random delay in [d/2, d].
 * @param {number} attempt 0 for the first retry
 * @param {number} [base] ms
 * @param {number} [max] ms
 * @param {() => number} [random]
 * @returns {number} ms
 */
export function backoffDelay(attempt, base = 250, max = 10000, random = Math.random) {
  const d = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(d / 2 + (random() * d) / 2);
}

/**
 * A sleep that ends early (resolving) when `signal` aborts, so close() never
 * waits for a backoff to run out.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
