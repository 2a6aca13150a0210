// Node tests (node --test) for SignalingClient's send queue, receivers and
// lifecycle, against a scripted fake of the HTTP API (globalThis.fetch) and of
// EventSource. What the real server does is covered by the integration and
// browser tests; these pin the client's own decisions: cids kept across
// resends, mailbox-full retried until the deadline, Retry-After honoured,
// long-poll fallback, dedupe by id, and close() settling everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tick } from './support/wait.mjs';

import { SignalingClient, SignalingError } from '../../static/js/client/signaling.js';


const json = (status, body, headers = {}) => new Response(body === null ? null : JSON.stringify(body), {
  status,
  headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
});

/** A scripted API: `routes[method path]` answers; every request is logged. */
function fakeApi(routes = {}) {
  const api = { log: [], routes, polls: [] };
  api.fetch = async (url, init = {}) => {
    const { pathname, search } = new URL(url, 'http://x');
    const key = `${init.method} ${pathname}`;
    const body = init.body ? JSON.parse(init.body) : undefined;
    api.log.push({ key, body, search });
    if (key === 'POST /v1/sessions') {
      return json(201, { peer_id: body.peer_id || 'p1', name: body.name, token: 't1', ice_servers: [], transports: ['sse', 'longpoll'], heartbeat_interval: 15, longpoll_max_wait: 1 });
    }
    if (key === 'GET /v1/messages') {
      // Long-poll: answer what the test queued, else hang until aborted.
      if (api.polls.length) return json(200, api.polls.shift());
      if (search.includes('wait=0')) return json(200, { messages: [], cursor: '0' }); // the first poll answers at once
      return new Promise((resolve, reject) => {
        const done = () => reject(new DOMException('aborted', 'AbortError'));
        if (init.signal?.aborted) done();
        init.signal?.addEventListener('abort', done);
        api.wake = () => resolve(json(200, api.polls.shift() || { messages: [], cursor: '0' }));
      });
    }
    const route = routes[key];
    if (!route) return json(404, { type: 'about:blank', title: 'no route' });
    return route(body, init);
  };
  globalThis.fetch = api.fetch;
  return api;
}

const client = (options = {}) => new SignalingClient({ readUrlParams: false, leaveOnUnload: false, backoffBase: 5, backoffMax: 20, batchDelay: 1, ...options });

test('lifecycle: idle -> connecting -> open -> closed, and close() rejects connect() and pending sends', async () => {
  const api = fakeApi({ 'POST /v1/messages': () => new Promise(() => {}) }); // sends never answer
  const c = client({ transport: 'longpoll' });
  const states = [];
  c.addEventListener('statechange', (e) => states.push(e.detail.state));
  assert.equal(c.state, 'idle');
  await c.connect('Ann');
  assert.equal(c.state, 'open');
  const first = c.send('p2', 'hello', 1);
  const second = c.send('p2', 'hello', 2);
  await tick(5);
  c.close();
  await assert.rejects(first, (e) => e instanceof SignalingError && e.kind === 'closed');
  await assert.rejects(second, (e) => e.kind === 'closed');
  await assert.rejects(c.send('p2', 'late', 3), (e) => e.kind === 'closed');
  assert.deepEqual(states, ['connecting', 'open', 'closed']);
  assert.ok(api.log.some((r) => r.key === 'GET /v1/messages'));

  // A connect() still waiting for receiving to go live is rejected by close().
  fakeApi();
  const d = client({ transport: 'sse', sseReadyTimeout: 10000 });
  globalThis.EventSource = class extends EventTarget { close() {} };
  const pending = d.connect('Ben');
  await tick(5);
  d.close();
  await assert.rejects(pending, (e) => e.kind === 'closed');
  delete globalThis.EventSource;
});

test('a lost answer is resent with the same cid; a batch keeps its cids', async () => {
  let calls = 0;
  const bodies = [];
  fakeApi({
    'POST /v1/messages': (body) => {
      bodies.push(body);
      calls += 1;
      if (calls === 1) throw new TypeError('network down');
      return json(201, body.messages ? { ids: body.messages.map((_, n) => `9-${n}`) } : { id: '9-0' });
    },
  });
  const c = client({ transport: 'longpoll' });
  await c.connect('Ann');
  const answer = await c.send('p2', 'hello', { a: 1 });
  assert.deepEqual(answer, { id: '9-0' });
  assert.equal(bodies.length, 2);
  assert.ok(bodies[0].cid);
  assert.equal(bodies[1].cid, bodies[0].cid);
  const both = await Promise.all([c.send('p2', 'x', 1, { batch: true }), c.send('p3', 'x', 2, { batch: true })]);
  assert.deepEqual(both, [{ id: '9-0' }, { id: '9-1' }]);
  const batch = bodies.at(-1).messages;
  assert.equal(batch.length, 2);
  assert.notEqual(batch[0].cid, batch[1].cid);
  c.close();
});

