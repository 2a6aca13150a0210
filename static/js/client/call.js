// PeerCall: one RTCPeerConnection to one remote peer. Knows nothing about
// phones, rooms, the DOM or how signaling travels: like the W3C
// perfect-negotiation example and simple-peer, it hands every outgoing
// signaling payload to `send(payload)` and is fed incoming ones through
// `handleMessage(payload)`. Any channel works (this project's SignalingClient
// through `signalingTransport`, a WebSocket, copy/paste).
//
//   const call = new PeerCall({ send: (p) => ws.send(JSON.stringify(p)), localId: 'a', remoteId: 'b',
//                               callId: 'c1', tracks: { audio: micTrack } });
//   ws.onmessage = (e) => call.handleMessage(JSON.parse(e.data));
//   call.addEventListener('track', () => video.srcObject = call.remoteStream);
//   call.setTrack('video', camTrack);   // later; no renegotiation (replaceTrack)
//   call.setEnabled('audio', false);    // mute (track.enabled)
//   call.sendData({ text: 'hi' });      // over the RTCDataChannel (if dataChannel: true)
//   const s = await call.stats();       // {rtt, packetLoss, inboundKbps, bytesReceived, ...}; also call.lastStats
//   call.close();
//
// W3C "perfect negotiation": the polite side is decided from the two peer ids
// (the smaller id is polite), so both ends agree without talking. Glare is
// resolved by the polite side rolling back. Trickle ICE: local candidates go
// out as they come (`send` may batch them), remote ones wait until a remote
// description is set. ICE restarts when the connection fails (or stays
// disconnected for `disconnectedRestartAfter` ms).
//
// Media layout that works whoever joins first and whoever has which device:
// the impolite side creates one audio and one video transceiver (sendrecv)
// up front; the polite side adopts them from the offer. So both directions of
// audio and video exist from the first negotiation and any track (mic, camera,
// screen, a different device) is attached later with replaceTrack. A
// negotiated data channel (id 0) needs no extra offer/answer round.
//
// Payloads: {call, description} or {call, candidate}; `call` is the callId
// (payloads for another callId are ignored, so a stale call cannot disturb a
// new one).
//
// Events (CustomEvent): track {track, kind, streams}  connectionstatechange {state}
//   iceconnectionstatechange {state}  signalingstatechange {state}  negotiated {}
//   trackunmute {track, kind}  candidateerror {error}
//   datachannelopen {}  datachannelclose {}  datamessage {data}  icerestart {reason}
//   error {error, where}  closed {}

import { Emitter } from './emitter.js';

/**
 * What stats() reads out.
 * @typedef {object} CallStats
 * @property {number|null} rtt ms
 * @property {number} packetsLost
 * @property {number} packetsReceived
 * @property {number} packetLoss 0..1
 * @property {number} bytesReceived
 * @property {number} bytesSent
 * @property {number} audioBytesReceived
 * @property {number} videoBytesReceived
 * @property {number|null} inboundKbps
 * @property {RTCPeerConnectionState} state
 * @property {'good'|'fair'|'poor'|'unknown'} quality
 */

/**
 * A signaling payload of one call.
 * @typedef {object} CallPayload
 * @property {string} call the callId
 * @property {RTCSessionDescriptionInit} [description]
 * @property {RTCIceCandidateInit} [candidate]
 */

/**
 * @typedef {object} PeerCallOptions
 * @property {(payload: CallPayload) => (void | Promise<unknown>)} send delivers a payload to the other side
 *   (a rejected promise becomes an `error` event with where: 'send')
 * @property {string} [localId] our peer id (decides politeness with remoteId)
 * @property {string} [remoteId] the other side's peer id
 * @property {string} [callId] tags every payload; payloads of another call are ignored
 * @property {RTCIceServer[]} [iceServers]
 * @property {{audio?: MediaStreamTrack|null, video?: MediaStreamTrack|null}} [tracks]
 * @property {boolean} [polite] overrides the id comparison
 * @property {string[]} [kinds] transceivers the impolite side creates
 * @property {boolean} [dataChannel] open a negotiated data channel (id 0)
 * @property {number} [disconnectedRestartAfter] ms in `disconnected` before an ICE restart
 * @property {RTCConfiguration} [rtcConfig]
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] for Node or tests (like simple-peer's wrtc)
 */

const KINDS = ['audio', 'video'];

/**
 * RTCRtpTransceiver.stopped is gone from the spec (currentDirection 'stopped'
 * replaced it) but older browsers have only the flag.
 * @param {RTCRtpTransceiver} transceiver
 * @returns {boolean}
 */
