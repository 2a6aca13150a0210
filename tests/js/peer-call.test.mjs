// Node tests (node --test) for PeerCall's negotiation logic against a fake
// RTCPeerConnection (tests/js/support/fake-rtc.mjs): perfect negotiation with
// glare, trickle candidates waiting for a remote description, call-id
// filtering, ICE restarts, send failures and close. PeerCall only sees
// `send(payload)` and `handleMessage(payload)`, so two of them are joined by an
// in-memory wire with a delay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tick, until } from './support/wait.mjs';

import { PeerCall, isPolite } from '../../static/js/client/call.js';
import { FakePeerConnection, installFakes } from './support/fake-rtc.mjs';

installFakes();



/** Two PeerCalls joined by a wire: 'a' is polite (smaller id), 'b' impolite. */
function pair({ delay = 2, callId = 'c1' } = {}) {
  const wire = { log: [], held: false, queue: [] };
  const calls = {};
  const make = (localId, remoteId) => {
    const call = new PeerCall({
      send: async (payload) => {
        wire.log.push({ from: localId, ...payload });
        const deliver = () => calls[remoteId].handleMessage(structuredClone(payload));
        if (wire.held) wire.queue.push(deliver);
        else setTimeout(deliver, delay);
      },
      localId,
      remoteId,
      callId,
      RTCPeerConnection: FakePeerConnection,
      disconnectedRestartAfter: 20,
    });
    call.errors = [];
    call.addEventListener('error', (e) => call.errors.push(e.detail));
    calls[localId] = call;
    return call;
  };
  const a = make('a', 'b');
  const b = make('b', 'a');
  const release = () => { wire.held = false; for (const deliver of wire.queue.splice(0)) deliver(); };
  return { a, b, wire, release };
}

const stable = (...calls) => calls.every((c) => c.pc.signalingState === 'stable' && c.pc.remoteDescription);

test('the smaller id is polite, and only the impolite side offers first', async () => {
  assert.equal(isPolite('a', 'b'), true);
  assert.equal(isPolite('b', 'a'), false);
  const { a, b, wire } = pair();
  assert.equal(a.polite, true);
  assert.equal(b.polite, false);
  const negotiated = new Promise((resolve) => b.addEventListener('negotiated', resolve, { once: true }));
  await until(() => stable(a, b), 'both stable');
  await negotiated;
  const offers = wire.log.filter((m) => m.description?.type === 'offer');
  assert.deepEqual(offers.map((m) => m.from), ['b']);
  assert.deepEqual(JSON.parse(offers[0].description.sdp).kinds, ['audio', 'video']);
  // The polite side adopted both transceivers and sends on them.
  assert.deepEqual(a.pc.getTransceivers().map((t) => [t.kind, t.direction]), [['audio', 'sendrecv'], ['video', 'sendrecv']]);
  assert.equal(a.remoteStream.getTracks().length, 2);
  await until(() => a.connectionState === 'connected' && b.connectionState === 'connected', 'connected');
  assert.deepEqual([a.errors, b.errors], [[], []]);
  a.close(); b.close();
});

test('every payload carries the call id, and payloads of another call are ignored', async () => {
  const { a, b, wire } = pair({ callId: 'call-7' });
  await until(() => stable(a, b), 'stable');
  assert.ok(wire.log.length >= 3);
  assert.ok(wire.log.every((m) => m.call === 'call-7'));
  const before = a.pc.log.length;
  assert.equal(a.handleMessage({ call: 'other', description: { type: 'offer', sdp: '{"kinds":[],"ufrag":"x"}' } }), false);
  assert.equal(a.handleMessage(null), false);
  await tick(10);
  assert.equal(a.pc.log.length, before);
  a.close(); b.close();
});

test('candidates that arrive before the offer wait for it and are then added', async () => {
  const { a, b, wire, release } = pair();
  wire.held = true;
  await until(() => wire.queue.length >= 2, 'offer and candidate queued'); // b's offer + its candidate
  // Deliver in the worst order: the candidate first.
  const [offer, ...rest] = wire.queue.splice(0);
  for (const deliver of rest) deliver();
  await tick(5);
  assert.equal(a.pc.addedCandidates.length, 0);
  assert.equal(a._pendingCandidates.length, rest.length);
  offer();
  release();
  await until(() => stable(a, b) && a.pc.addedCandidates.length >= 1, 'candidate added after the offer');
  assert.equal(a._pendingCandidates.length, 0);
  assert.deepEqual(a.errors, []);
  a.close(); b.close();
});