test('mailbox-full is retried (honouring Retry-After) and fails with mailbox-full after sendRetryFor', async () => {
  const times = [];
  fakeApi({
    'POST /v1/messages': () => {
      times.push(Date.now());
      return json(429, { type: 'urn:signaling:mailbox-full', title: 'full', full: ['p2'] }, { 'Retry-After': '0' });
    },
  });
  const c = client({ transport: 'longpoll', sendRetryFor: 120 });
  await c.connect('Ann');
  const errors = [];
  c.addEventListener('send-error', (e) => errors.push(e.detail.error.kind));
  await assert.rejects(c.send('p2', 'x', 1), (e) => e.kind === 'mailbox-full');
  assert.ok(times.length >= 3, `retried ${times.length} times`);
  assert.ok(times.at(-1) - times[0] >= 50, 'kept retrying until near the deadline');
  assert.deepEqual(errors, ['mailbox-full']);

  // Retry-After (seconds) sets the floor of the wait.
  const spaced = [];
  fakeApi({
    'POST /v1/messages': () => {
      spaced.push(Date.now());
      return spaced.length === 1 ? json(503, { title: 'down' }, { 'Retry-After': '1' }) : json(201, { id: '5-0' });
    },
  });
  c.close();
  const d = client({ transport: 'longpoll' });
  await d.connect('Ann');
  assert.deepEqual(await d.send('p2', 'x', 1), { id: '5-0' });
  assert.ok(spaced[1] - spaced[0] >= 950, `waited ${spaced[1] - spaced[0]} ms`);
  d.close();
});

test('an offline recipient rejects at once with peer-offline and a peer-offline event', async () => {
  fakeApi({ 'POST /v1/messages': () => json(404, { type: 'urn:signaling:peer-offline', title: 'offline', offline: ['p9'] }) });
  const c = client({ transport: 'longpoll' });
  await c.connect('Ann');
  const seen = [];
  c.addEventListener('peer-offline', (e) => seen.push(e.detail));
  await assert.rejects(c.send('p9', 'hello', 1), (e) => e.kind === 'peer-offline');
  assert.deepEqual(seen, [{ peers: ['p9'], types: ['hello'] }]);
  c.close();
});

test('long-poll delivers each id once, advances the cursor and polls from it', async () => {
  const api = fakeApi();
  const c = client({ transport: 'longpoll' });
  const got = [];
  c.on('hello', (env) => got.push(env.id));
  api.polls.push({ messages: [{ id: '1-0', type: 'hello', from: 'p2', data: 1 }, { id: '2-0', type: 'hello', from: 'p2', data: 2 }], cursor: '2-0' });
  await c.connect('Ann');
  await tick(5);
  api.polls.push({ messages: [{ id: '2-0', type: 'hello', from: 'p2', data: 2 }, { id: '3-0', type: 'hello', from: 'p2', data: 3 }], cursor: '3-0' });
  api.wake();
  await tick(10);
  assert.deepEqual(got, ['1-0', '2-0', '3-0']);
  assert.equal(c.counters.duplicates, 1);
  assert.equal(c.cursor, '3-0');
  assert.match(api.log.filter((r) => r.key === 'GET /v1/messages').at(-1).search, /cursor=3-0/);
  c.close();
});

test('SSE that never says ready falls back to long-poll', async () => {
  fakeApi();
  const opened = [];
  globalThis.EventSource = class extends EventTarget {
    constructor(url) { super(); opened.push(url); }
    close() { this.closed = true; }
  };
  const c = client({ sseReadyTimeout: 20 });
  const changes = [];
  c.addEventListener('transportchange', (e) => changes.push(e.detail));
  await c.connect('Ann');
  assert.equal(c.transport, 'longpoll');
  assert.deepEqual(changes, [{ transport: 'longpoll', reason: 'sse-silent' }]);
  assert.match(opened[0], /\/v1\/events\?token=t1/);
  c.close();
  delete globalThis.EventSource;
});

test('SSE messages are acknowledged by heartbeat after ackEvery messages', async () => {
  const acks = [];
  fakeApi({ 'POST /v1/sessions/me/heartbeat': (body) => { acks.push(body); return json(200, { ok: true }); } });
  let source;
  globalThis.EventSource = class extends EventTarget {
    constructor(url) { super(); source = this; this.url = url; }
    close() {}
  };
  const c = client({ ackEvery: 2 });
  const connected = c.connect('Ann');
  await tick(2);
  source.dispatchEvent(new Event('ready'));
  await connected;
  for (const id of ['4-0', '5-0']) {
    source.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify({ id, type: 't', from: 'p2' }), lastEventId: id }));
  }
  await tick(5);
  assert.deepEqual(acks, [{ ack: '5-0' }]);
  c.close();
  delete globalThis.EventSource;
});

test('a failing poll goes reconnecting and back to open; a 401 re-registers with the same id and rejoins rooms', async () => {
  const api = fakeApi({ 'POST /v1/rooms/r1/members': () => json(200, { room: 'r1', members: [], capacity: 6 }) });
  const c = client({ transport: 'longpoll' });
  const states = [];
  c.addEventListener('statechange', (e) => states.push(e.detail.state));
  await c.connect('Ann', 'p7');
  await c.joinRoom('r1');
  // The next poll fails at the network level, the one after is a 401.
  const original = api.fetch;
  let polls = 0;
  globalThis.fetch = async (url, init) => {
    if (String(url).includes('/v1/messages?')) {
      polls += 1;
      if (polls === 1) throw new TypeError('network down');
      if (polls === 2) return json(401, { title: 'session ended' });
    }
    return original(url, init);
  };
  api.wake(); // end the poll that is waiting
  await new Promise((resolve) => c.addEventListener('registered', resolve, { once: true }));
  await tick(20);
  assert.equal(c.state, 'open');
  assert.ok(states.includes('reconnecting'), states.join());
  const registrations = api.log.filter((r) => r.key === 'POST /v1/sessions');
  assert.equal(registrations.length, 2);
  assert.equal(registrations[1].body.peer_id, 'p7');
  assert.equal(api.log.filter((r) => r.key === 'POST /v1/rooms/r1/members').length, 2);
  c.close();
  assert.equal(c.state, 'closed');
});
