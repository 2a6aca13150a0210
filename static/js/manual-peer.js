// One RTCPeerConnection signaled by hand with "vanilla ICE": the local description
// is handed out only after ICE gathering completes, so it carries every candidate
// and a single copy/paste each way connects. No server is involved.

const GATHER_LIMIT_MS = 15000; // stop waiting for a stuck STUN server after this
const PUBLIC_STUN = [{ urls: 'stun:stun.l.google.com:19302' }];

export class ManualPeer extends EventTarget {
  constructor({ stun = false, stream = null } = {}) {
    super();
    this.pc = new RTCPeerConnection({ iceServers: stun ? PUBLIC_STUN : [] });
    this.channel = null;
    this.remoteStream = new MediaStream();
    if (stream) for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
    this.pc.addEventListener('track', (event) => {
      this.remoteStream.addTrack(event.track);
      this.emit('track', { track: event.track });
    });
    this.pc.addEventListener('datachannel', (event) => this.useChannel(event.channel));
    for (const name of ['signalingstatechange', 'icegatheringstatechange', 'iceconnectionstatechange', 'connectionstatechange']) {
      this.pc.addEventListener(name, () => this.emit('state', this.states()));
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
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
    channel.addEventListener('open', () => this.emit('open'));
    channel.addEventListener('close', () => this.emit('close'));
    channel.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      try {
        const message = JSON.parse(event.data);
        if (message && typeof message.text === 'string') this.emit('message', message);
      } catch { /* not ours */ }
    });
  }

  /** Side A: data channel + offer; resolves with the complete offer once gathering is done. */
  async createOffer() {
    this.useChannel(this.pc.createDataChannel('chat'));
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gatheringComplete();
    return this.describe();
  }

  /** Side B: take A's offer, resolve with the complete answer. */
  async acceptOffer(offer) {
    await this.pc.setRemoteDescription(offer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gatheringComplete();
    return this.describe();
  }

  /** Side A: take B's answer; the connection then starts by itself. */
  async acceptAnswer(answer) {
    await this.pc.setRemoteDescription(answer);
  }

  describe() {
    const { type, sdp } = this.pc.localDescription;
    return { type, sdp };
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
