// Node tests (node --test) for the phone's call-flow state machine and the
// client library's pure helpers. PhoneLine runs unchanged; signaling is an
// in-memory bus with the same send/on/peer-offline surface as SignalingClient,
// and PeerCall is replaced by a stub (no WebRTC in Node). Run by
// tests/js/test_node.py, or directly: node --test tests/js
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tick, until } from './support/wait.mjs';

import { isPolite, qualityOf } from '../../static/js/client/call.js';
import { mediaErrorReason, PhoneLine } from '../../static/js/phone-call.js';
import { backoffDelay, compareIds } from '../../static/js/client/signaling.js';


class Bus {
  constructor() { this.peers = new Map(); this.seq = 0; this.log = []; }
}

class FakeSignaling extends EventTarget {
  constructor(bus, peerId, name) {
    super();
    this.bus = bus;
    this.peerId = peerId;
    this.name = name;
    this.iceServers = [];
    bus.peers.set(peerId, this);
  }

  on(type, handler) {
    const listener = (e) => handler(e.detail);
    this.addEventListener(`message:${type}`, listener);
    return () => this.removeEventListener(`message:${type}`, listener);
  }

  async send(to, type, data) {
    await tick(1);
    const peer = this.bus.peers.get(to);
    this.bus.log.push({ from: this.peerId, to, type, data });
    if (!peer) {
      const error = Object.assign(new Error('offline'), { kind: 'peer-offline' });
      this.dispatchEvent(new CustomEvent('peer-offline', { detail: { peers: [to], types: [type] } }));
      throw error;
    }
    const envelope = { id: `${++this.bus.seq}-0`, type, data, from: this.peerId, from_name: this.name };
    setTimeout(() => peer.dispatchEvent(new CustomEvent(`message:${type}`, { detail: envelope })), 1);
    return { id: envelope.id };
  }
}

class FakeCall extends EventTarget {
  constructor(options) {
    super();
    this.options = options;
    this.closed = false;
    setTimeout(() => {
      if (!this.closed) this.dispatchEvent(new CustomEvent('connectionstatechange', { detail: { state: 'connected' } }));
    }, 5);
  }
  async setTrack(kind, track) { this.options.tracks[kind] = track; }
  handleMessage(payload) { (this.received ||= []).push(payload); return true; }
  close() { this.closed = true; }
}

function microphone({ deny = null, delay = 0 } = {}) {
  return async () => {
    if (delay) await tick(delay);
    if (deny) throw Object.assign(new Error(deny), { name: deny });
    const track = { kind: 'audio', enabled: true, stop() { this.stopped = true; } };
    return { getAudioTracks: () => [track], getVideoTracks: () => [], getTracks: () => [track] };
  };
}

function person(bus, id, name, options = {}) {
  const signaling = new FakeSignaling(bus, id, name);
  const line = new PhoneLine({
    signaling,
    ringTimeout: options.ringTimeout ?? 2000,
    getUserMedia: options.getUserMedia ?? microphone(),
    createCall: (opts) => new FakeCall(opts),
  });
  const events = [];
  for (const type of ['statechange', 'incoming', 'ended', 'missed']) {
    line.addEventListener(type, (e) => events.push({ type, ...e.detail }));
  }
  return { signaling, line, events, id, name };
}


const ended = (p) => p.events.filter((e) => e.type === 'ended').map((e) => e.reason);

test('a call rings, is accepted, connects and hangs up on both sides', async () => {
  const bus = new Bus();
  const a = person(bus, '100', 'Ann');
  const b = person(bus, '200', 'Ben');
  await a.line.dial('200', 'Ben');
  await until(() => b.line.state === 'incoming', 'incoming');
  assert.equal(b.line.peer.name, 'Ann');
  assert.equal(a.line.state, 'calling');
  await b.line.accept();
  await until(() => a.line.state === 'in-call' && b.line.state === 'in-call', 'in-call');
  assert.equal(a.line.call.options.callId, b.line.call.options.callId);
  assert.equal(a.line.call.options.remoteId, '200');
  a.line.hangup();
  await until(() => b.line.state === 'idle', 'remote hang-up');
  assert.deepEqual(ended(a), ['hangup']);
  assert.deepEqual(ended(b), ['remote-hangup']);
});

test('decline ends the call on both sides', async () => {
  const bus = new Bus();
  const a = person(bus, '100', 'Ann');
  const b = person(bus, '200', 'Ben');
  await a.line.dial('200', 'Ben');
  await until(() => b.line.state === 'incoming', 'incoming');
  b.line.decline();
  await until(() => a.line.state === 'idle', 'declined');
  assert.deepEqual(ended(a), ['remote-declined']);
  assert.deepEqual(ended(b), ['declined']);
});

