// PhoneLine: the phone's call flow (dial, ring, accept/decline, busy, missed,
// hang up) on top of SignalingClient and PeerCall. No DOM here: the UI
// (phone.js) listens to events and calls methods.
//
// Call-control messages (type, data):
//   phone.invite {call, video}   phone.ringing {call}   phone.accept {call}
//   phone.decline {call}         phone.busy {call}      phone.cancel {call, reason: cancelled|timeout}
//   phone.hangup {call}          phone.ping {call}  (probe: a 404 tells us the peer went offline)
// Hang-ups also go over the call's data channel (they arrive even while the
// server is down) and are re-sent through the server once it is back, so the
// other side always learns. The data channel also carries phone.state
// {muted}: the remote mute indicator.
// Media negotiation goes through PeerCall ('rtc' messages tagged with the call id).
//
// States: idle -> calling -> connecting -> in-call -> idle        (outgoing)
//         idle -> incoming -> connecting -> in-call -> idle       (incoming)
// Two people calling each other at the same moment: each sees the other's
// invite while `calling` that same person; both pick the smaller call id and
// go straight to `connecting`, so they end up in one call.
//
// Events (CustomEvent): statechange {state, previous}  incoming {peer}  ringing {}
//   ended {reason, peer, duration}  missed {entry}  connection {state}  remotetrack {track, kind}
//   remotevideo {on}  remotestate {muted}  dnd {entry}  error {kind, error}
// End reasons: hangup, remote-hangup, declined, remote-declined, busy, no-answer, cancelled,
//   missed, offline, failed, mic-denied, no-mic, insecure, media-error
// Do not disturb (`dnd = true`): invites are answered phone.busy at once and
// reported as a `dnd` event (the UI lists them with the missed calls).

import { PeerCall } from './client/call.js';
import { signalingSend } from './client/call-signaling.js';
import { mediaErrorKind } from './client/media-errors.js';
import { Emitter } from './client/emitter.js';

export const RING_TIMEOUT_MS = 30000;
// A media path that stays down this long with no word from the other side
// (nothing through the server either) ends the call as "connection lost".
export const LOST_END_AFTER_MS = 12000;
const RETRYABLE = new Set(['network', 'server', 'rate-limited', 'unauthorized']);

