// The glue between a transport-agnostic PeerCall and this project's
// SignalingClient: payloads travel as messages of one type (default 'rtc')
// between two peers; ICE candidates ride the client's send batching.
//
//   const call = callOverSignaling(client, { remoteId, callId: 'c1', tracks: { audio: mic } });
//
// Apps that route messages themselves (a room buffering early offers) use
// `signalingSend` for the outgoing half and call `handleMessage(env.data)`.

import { PeerCall } from './call.js';

/**
 * @typedef {import('./call.js').CallPayload} CallPayload
 * @typedef {import('./call.js').PeerCallOptions} PeerCallOptions
 * @typedef {import('./signaling.js').SignalingClient} SignalingClient
 */

/**
 * A PeerCall `send` that delivers payloads to `remoteId` as `type` messages.
 * @param {SignalingClient} client
 * @param {string} remoteId
 * @param {string} [type]
 * @returns {(payload: CallPayload) => Promise<{id: string|null}>}
 */
export function signalingSend(client, remoteId, type = 'rtc') {
  return (payload) => client.send(remoteId, type, payload, { batch: Boolean(payload.candidate) });
}

/**
 * A PeerCall wired both ways to `client`: its payloads go out as `type`
 * messages, and `type` messages from `remoteId` come in; unsubscribed on close.
 * @param {SignalingClient} client a registered client (its peer id and ICE servers are used)
 * @param {Omit<PeerCallOptions, 'send'> & {remoteId: string}} options
 * @param {{type?: string}} [how]
 * @returns {PeerCall}
 */
export function callOverSignaling(client, options, { type = 'rtc' } = {}) {
  const call = new PeerCall({
    localId: client.peerId ?? '',
    iceServers: client.iceServers,
    ...options,
    send: signalingSend(client, options.remoteId, type),
  });
  const off = client.on(type, (envelope) => {
    if (envelope.from === options.remoteId) call.handleMessage(envelope.data);
  });
  call.addEventListener('closed', off, { once: true });
  return call;
}