const stopped = (transceiver) => /** @type {any} */ (transceiver).stopped === true || transceiver.currentDirection === 'stopped';

/**
 * The polite side of a pair: the smaller id (both ends agree without talking).
 * @param {string} localId
 * @param {string} remoteId
 * @returns {boolean}
 */
export function isPolite(localId, remoteId) {
  return String(localId) < String(remoteId);
}

export class PeerCall extends Emitter {
  /** @param {PeerCallOptions} options */
  constructor({
    send,
    remoteId = '',
    localId = '',
    callId = '',
    iceServers = [],
    tracks = {},
    polite = isPolite(localId, remoteId),
    kinds = KINDS,
    dataChannel = true,
    disconnectedRestartAfter = 4000,
    rtcConfig = {},
    RTCPeerConnection: PeerConnection = globalThis.RTCPeerConnection,
  }) {
    super();
    if (typeof send !== 'function') throw new TypeError('PeerCall needs a send(payload) function');
    this._send = send;
    this.remoteId = remoteId;
    this.localId = localId;
    this.callId = callId;
    this.polite = polite;
    this.kinds = kinds;
    this.disconnectedRestartAfter = disconnectedRestartAfter;
    this.remoteStream = new MediaStream();
    /** @type {{[kind: string]: MediaStreamTrack|null}} */
    this.localTracks = { audio: null, video: null, ...tracks };
    this.closed = false;
    /** @type {{[what: string]: number}} */
    this.timings = { created: performance.now() };
    this.iceRestarts = 0;
    this.candidateErrors = 0;

    this._makingOffer = false;
    this._ignoreOffer = false;
    this._settingAnswer = false;
    /** @type {RTCIceCandidateInit[]} */
    this._pendingCandidates = [];
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this._disconnectTimer = undefined;
    /** @type {{at: number, bytes: number}|null} */
    this._lastStats = null;
    /** @type {Promise<void>} incoming payloads are applied one at a time, in order */
    this._chain = Promise.resolve();
    /** @type {CallStats|null} the latest stats() result, for synchronous readers */
    this.lastStats = null;

    // max-bundle: one transport (one set of candidates) for audio, video and data.
    this.pc = new PeerConnection({ bundlePolicy: 'max-bundle', ...rtcConfig, iceServers });
    this._wire();
    if (!polite) {
      for (const kind of kinds) {
        this.pc.addTransceiver(this.localTracks[kind] || kind, { direction: 'sendrecv' });
      }
    }
    /** @type {RTCDataChannel|null} */
    this.channel = null;
    this._wantChannel = dataChannel;
    // The impolite side opens the channel now (it goes into the first offer);
    // the polite side opens its twin once that offer is applied, so it never
    // starts a negotiation of its own for it.
    if (dataChannel && !polite) this._openChannel();
  }

  get connectionState() { return this.pc.connectionState; }

  // ---- media -------------------------------------------------------------
  /**
   * The transceiver carrying `kind` (audio|video), once negotiated or created.
   * @param {string} kind
   * @returns {RTCRtpTransceiver|null}
   */
  transceiver(kind) {
    return this.pc.getTransceivers().find((t) => !stopped(t) && (t.sender.track?.kind === kind || t.receiver.track?.kind === kind)) || null;
  }

  /**
   * Attach, swap or remove (null) the local track for `kind` without renegotiation.
   * @param {string} kind
   * @param {MediaStreamTrack|null} track
   */
  async setTrack(kind, track) {
    this.localTracks[kind] = track;
    const transceiver = this.transceiver(kind);
    if (transceiver) await transceiver.sender.replaceTrack(track);
  }

  /**
   * Mute or unmute the local track of `kind` (keeps the track and the camera/mic open).
   * @param {string} kind
   * @param {boolean} enabled
   */
  setEnabled(kind, enabled) {
    const track = this.localTracks[kind];
    if (track) track.enabled = enabled;
  }

  _adoptTransceivers() {
    // The polite side answers the impolite side's transceivers: send our tracks on them.
    for (const transceiver of this.pc.getTransceivers()) {
      const kind = transceiver.receiver.track?.kind;
      if (!kind || stopped(transceiver) || !this.kinds.includes(kind)) continue;
      if (transceiver.direction !== 'sendrecv') transceiver.direction = 'sendrecv';
      const track = this.localTracks[kind] || null;
      if (transceiver.sender.track !== track) transceiver.sender.replaceTrack(track).catch(() => {});
    }
  }

