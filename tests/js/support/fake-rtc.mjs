// A fake RTCPeerConnection for Node: just enough of the W3C state machine for
// PeerCall's negotiation logic (signaling states, implicit rollback,
// negotiationneeded, trickle candidates, transceivers, a negotiated data
// channel). SDP is a JSON string listing the transceivers' kinds and an ICE
// "ufrag", so tests can see what was offered. No media flows.

let nextUfrag = 1;

class FakeTrack extends EventTarget {
  constructor(kind) { super(); this.kind = kind; this.enabled = true; }
}

class FakeTransceiver {
  constructor(kind, direction = 'sendrecv', track = null) {
    this.kind = kind;
    this.direction = direction;
    this.stopped = false;
    this.receiver = { track: new FakeTrack(kind) };
    this.sender = { track, replaceTrack: async (t) => { this.sender.track = t; } };
  }
}

export class FakeMediaStream {
  constructor() { this.tracks = []; }
  addTrack(track) { this.tracks.push(track); }
  removeTrack(track) { this.tracks = this.tracks.filter((t) => t !== track); }
  getTracks() { return [...this.tracks]; }
}

class FakeDataChannel extends EventTarget {
  constructor(label, options) { super(); this.label = label; this.id = options.id; this.readyState = 'connecting'; this.sent = []; }
  send(data) { this.sent.push(data); }
  close() { this.readyState = 'closed'; }
}

const description = (type, sdp) => ({ type, sdp, toJSON() { return { type, sdp }; } });

export class FakePeerConnection extends EventTarget {
  static instances = [];

  constructor(config) {
    super();
    this.config = config;
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
    this.transceivers = [];
    this.channels = [];
    this.addedCandidates = [];
    this.ufrag = `u${nextUfrag++}`;
    this.log = []; // what happened, in order: 'offer', 'answer', 'rollback', 'ignored'...
    this._needed = false;
    this._negotiatedOnce = false;
    this.closed = false;
    FakePeerConnection.instances.push(this);
  }

  // ---- things that need negotiation -----------------------------------------
  addTransceiver(trackOrKind, { direction = 'sendrecv' } = {}) {
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
    const transceiver = new FakeTransceiver(kind, direction, typeof trackOrKind === 'string' ? null : trackOrKind);
    this.transceivers.push(transceiver);
    this._needNegotiation();
    return transceiver;
  }

  getTransceivers() { return [...this.transceivers]; }

  createDataChannel(label, options = {}) {
    const channel = new FakeDataChannel(label, options);
    this.channels.push(channel);
    if (!options.negotiated) this._needNegotiation();
    return channel;
  }

  restartIce() {
    this.ufrag = `u${nextUfrag++}`;
    this._needNegotiation(true);
  }

  _needNegotiation(force = false) {
    if (this._needed && !force) return;
    this._needed = true;
    // Like browsers: fired from a task once the operations chain is idle and stable.
    setTimeout(() => this._fireNegotiationNeeded(), 0);
  }

  _fireNegotiationNeeded() {
    if (this.closed || !this._needed) return;
    if (this.signalingState !== 'stable') return; // fired again when back to stable
    this.dispatchEvent(new Event('negotiationneeded'));
  }

  // ---- descriptions -----------------------------------------------------------
  _sdp() {
    return JSON.stringify({ kinds: this.transceivers.map((t) => t.kind), ufrag: this.ufrag });
  }

  async setLocalDescription(desc) {
    await Promise.resolve();
    if (this.closed) throw new Error('closed');
    const type = desc?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    if (type === 'rollback') { this._rollback(); return; }
    if (type === 'offer') {
      if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: offer in ${this.signalingState}`);
      this.localDescription = description('offer', this._sdp());
      this._setSignaling('have-local-offer');
      this._needed = false;
      this.log.push('offer');
    } else {
      if (this.signalingState !== 'have-remote-offer') throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      this.localDescription = description('answer', this._sdp());
      this._setSignaling('stable');
      this.log.push('answer');
      this._connect();
    }
    this._gather();
  }

  async setRemoteDescription(desc) {
    await Promise.resolve();
    if (this.closed) throw new Error('closed');
    if (desc.type === 'offer') {
      if (this.signalingState === 'have-local-offer') this._rollback(); // implicit rollback (polite side)
      else if (this.signalingState !== 'stable') throw new Error(`InvalidStateError: offer in ${this.signalingState}`);
      const { kinds } = JSON.parse(desc.sdp);
      // Adopt the offer's m-lines: one transceiver per kind (recvonly until the app says otherwise).
      kinds.forEach((kind, n) => {
        if (!this.transceivers[n]) {
          const transceiver = new FakeTransceiver(kind, 'recvonly');
          this.transceivers.push(transceiver);
          this.dispatchEvent(Object.assign(new Event('track'), { track: transceiver.receiver.track, streams: [] }));
        }
      });
      this.remoteDescription = description('offer', desc.sdp);
      this._setSignaling('have-remote-offer');
      this.log.push('remote-offer');
    } else if (desc.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      this.remoteDescription = description('answer', desc.sdp);
      this._setSignaling('stable');
      this.log.push('remote-answer');
      this._connect();
    }
  }

  _rollback() {
    this.localDescription = null;
    this._setSignaling('stable');
    this.log.push('rollback');
    this._needed = true; // what we wanted to offer is still wanted
  }

  _setSignaling(state) {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this.dispatchEvent(new Event('signalingstatechange'));
    if (state === 'stable' && this._needed) setTimeout(() => this._fireNegotiationNeeded(), 0);
  }

  _gather() {
    const ufrag = this.ufrag;
    setTimeout(() => {
      if (this.closed) return;
      const candidate = { candidate: `candidate:1 1 udp 1 127.0.0.1 9 typ host ufrag ${ufrag}`, sdpMid: '0', sdpMLineIndex: 0 };
      this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: { ...candidate, toJSON: () => candidate } }));
    }, 1);
  }

  _connect() {
    setTimeout(() => this.setIceState('connected'), 1);
  }

  /** Test hook: drive the ICE and connection state. */
  setIceState(state) {
    if (this.closed) return;
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
    const connection = state === 'completed' ? 'connected' : state;
    if (connection !== this.connectionState) {
      this.connectionState = connection;
      this.dispatchEvent(new Event('connectionstatechange'));
    }
  }

  async addIceCandidate(candidate) {
    await Promise.resolve();
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    const remoteUfrag = JSON.parse(this.remoteDescription.sdp).ufrag;
    if (!candidate.candidate.endsWith(`ufrag ${remoteUfrag}`)) throw new Error('OperationError: unknown ufrag');
    this.addedCandidates.push(candidate);
  }

  async getStats() { return new Map(); }

  close() {
    this.closed = true;
    this.signalingState = 'closed';
    this.connectionState = 'closed';
  }
}

export function installFakes() {
  globalThis.MediaStream ??= FakeMediaStream;
}