function newCallId() {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Map a getUserMedia failure to an end reason the UI can explain. */
export function mediaErrorReason(error) {
  const kind = mediaErrorKind(error);
  if (kind === 'insecure') return 'insecure';
  if (kind === 'permission') return 'mic-denied';
  if (kind === 'nodevice') return 'no-mic';
  return 'media-error';
}

export class PhoneLine extends Emitter {
  constructor({
    signaling,
    ringTimeout = RING_TIMEOUT_MS,
    getUserMedia = (constraints) => navigator.mediaDevices.getUserMedia(constraints),
    now = () => Date.now(),
    createCall = (options) => new PeerCall(options),
    lostAfter = LOST_END_AFTER_MS,
  }) {
    super();
    this.signaling = signaling;
    this.ringTimeout = ringTimeout;
    this.getUserMedia = getUserMedia;
    this.now = now;
    this.createCall = createCall;
    this.lostAfter = lostAfter;
    this.dnd = false; // do not disturb: invites are answered busy
    this.remoteMuted = false;
    /** @type {string} idle | calling | incoming | connecting | in-call */
    this.state = 'idle';
    this.peer = null; // {peer_id, name}
    this.callId = null;
    this.direction = null; // outgoing | incoming
    this.call = null; // PeerCall
    this.localStream = null;
    this.muted = false;
    this.videoOn = false;
    this.connectedAt = null;
    this.missed = [];
    this.history = [];
    this.autoAnswer = false; // benchmarks: accept incoming calls at once
    this._ringTimer = null;
    this._failTimer = null;
    this._attempt = 0; // bumps when a call ends: late async steps of that call stop
    this._inviteSent = false;
    this._handlers = [
      'phone.invite', 'phone.ringing', 'phone.accept', 'phone.decline', 'phone.busy',
      'phone.cancel', 'phone.hangup', 'phone.ping',
    ].map((type) => signaling.on(type, (env) => this._onMessage(type, env)));
    // Any media-negotiation message of the current call is word from the other side.
    // PeerCall ignores payloads of another call id; routing by sender is ours.
    this._handlers.push(signaling.on('rtc', (env) => {
      if (env.from !== this.peer?.peer_id) return;
      if (this._failTimer && env.data?.call === this.callId) this._armLostTimer();
      this.call?.handleMessage(env.data);
    }));
    this._onOffline = (event) => {
      if (this.peer && event.detail.peers.includes(this.peer.peer_id) && this.state !== 'idle') this._end('offline');
    };
    signaling.addEventListener('peer-offline', this._onOffline);
  }

  // ---- actions -------------------------------------------------------------
  /** Call a peer. Resolves once the invite is sent (or the attempt ended). */
  async dial(peerId, name = '') {
    if (this.state === 'incoming' && this.peer?.peer_id === peerId) return this.accept();
    if (this.state !== 'idle') throw new Error(`cannot dial while ${this.state}`);
    if (peerId === this.signaling.peerId) throw new Error('cannot call yourself');
    this.peer = { peer_id: peerId, name: name || peerId };
    this.direction = 'outgoing';
    this.callId = newCallId();
    this._inviteSent = false;
    const callId = this.callId;
    const attempt = this._attempt;
    this._setState('calling');
    if (!(await this._openMicrophone())) return;
    // Crossed with an invite from the same person while the microphone opened?
    // (the await above may have changed the state: no narrowing from the check before it)
    if (this._attempt !== attempt || /** @type {string} */ (this.state) !== 'calling') return;
    this._ringTimer = setTimeout(() => this._noAnswer(callId), this.ringTimeout);
    this._inviteSent = true;
    try {
      await this.signaling.send(peerId, 'phone.invite', { call: callId, video: false });
    } catch (error) {
      if (this._attempt === attempt && this.state === 'calling') {
        this._end(error.kind === 'peer-offline' ? 'offline' : 'failed');
      }
    }
  }

  /** Answer the ringing incoming call. */
  async accept() {
    if (this.state !== 'incoming') return;
    const callId = this.callId;
    const attempt = this._attempt;
    clearTimeout(this._ringTimer);
    this._setState('connecting');
    if (!(await this._openMicrophone())) {
      this._sendControl('phone.decline', {}, callId, this.lastCall?.peer);
      return;
    }
    if (this._attempt !== attempt) return;
    this._sendControl('phone.accept');
    this._startMedia();
  }

  /** Refuse the ringing incoming call. */
  decline() {
    if (this.state !== 'incoming') return;
    this._sendControl('phone.decline');
    this._end('declined');
  }

  /** Cancel an outgoing call or hang up the current one. */
  hangup() {
    if (this.state === 'idle') return;
    if (this.state === 'incoming') return this.decline();
    if (this.state === 'calling') {
      this._sendReliably('phone.cancel', { reason: 'cancelled' });
      return this._end('cancelled');
    }
    this._byeSent = Boolean(this.call?.sendData?.({ type: 'phone.hangup', call: this.callId }));
    this._sendReliably('phone.hangup');
    this._end('hangup');
  }

  /** Mute or unmute the microphone (no renegotiation). */
  setMuted(muted) {
    this.muted = muted;
    for (const track of this.localStream?.getAudioTracks() || []) track.enabled = !muted;
    this._sendState();
  }

  /** Turn the camera on or off mid-call (replaceTrack, no renegotiation). */
  async setVideo(on) {
    if (on === this.videoOn || !this.call) return this.videoOn;
    if (on) {
      let stream;
      try {
        stream = await this.getUserMedia({ video: true });
      } catch (error) {
        this._emit('error', { kind: mediaErrorReason(error) === 'mic-denied' ? 'camera-denied' : 'no-camera', error });
        return false;
      }
      const track = stream.getVideoTracks()[0];
      if (!this.call || !this.localStream) { track.stop(); return false; }
      this.localStream.addTrack(track);
      await this.call.setTrack('video', track);
      this.videoOn = true;
    } else {
      for (const track of this.localStream?.getVideoTracks() || []) {
        track.stop();
        this.localStream.removeTrack(track);
      }
      await this.call?.setTrack('video', null);
      this.videoOn = false;
    }
    this._emit('localvideo', { on: this.videoOn, stream: this.localStream });
    return this.videoOn;
  }

  /** Seconds since the call connected (0 before). */
  duration() {
    return this.connectedAt ? Math.floor((this.now() - this.connectedAt) / 1000) : 0;
  }

  destroy() {
    if (this.state !== 'idle') this.hangup();
    this._handlers.forEach((off) => off());
    this.signaling.removeEventListener('peer-offline', this._onOffline);
  }

  // ---- incoming messages -----------------------------------------------------
  _onMessage(type, env) {
    const from = env.from;
    const data = env.data || {};
    const call = data.call;
    if (typeof call !== 'string' || !call) return;
    const samePeer = this.peer?.peer_id === from;

    if (type === 'phone.invite') {
      if (this.state === 'idle' && this.dnd) {
        this.signaling.send(from, 'phone.busy', { call }).catch(() => {});
        const entry = { peer_id: from, name: env.from_name || from, at: this.now(), reason: 'dnd' };
        this._remember(entry, true);
        this._emit('dnd', { entry });
      } else if (this.state === 'idle') {
        this.peer = { peer_id: from, name: env.from_name || from };
        this.direction = 'incoming';
        this.callId = call;
        this._setState('incoming');
        this._sendControl('phone.ringing');
        // The caller cancels at its timeout; this is the fallback if it vanished.
        this._ringTimer = setTimeout(() => { if (this.callId === call) this._missed('timeout'); }, this.ringTimeout + 5000);
        this._emit('incoming', { peer: this.peer });
        if (this.autoAnswer) this.accept();
      } else if (this.state === 'calling' && samePeer) {
        // Both called each other: one call, no ringing. When both invites went
        // out, both sides pick the smaller id; if ours did not, we take theirs.
        // Either way an accept tells the other side (ignored if it merged too).
        clearTimeout(this._ringTimer);
        this.callId = this._inviteSent && this.callId < call ? this.callId : call;
        this.direction = 'outgoing';
        this._setState('connecting');
        this._sendControl('phone.accept');
        this._startMedia();
      } else if (!(samePeer && call === this.callId)) {
        this.signaling.send(from, 'phone.busy', { call }).catch(() => {});
        this._remember({ peer_id: from, name: env.from_name || from, at: this.now(), reason: 'busy' }, true);
      }
      return;
    }

    if (!samePeer || call !== this.callId) return; // not about the current call
    switch (type) {
      case 'phone.ringing':
        if (this.state === 'calling') this._emit('ringing', {});
        break;
      case 'phone.accept':
        if (this.state === 'calling') {
          clearTimeout(this._ringTimer);
          this._setState('connecting');
          this._startMedia();
        }
        break;
      case 'phone.decline':
        if (this.state === 'calling') this._end('remote-declined');
        break;
      case 'phone.busy':
        if (this.state === 'calling') this._end('busy');
        break;
      case 'phone.cancel':
        if (this.state === 'incoming') this._missed(data.reason === 'timeout' ? 'timeout' : 'cancelled');
        else if (this.state !== 'idle') this._end('remote-hangup');
        break;
      case 'phone.hangup':
        if (this.state !== 'idle') this._end('remote-hangup');
        break;
      default:
        break;
    }
  }

  // ---- internals ---------------------------------------------------------------
  async _openMicrophone() {
    if (this.localStream) return true;
    const attempt = this._attempt;
    let stream;
    try {
      stream = await this.getUserMedia({ audio: true });
    } catch (error) {
      if (this._attempt === attempt) this._end(mediaErrorReason(error));
      return false;
    }
    if (this._attempt !== attempt) { // the call ended while we waited for the microphone
      stream.getTracks().forEach((t) => t.stop());
      return false;
    }
    this.localStream = stream;
    this.setMuted(this.muted);
    // Media may have started meanwhile (crossed calls): attach the microphone now.
    if (this.call) await this.call.setTrack('audio', stream.getAudioTracks()[0] || null);
    return true;
  }

  _startMedia() {
    if (this.call) return;
    const call = this.createCall({
      send: signalingSend(this.signaling, this.peer.peer_id),
      localId: this.signaling.peerId,
      iceServers: this.signaling.iceServers,
      remoteId: this.peer.peer_id,
      callId: this.callId,
      tracks: { audio: this.localStream?.getAudioTracks()[0] || null },
    });
    this.call = call;
    call.addEventListener('connectionstatechange', (e) => this._onConnection(call, e.detail.state));
    call.addEventListener('track', (e) => this._emit('remotetrack', e.detail));
    call.addEventListener('datachannelopen', () => this._sendState());
    call.addEventListener('datamessage', (e) => this._onData(call, e.detail.data));
    call.addEventListener('trackunmute', (e) => {
      if (e.detail.kind === 'video') this._emit('remotevideo', { on: true });
      e.detail.track.addEventListener('mute', () => {
        if (e.detail.kind === 'video') this._emit('remotevideo', { on: false });
      }, { once: true });
    });
  }

  _onConnection(call, state) {
    if (call !== this.call) return;
    this._emit('connection', { state });
    if (state === 'connected') {
      clearTimeout(this._failTimer);
      this._failTimer = null;
      if (!this.connectedAt) this.connectedAt = this.now();
      if (this.state === 'connecting') this._setState('in-call');
    } else if (state === 'disconnected' || state === 'failed') {
      // Is the other side still there? A 404 ends the call as "offline".
      this._sendControl('phone.ping');
      if (!this._failTimer) this._armLostTimer();
    }
  }

  /** (Re)start the countdown that ends a call whose media path stays down. */
  _armLostTimer() {
    clearTimeout(this._failTimer);
    const call = this.call;
    this._failTimer = setTimeout(() => { if (call && this.call === call) this._end('failed'); }, this.lostAfter);
  }

  /** Messages over the call's data channel: the other side's state, or its hang-up. */
  _onData(call, data) {
    if (call !== this.call || !data || typeof data !== 'object') return;
    if (data.type === 'phone.state' && typeof data.muted === 'boolean') {
      this.remoteMuted = data.muted;
      this._emit('remotestate', { muted: data.muted });
    } else if (data.type === 'phone.hangup' && data.call === this.callId) {
      this._end('remote-hangup');
    }
  }

  _sendState() {
    this.call?.sendData?.({ type: 'phone.state', muted: this.muted });
  }

  /**
   * Send a call-ending message that must arrive even across a server outage:
   * the client retries for a while; if that gives up, send again once the
   * connection to the server is back.
   */
  _sendReliably(type, extra = {}, callId = this.callId, peer = this.peer, tries = 5) {
    if (!peer || !callId) return;
    this.signaling.send(peer.peer_id, type, { call: callId, ...extra }).catch((error) => {
      if (!RETRYABLE.has(error?.kind) || tries <= 1) return;
      const again = () => this._sendReliably(type, extra, callId, peer, tries - 1);
      if (this.signaling.connected === false) this.signaling.addEventListener('open', again, { once: true });
      else setTimeout(again, 1000);
    });
  }

  _noAnswer(callId) {
    if (this.callId !== callId || this.state !== 'calling') return;
    this._sendControl('phone.cancel', { reason: 'timeout' });
    this._end('no-answer');
  }

  _missed(reason) {
    const entry = { peer_id: this.peer.peer_id, name: this.peer.name, at: this.now(), reason };
    this._end('missed');
    this._remember(entry, true);
  }

  _remember(entry, missed) {
    if (missed) {
      this.missed.unshift(entry);
      this._emit('missed', { entry });
    }
  }

  _sendControl(type, extra = {}, callId = this.callId, peer = this.peer) {
    if (!peer || !callId) return;
    this.signaling.send(peer.peer_id, type, { call: callId, ...extra }).catch(() => {});
  }

  _end(reason) {
    this._attempt += 1;
    clearTimeout(this._ringTimer);
    clearTimeout(this._failTimer);
    this._failTimer = null;
    const peer = this.peer;
    const duration = this.duration();
    if (this.call) {
      // Closing the connection at once would cut the hang-up still in the
      // data channel's buffer: the media stops now (tracks below), the close follows.
      const call = this.call;
      if (this._byeSent) setTimeout(() => call.close(), 300);
      else call.close();
      this.call = null;
      this._byeSent = false;
    }
    if (this.localStream) { this.localStream.getTracks().forEach((t) => t.stop()); this.localStream = null; }
    this.history.unshift({ peer, reason, duration, direction: this.direction, at: this.now() });
    this.lastCall = this.history[0];
    this.callId = null;
    this.connectedAt = null;
    this.videoOn = false;
    this.muted = false;
    this.remoteMuted = false;
    this._setState('idle');
    this.peer = null;
    this.direction = null;
    this._emit('ended', { reason, peer, duration });
  }

  _setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this._emit('statechange', { state, previous });
  }

}