  // ---- negotiation -------------------------------------------------------
  _wire() {
    const pc = this.pc;
    pc.addEventListener('negotiationneeded', async () => {
      try {
        this._makingOffer = true;
        await pc.setLocalDescription();
        this._sendSignal({ description: /** @type {RTCSessionDescription} */ (pc.localDescription).toJSON() });
      } catch (error) {
        this._error(error, 'negotiationneeded');
      } finally {
        this._makingOffer = false;
      }
    });
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate) this._sendSignal({ candidate: candidate.toJSON() });
    });
    pc.addEventListener('track', (event) => {
      const { track } = event;
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      track.addEventListener('unmute', () => {
        const key = `firstRemote${track.kind === 'audio' ? 'Audio' : 'Video'}`;
        if (!this.timings[key]) this.timings[key] = performance.now();
        this._emit('trackunmute', { track, kind: track.kind });
      });
      this._emit('track', { track, kind: track.kind, streams: event.streams });
    });
    pc.addEventListener('connectionstatechange', () => {
      const state = pc.connectionState;
      if (state === 'connected' && !this.timings.connected) this.timings.connected = performance.now();
      this._emit('connectionstatechange', { state });
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      const state = pc.iceConnectionState;
      if ((state === 'connected' || state === 'completed') && !this.timings.iceConnected) {
        this.timings.iceConnected = performance.now();
      }
      this._emit('iceconnectionstatechange', { state });
      clearTimeout(this._disconnectTimer);
      if (state === 'failed') this.restartIce('failed');
      else if (state === 'disconnected') {
        this._disconnectTimer = setTimeout(() => {
          if (pc.iceConnectionState === 'disconnected') this.restartIce('disconnected');
        }, this.disconnectedRestartAfter);
      }
    });
    pc.addEventListener('signalingstatechange', () => this._emit('signalingstatechange', { state: pc.signalingState }));
  }

  /**
   * Feed a payload the other side sent; returns true when it belonged to this call.
   * @param {Partial<CallPayload>|null|undefined} payload
   * @returns {boolean}
   */
  handleMessage(payload) {
    if (this.closed || !payload || typeof payload !== 'object') return false;
    if ((payload.call ?? '') !== this.callId) return false;
    this._chain = this._chain.then(() => this._onSignal(payload)).catch((error) => this._error(error, 'signal'));
    return true;
  }

  /** @param {Partial<CallPayload>} payload */
  async _onSignal({ description, candidate }) {
    if (this.closed) return;
    const pc = this.pc;
    if (description) {
      // An answer is fine to apply while we are in the middle of setting one.
      const readyForOffer = !this._makingOffer && (pc.signalingState === 'stable' || this._settingAnswer);
      const collision = description.type === 'offer' && !readyForOffer;
      this._ignoreOffer = !this.polite && collision;
      if (this._ignoreOffer) return;
      this._settingAnswer = description.type === 'answer';
      try {
        await pc.setRemoteDescription(description); // rolls back our own offer if needed
      } finally {
        this._settingAnswer = false;
      }
      if (description.type === 'offer') {
        this._adoptTransceivers();
        if (this._wantChannel) this._openChannel();
        await pc.setLocalDescription();
        this._sendSignal({ description: /** @type {RTCSessionDescription} */ (pc.localDescription).toJSON() });
      } else {
        this._emit('negotiated', {});
      }
      await this._drainCandidates();
    } else if (candidate) {
      if (!pc.remoteDescription) { this._pendingCandidates.push(candidate); return; }
      await this._addCandidate(candidate);
    }
  }

  async _drainCandidates() {
    const queued = this._pendingCandidates.splice(0);
    for (const candidate of queued) await this._addCandidate(candidate);
  }

  /** @param {RTCIceCandidateInit} candidate */
  async _addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an offer we ignored, or of ICE credentials already
      // replaced by a restart, are expected to fail; they are only counted.
      this.candidateErrors = (this.candidateErrors || 0) + 1;
      if (!this._ignoreOffer && this.pc.remoteDescription) this._emit('candidateerror', { error, candidate });
    }
  }

  /** @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} payload */
  _sendSignal(payload) {
    if (this.closed) return;
    try {
      Promise.resolve(this._send({ call: this.callId, ...payload })).catch((error) => this._error(error, 'send'));
    } catch (error) {
      this._error(error, 'send');
    }
  }

  /** Restart ICE (new ufrag/pwd; negotiationneeded sends the offer). */
  restartIce(reason = 'manual') {
    if (this.closed) return;
    this.iceRestarts += 1;
    this._emit('icerestart', { reason });
    this.pc.restartIce();
  }

  // ---- data channel --------------------------------------------------------
  _openChannel() {
    if (this.channel) return;
    this.channel = this.pc.createDataChannel('data', { negotiated: true, id: 0 });
    this._wireChannel(this.channel);
  }

  /** @param {RTCDataChannel} channel */
  _wireChannel(channel) {
    channel.addEventListener('open', () => this._emit('datachannelopen', {}));
    channel.addEventListener('close', () => this._emit('datachannelclose', {}));
    channel.addEventListener('message', (event) => {
      let data = event.data;
      if (typeof data === 'string') { try { data = JSON.parse(data); } catch { /* plain text */ } }
      this._emit('datamessage', { data });
    });
  }

  /**
   * Send JSON (or a string) over the data channel; false when it is not open.
   * @param {unknown} data
   * @returns {boolean}
   */
  sendData(data) {
    if (!this.channel || this.channel.readyState !== 'open') return false;
    this.channel.send(typeof data === 'string' ? data : JSON.stringify(data));
    return true;
  }

  // ---- stats ---------------------------------------------------------------
  /**
   * Numbers for a quality read-out: {rtt (ms), packetsLost, packetsReceived,
   * packetLoss (0..1), bytesReceived, bytesSent, inboundKbps, audioBytesReceived,
   * videoBytesReceived, quality: 'good'|'fair'|'poor'|'unknown'}.
   * @returns {Promise<CallStats>}
   */
  async stats() {
    const report = await this.pc.getStats();
    /** @type {CallStats} */
    const out = {
      rtt: null, packetsLost: 0, packetsReceived: 0, packetLoss: 0, bytesReceived: 0, bytesSent: 0,
      audioBytesReceived: 0, videoBytesReceived: 0, inboundKbps: null, state: this.pc.connectionState, quality: 'unknown',
    };
    report.forEach((r) => {
      if (r.type === 'inbound-rtp') {
        out.bytesReceived += r.bytesReceived || 0;
        out.packetsReceived += r.packetsReceived || 0;
        out.packetsLost += Math.max(0, r.packetsLost || 0);
        if (r.kind === 'audio') out.audioBytesReceived += r.bytesReceived || 0;
        if (r.kind === 'video') out.videoBytesReceived += r.bytesReceived || 0;
      } else if (r.type === 'outbound-rtp') {
        out.bytesSent += r.bytesSent || 0;
      } else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        if (typeof r.currentRoundTripTime === 'number') out.rtt = Math.round(r.currentRoundTripTime * 1000);
      } else if (r.type === 'remote-inbound-rtp' && out.rtt === null && typeof r.roundTripTime === 'number') {
        out.rtt = Math.round(r.roundTripTime * 1000);
      }
    });
    const total = out.packetsReceived + out.packetsLost;
    out.packetLoss = total ? out.packetsLost / total : 0;
    const now = performance.now();
    if (this._lastStats) {
      const seconds = (now - this._lastStats.at) / 1000;
      if (seconds > 0) out.inboundKbps = Math.round(((out.bytesReceived - this._lastStats.bytes) * 8) / 1000 / seconds);
    }
    this._lastStats = { at: now, bytes: out.bytesReceived };
    out.quality = qualityOf(out);
    this.lastStats = out;
    return out;
  }

  // ---- end -----------------------------------------------------------------
  /** Close the connection (local tracks stay yours to stop). */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._disconnectTimer);
    try { this.channel?.close(); } catch { /* closing anyway */ }
    this.pc.close();
    this._emit('connectionstatechange', { state: 'closed' });
    this._emit('closed', {});
  }

  /**
   * @param {unknown} error
   * @param {string} where
   */
  _error(error, where) {
    if (this.closed) return;
    this._emit('error', { error, where });
  }
}

/**
 * A coarse label from RTT and loss, for a signal-bars indicator.
 * @param {{rtt: number|null|undefined, packetLoss: number, state?: string}} stats
 * @returns {'good'|'fair'|'poor'|'unknown'}
 */
export function qualityOf({ rtt, packetLoss, state }) {
  if (state && state !== 'connected') return 'unknown';
  if (rtt === null || rtt === undefined) return 'unknown';
  if (rtt < 200 && packetLoss < 0.02) return 'good';
  if (rtt < 500 && packetLoss < 0.08) return 'fair';
  return 'poor';
}
