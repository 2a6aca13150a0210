// One RTCPeerConnection signaled by hand. "Vanilla ICE" (the default): the local
// description is handed out only after ICE gathering completes, so it carries every
// candidate and a single copy/paste each way connects. "Trickle ICE" (trickle: true):
// the description is handed out at once, without candidates, and each candidate is
// emitted as it is found, for the user to paste on the other side as they come.
// No server is involved.

import { Emitter } from './client/emitter.js';

const GATHER_LIMIT_MS = 15000; // stop waiting for a stuck STUN server after this
const PUBLIC_STUN = [{ urls: 'stun:stun.l.google.com:19302' }];

export class ManualPeer extends Emitter {
  constructor({ stun = false, stream = null, trickle = false } = {}) {
    super();
    this.trickle = trickle;
    this.candidates = []; // our candidates, as found (trickle mode shows them)
    this.startedAt = performance.now();
    this.pc = new RTCPeerConnection({ iceServers: stun ? PUBLIC_STUN : [] });
    this.pc.addEventListener('icecandidate', (event) => {
      if (!event.candidate || !event.candidate.candidate) return;
      const candidate = event.candidate.toJSON();
      this.candidates.push(candidate);
      this._emit('candidate', { candidate });
    });
    this.channel = null;
    this.remoteStream = new MediaStream();
    if (stream) for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
    this.pc.addEventListener('track', (event) => {
      this.remoteStream.addTrack(event.track);
      this._emit('track', { track: event.track });
    });
    this.pc.addEventListener('datachannel', (event) => this.useChannel(event.channel));
    for (const name of ['signalingstatechange', 'icegatheringstatechange', 'iceconnectionstatechange', 'connectionstatechange']) {
      this.pc.addEventListener(name, () => this._emit('state', this.states()));
    }
  }

  states() {
    const pc = this.pc;
    return {
      signaling: pc.signalingState,
      gathering: pc.iceGatheringState,
      ice: pc.iceConnectionState,
      connection: pc.connectionState,
    };
  }

  useChannel(channel) {
    this.channel = channel;
    channel.addEventListener('open', () => this._emit('open'));
    channel.addEventListener('close', () => this._emit('close'));
    channel.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      try {
        const message = JSON.parse(event.data);
        if (message?.t === 'bye') this._emit('bye');
        else if (message && typeof message.text === 'string') this._emit('message', message);
      } catch { /* not ours */ }
    });
  }

  /** Side A: data channel + offer; resolves with the complete offer once gathering is done. */
  async createOffer() {
    this.useChannel(this.pc.createDataChannel('chat'));
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (!this.trickle) await this.gatheringComplete();
    return this.describe();
  }

  /** Side B: take A's offer, resolve with the complete answer. */
  async acceptOffer(offer) {
    await this.pc.setRemoteDescription(offer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    if (!this.trickle) await this.gatheringComplete();
    return this.describe();
  }

  /** Trickle ICE: add the other side's pasted candidates (one JSON object per line); returns how many. */
  async addCandidates(text) {
    let added = 0;
    for (const line of String(text).split(/\r?\n/)) {
      if (!line.trim()) continue;
      let candidate;
      try { candidate = JSON.parse(line); } catch { throw new Error('not a candidate: ' + line.slice(0, 60)); }
      if (typeof candidate?.candidate !== 'string') throw new Error('not a candidate: ' + line.slice(0, 60));
      await this.pc.addIceCandidate(candidate);
      added += 1;
    }
    return added;
  }

  /** Hang up: tell the other side over the data channel, then close. */
  hangUp() {
    try { if (this.channel?.readyState === 'open') this.channel.send(JSON.stringify({ t: 'bye' })); } catch { /* closing anyway */ }
    this.close();
  }

  /** Side A: take B's answer; the connection then starts by itself. */
  async acceptAnswer(answer) {
    await this.pc.setRemoteDescription(answer);
  }

  describe() {
    const { type, sdp } = this.pc.localDescription;
    const candidates = (sdp.match(/^a=candidate:/gm) || []).length;
    return { type, sdp, candidates, ms: Math.round(performance.now() - this.startedAt) };
  }

  gatheringComplete() {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, GATHER_LIMIT_MS);
      const pc = this.pc;
      function check() { if (pc.iceGatheringState === 'complete') done(); }
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** Send a chat line over the data channel; returns the message sent. */
  send(text) {
    const message = { text, ts: Date.now() };
    this.channel.send(JSON.stringify(message));
    return message;
  }

  async bytesReceived() {
    let bytes = 0;
    (await this.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') bytes += r.bytesReceived || 0; });
    return bytes;
  }

  close() {
    this.pc.close();
  }

  /**
   * Parse pasted text into {type, sdp}, or null when it is not a description of `kind`.
   * Accepts the raw SDP this page shows (line endings may have been changed by
   * copying) or the JSON form {"type", "sdp"} other tools print.
   */
  static parse(text, kind) {
    const trimmed = text.trim();
    let sdp = null;
    if (trimmed.startsWith('v=0')) {
      sdp = trimmed;
    } else {
      try {
        const value = JSON.parse(trimmed);
        if (value && value.type === kind && typeof value.sdp === 'string') sdp = value.sdp.trim();
      } catch { /* not JSON */ }
    }
    if (!sdp || !sdp.startsWith('v=0')) return null;
    // An answer carries a=setup:active|passive; an offer carries actpass.
    const setup = /a=setup:(\w+)/.exec(sdp)?.[1];
    if (setup && (setup === 'actpass') !== (kind === 'offer')) return null;
    return { type: kind, sdp: sdp.split(/\r?\n/).join('\r\n') + '\r\n' };
  }
}
