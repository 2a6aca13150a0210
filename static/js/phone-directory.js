// PhoneDirectory: the phone's view of GET /v1/peers (people who registered
// with listed: true). Scales to many people: the server searches (`q`, a
// case-insensitive prefix of a name or number) and pages (`limit`, and the
// opaque `next` cursor handed back as `after`); the phone shows one page and
// a "show more" button. Polling is cheap: each refresh sends If-None-Match
// with the last ETag and a 304 means nothing changed (the version moves only
// when someone is listed, unlisted or renamed). No DOM here.
//
// Events (CustomEvent): change {peers, total, more}   error {error}

import { Emitter } from './client/emitter.js';

const PAGE = 50;

/** @typedef {{peer_id: string, name: string}} Peer */

export class PhoneDirectory extends Emitter {
  /**
   * @param {{client: {token: string|null, peerId: string|null}, base?: string, every?: number, page?: number}} options
   */
  constructor({ client, base = '', every = 3000, page = PAGE }) {
    super();
    this.client = client;
    this.base = base;
    this.every = every;
    this.page = page;
    this.query = '';
    /** @type {Peer[]} */
    this.peers = [];
    this.total = 0;
    this.next = null; // cursor of the page after the ones shown
    this.pages = 1; // how many pages the user asked to see
    this.requests = 0; // counters, for tests and the curious
    this.notModified = 0;
    this._etag = null;
    this._gone = new Set(); // peers we know left, hidden until the directory changes
    this._timer = null;
    this._running = false;
    this._stopped = true;
  }

  start() {
    this._stopped = false;
    this.refresh();
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._timer);
  }

  /** Search by name or number prefix (server-side); resets paging. */
  search(query) {
    const q = String(query || '').trim();
    if (q === this.query) return;
    this.query = q;
    this.pages = 1;
    this._etag = null;
    this.refresh();
  }

  /** Show one more page. */
  more() {
    if (!this.next) return;
    this.pages += 1;
    this._etag = null;
    this.refresh();
  }

  /** A peer is known to be gone (a send answered 404): hide it now, re-read soon. */
  forget(peerId) {
    this._gone.add(peerId);
    this._etag = null;
    this._emitChange();
    this.refresh();
  }

  /** Fetch now (coalesced with a running fetch), then keep polling. */
  async refresh() {
    clearTimeout(this._timer);
    if (this._stopped) return;
    if (this._running) { this._again = true; return; }
    this._running = true;
    try {
      await this._load();
    } catch (error) {
      this._emit('error', { error });
    } finally {
      this._running = false;
    }
    if (this._again) { this._again = false; return this.refresh(); }
    if (!this._stopped) this._timer = setTimeout(() => this.refresh(), this.every);
  }

  async _load() {
    const token = this.client.token;
    if (!token) return;
    const query = this.query;
    const first = await this._fetchPage('', token, this._etag);
    if (first === null) { this.notModified += 1; return; } // 304: nothing changed
    let peers = first.peers;
    let next = first.next;
    for (let n = 1; n < this.pages && next; n++) {
      const page = await this._fetchPage(next, token, null);
      peers = peers.concat(page.peers);
      next = page.next;
    }
    if (query !== this.query) return; // the user typed meanwhile; that search runs next
    this._etag = first.etag;
    this._gone.clear();
    this.peers = peers;
    this.total = first.total ?? peers.length;
    this.next = next || null;
    this._emitChange();
  }

  async _fetchPage(after, token, etag) {
    const params = new URLSearchParams({ limit: String(this.page) });
    if (this.query) params.set('q', this.query);
    if (after) params.set('after', after);
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${token}` };
    if (etag) headers['If-None-Match'] = etag;
    this.requests += 1;
    const res = await fetch(`${this.base}/v1/peers?${params}`, { headers, cache: 'no-store' });
    if (res.status === 304) return null;
    if (!res.ok) throw new Error(`GET /v1/peers: HTTP ${res.status}`);
    const body = await res.json();
    return { peers: Array.isArray(body.peers) ? body.peers : [], total: body.total, next: body.next, etag: res.headers.get('ETag') };
  }

  /** What to show: not me, not known-gone, matching the search (also when a server ignores q). */
  visible() {
    const me = this.client.peerId;
    const q = this.query.toLowerCase();
    return this.peers.filter((p) => p.peer_id !== me && !this._gone.has(p.peer_id)
      && (!q || p.name.toLowerCase().startsWith(q) || p.peer_id.toLowerCase().startsWith(q)));
  }

  _emitChange() {
    const peers = this.visible();
    const meListed = this.peers.some((p) => p.peer_id === this.client.peerId);
    const total = Math.max(peers.length, this.total - (meListed ? 1 : 0) - this._gone.size);
    this._emit('change', { peers, total, more: Boolean(this.next) });
  }
}