test('glare: both offer at once, the polite side rolls back and answers, both end stable', async () => {
  const { a, b, wire, release } = pair();
  await until(() => stable(a, b), 'first negotiation');
  wire.held = true;
  a.restartIce('test');
  b.restartIce('test');
  await until(() => a.pc.signalingState === 'have-local-offer' && b.pc.signalingState === 'have-local-offer', 'both offering');
  release();
  await until(() => stable(a, b) && !wire.queue.length, 'stable again');
  await tick(30);
  await until(() => stable(a, b), 'settled');
  assert.ok(a.pc.log.includes('rollback'), `polite side rolled back: ${a.pc.log}`);
  assert.ok(!b.pc.log.includes('rollback'), `impolite side kept its offer: ${b.pc.log}`);
  // Both ends use each other's newest ICE credentials.
  assert.equal(JSON.parse(a.pc.remoteDescription.sdp).ufrag, b.pc.ufrag);
  assert.equal(JSON.parse(b.pc.remoteDescription.sdp).ufrag, a.pc.ufrag);
  assert.deepEqual([a.errors, b.errors], [[], []]);
  a.close(); b.close();
});

test('ICE failure restarts ICE with a fresh offer; a long disconnect does too', async () => {
  const { a, b, wire } = pair();
  await until(() => stable(a, b) && b.connectionState === 'connected', 'connected');
  const restarts = [];
  b.addEventListener('icerestart', (e) => restarts.push(e.detail.reason));
  const offersBefore = wire.log.filter((m) => m.from === 'b' && m.description?.type === 'offer').length;
  b.pc.setIceState('failed');
  await until(() => wire.log.filter((m) => m.from === 'b' && m.description?.type === 'offer').length > offersBefore, 'restart offer');
  await until(() => stable(a, b), 'stable after restart');
  await tick(10); // the fake reports 'connected' shortly after the answer
  b.pc.setIceState('disconnected');
  await until(() => restarts.length === 2, 'restart after disconnected');
  assert.deepEqual(restarts, ['failed', 'disconnected']);
  assert.equal(b.iceRestarts, 2);
  // A disconnect that recovers in time does not restart.
  await until(() => stable(a, b), 'stable');
  await tick(10);
  b.pc.setIceState('disconnected');
  b.pc.setIceState('connected');
  await tick(40);
  assert.equal(b.iceRestarts, 2);
  a.close(); b.close();
});

test('a send that fails becomes an error event, not an unhandled rejection', async () => {
  const call = new PeerCall({
    send: () => Promise.reject(Object.assign(new Error('offline'), { kind: 'peer-offline' })),
    localId: 'z', remoteId: 'y', RTCPeerConnection: FakePeerConnection,
  });
  const errors = [];
  call.addEventListener('error', (e) => errors.push(e.detail));
  await until(() => errors.length >= 1, 'error event');
  assert.equal(errors[0].where, 'send');
  assert.equal(errors[0].error.kind, 'peer-offline');
  call.close();
  const thrower = new PeerCall({ send: () => { throw new Error('sync'); }, localId: 'z', remoteId: 'y', RTCPeerConnection: FakePeerConnection });
  const more = [];
  thrower.addEventListener('error', (e) => more.push(e.detail.where));
  await until(() => more.length >= 1, 'sync throw reported');
  thrower.close();
});

test('close stops everything: no more payloads out, none accepted in, events once', async () => {
  const { a, b, wire } = pair();
  await until(() => stable(a, b), 'stable');
  const events = [];
  a.addEventListener('closed', () => events.push('closed'));
  a.addEventListener('connectionstatechange', (e) => events.push(e.detail.state));
  a.close();
  a.close();
  assert.deepEqual(events, ['closed', 'closed']);
  const sent = wire.log.length;
  b.restartIce('after close');
  await tick(20);
  assert.equal(a.handleMessage({ call: 'c1', candidate: { candidate: 'x' } }), false);
  assert.equal(wire.log.filter((m) => m.from === 'a').length, wire.log.slice(0, sent).filter((m) => m.from === 'a').length);
  b.close();
});

test('a PeerCall needs a send function', () => {
  assert.throws(() => new PeerCall({ remoteId: 'x', RTCPeerConnection: FakePeerConnection }), TypeError);
});

test('data channel: negotiated id 0 on both sides; sendData only when open', async () => {
  const { a, b } = pair();
  await until(() => stable(a, b), 'stable');
  assert.equal(b.channel.id, 0);
  assert.equal(a.channel.id, 0);
  assert.equal(a.sendData({ hi: 1 }), false);
  a.channel.readyState = 'open';
  assert.equal(a.sendData({ hi: 1 }), true);
  assert.deepEqual(a.channel.sent, ['{"hi":1}']);
  const got = [];
  b.addEventListener('datamessage', (e) => got.push(e.detail.data));
  b.channel.dispatchEvent(Object.assign(new Event('message'), { data: '{"t":"state"}' }));
  b.channel.dispatchEvent(Object.assign(new Event('message'), { data: 'plain' }));
  assert.deepEqual(got, [{ t: 'state' }, 'plain']);
  a.close(); b.close();
});