test('a third caller gets busy and the callee keeps a missed-call note', async () => {
  const bus = new Bus();
  const a = person(bus, '100', 'Ann');
  const b = person(bus, '200', 'Ben');
  const c = person(bus, '300', 'Cat');
  await a.line.dial('200', 'Ben');
  await until(() => b.line.state === 'incoming', 'incoming');
  await b.line.accept();
  await until(() => b.line.state === 'in-call', 'in-call');
  await c.line.dial('200', 'Ben');
  await until(() => c.line.state === 'idle', 'busy');
  assert.deepEqual(ended(c), ['busy']);
  assert.equal(b.line.state, 'in-call');
  assert.equal(b.line.missed[0].name, 'Cat');
  assert.equal(b.line.missed[0].reason, 'busy');
});

for (const [label, slowMic] of [['both invites out', null], ['one microphone slow', 'Ben']]) {
  test(`calling each other at once makes one call (${label})`, async () => {
    const bus = new Bus();
    const a = person(bus, '100', 'Ann');
    const b = person(bus, '200', 'Ben', { getUserMedia: microphone({ delay: slowMic === 'Ben' ? 30 : 0 }) });
    await Promise.all([a.line.dial('200', 'Ben'), b.line.dial('100', 'Ann')]);
    await until(() => a.line.state === 'in-call' && b.line.state === 'in-call', 'in-call');
    assert.equal(a.line.callId, b.line.callId);
    assert.equal(a.line.call.options.callId, b.line.call.options.callId);
    assert.deepEqual(ended(a), []);
    assert.deepEqual(ended(b), []);
    await tick(20);
    assert.ok(b.line.call.options.tracks.audio, 'the late microphone is attached to the call');
  });
}

test('an unanswered call times out: no-answer for the caller, missed for the callee', async () => {
  const bus = new Bus();
  const a = person(bus, '100', 'Ann', { ringTimeout: 40 });
  const b = person(bus, '200', 'Ben', { ringTimeout: 40 });
  await a.line.dial('200', 'Ben');
  await until(() => a.line.state === 'idle' && b.line.state === 'idle', 'timeout');
  assert.deepEqual(ended(a), ['no-answer']);
  assert.deepEqual(ended(b), ['missed']);
  assert.equal(b.line.missed[0].name, 'Ann');
});

test('microphone denied and offline peers end the attempt with a reason', async () => {
  const bus = new Bus();
  const a = person(bus, '100', 'Ann', { getUserMedia: microphone({ deny: 'NotAllowedError' }) });
  person(bus, '200', 'Ben');
  await a.line.dial('200', 'Ben');
  assert.deepEqual(ended(a), ['mic-denied']);
  const c = person(bus, '300', 'Cat');
  await c.line.dial('999', 'Nobody');
  await until(() => c.line.state === 'idle', 'offline');
  assert.deepEqual(ended(c), ['offline']);
  assert.equal(mediaErrorReason({ name: 'NotFoundError' }), 'no-mic');
});

test('helpers: stream id order, backoff bounds, politeness, quality', () => {
  assert.ok(compareIds('1700000000000-1', '1700000000000-0') > 0);
  assert.ok(compareIds('999-5', '1000-0') < 0);
  assert.ok(compareIds('0', '1-0') < 0);
  assert.equal(compareIds('5-3', '5-3'), 0);
  for (let attempt = 0; attempt < 12; attempt++) {
    const cap = Math.min(10000, 250 * 2 ** attempt);
    for (const r of [0, 0.5, 0.999]) {
      const d = backoffDelay(attempt, 250, 10000, () => r);
      assert.ok(d >= cap / 2 && d <= cap, `attempt ${attempt}: ${d}`);
    }
  }
  assert.notEqual(isPolite('a', 'b'), isPolite('b', 'a'));
  assert.equal(qualityOf({ rtt: 20, packetLoss: 0, state: 'connected' }), 'good');
  assert.equal(qualityOf({ rtt: 300, packetLoss: 0.03, state: 'connected' }), 'fair');
  assert.equal(qualityOf({ rtt: 900, packetLoss: 0.2, state: 'connected' }), 'poor');
  assert.equal(qualityOf({ rtt: 20, packetLoss: 0, state: 'connecting' }), 'unknown');
});
