// RoomSession: membership of one room and a full mesh of PeerCalls (one per
// other member), on top of SignalingClient and PeerCall. No DOM.
//
// Who calls whom: nobody "calls". The newcomer learns the members from the
// join answer, the members learn the newcomer from `peer-joined`; both sides
// create a PeerCall for the pair, and PeerCall decides from the two peer ids
// which side is polite (and which side makes the first offer). Signals from a
// peer we do not know yet (its offer can overtake our join answer) wait in a
// small buffer until we do.
//
// Over each pair's data channel (JSON, field t):
//   {t:'state', camera, mic, screen}  what to show for the sender (placeholder, mute badge)
//   {t:'chat', text, ts}              a chat line (the name comes from the room roster)
//   {t:'bye'}                         leaving now (the tile goes at once)
//
// Events: joined {room, capacity, members}  member-added {member}  member-removed {member, reason}
//   member-updated {member}  track {member, track, kind}  chat {member, text, ts}
//   connection {member, state}  left {}

import { PeerCall } from './client/call.js';
import { signalingSend } from './client/call-signaling.js';
import { SignalingClient } from './client/signaling.js';
import { Emitter } from './client/emitter.js';

const RTC_TYPE = 'rtc';
// Each member uploads one video per other member (mesh): the more people, the
// less each copy may use, so a home uplink carries a full room.
const VIDEO_BITRATE = [[1, 1_500_000], [2, 900_000], [3, 600_000], [Infinity, 400_000]];
const BUFFER_MAX = 200;
// A member whose connection stays disconnected/failed this long, with no word from
// the server, is a ghost (crashed tab, lost network): its tile goes. ICE restarts
// (PeerCall, after 4 s) get most of this time to bring the connection back.
export const LOST_AFTER_MS = 12000;
const CHAT_MAX = 2000;

export class RoomFullError extends Error {
  constructor(capacity) {
    super('room-full');
    this.name = 'RoomFullError';
    this.capacity = capacity;
  }
}

export class RoomSession extends Emitter {
  constructor({ room, name, media, client = null }) {
    super();
    this.room = room;
    this.name = name;
    this.media = media;
    this.client = client || new SignalingClient({ name });
    this.members = new Map(); // peer id -> {peer_id, name, call, state, connection}
    this.capacity = null;
    this.joined = false;
    this._early = new Map(); // peer id -> [rtc envelopes that arrived before we knew the peer]
    this._off = [];
  }

  get peerId() {
    return this.client.peerId;
  }

  /** Register, start receiving, join; rejects with RoomFullError when the room is full. */
  async join() {
    this._off.push(
      this.client.on(RTC_TYPE, (env) => this._route(env)),
      this.client.on('peer-joined', (env) => { if (env.room === this.room) this._add(env.data); }),
      this.client.on('peer-left', (env) => {
        if (env.room === this.room) this._remove(env.data.peer_id, env.data.reason || 'left');
      }),
    );
    // Our session ended (presence expired, server lost its state) and SignalingClient
    // registered again and re-joins the room by itself: the others start new
    // connections to us, so ours start afresh too.
    const registered = (event) => { if (event.detail.reregistered && this.joined) this._restart(); };
    this.client.addEventListener('registered', registered);
    this._off.push(() => this.client.removeEventListener('registered', registered));
    const offline = (event) => { for (const peer of event.detail.peers || []) this._remove(peer, 'timeout'); };
    this.client.addEventListener('peer-offline', offline);
    this._off.push(() => this.client.removeEventListener('peer-offline', offline));
    this._onMediaTracks = (event) => this._sendTracks(event.detail);
    this._onMediaState = () => this.broadcast({ t: 'state', ...this.media.state() });
    this.media.addEventListener('tracks', this._onMediaTracks);
    this.media.addEventListener('state', this._onMediaState);
    this._onPageHide = () => this.broadcast({ t: 'bye' }); // SignalingClient's keepalive DELETE follows

    if (!this.client.session) await this.client.connect(this.name);
    let answer;
    try {
      answer = await this.client.joinRoom(this.room);
    } catch (error) {
      const slug = String(error.problem?.type || '').split(/[:/]/).pop();
      if (error.status === 409 && slug === 'room-full') throw new RoomFullError(error.problem.capacity);
      throw error;
    }
    this.joined = true;
    this.capacity = answer.capacity;
    window.addEventListener('pagehide', this._onPageHide);
    this._emit('joined', { room: this.room, capacity: this.capacity, members: answer.members });
    for (const member of answer.members) this._add(member);
    return answer;
  }

  async _restart() {
    this.restarts = (this.restarts || 0) + 1;
    for (const peerId of [...this.members.keys()]) this._remove(peerId, 'restart', { quiet: true });
    try {
      const answer = await this.client.roomMembers(this.room);
      for (const member of answer.members) if (!this.members.has(member.peer_id)) this._add(member, { quiet: true });
    } catch { /* members that come back announce themselves with peer-joined */ }
  }

  _route(env) {
    const member = this.members.get(env.from);
    if (member) {
      member.call.handleMessage(env.data);
      return;
    }
    const queue = this._early.get(env.from) || [];
    if (queue.length < BUFFER_MAX) queue.push(env);
    this._early.set(env.from, queue);
  }

  _add({ peer_id: peerId, name }, { quiet = false } = {}) {
    if (!peerId || peerId === this.peerId) return;
    const existing = this.members.get(peerId);
    if (existing) {
      // Same peer joined again (e.g. re-registered): start its connection afresh.
      this._remove(peerId, 'rejoined', { quiet: true });
    }
    const call = new PeerCall({
      send: signalingSend(this.client, peerId, RTC_TYPE),
      localId: this.peerId,
      iceServers: this.client.iceServers,
      remoteId: peerId,
      callId: `room:${this.room}`,
      tracks: { audio: this.media.audioTrack, video: this.media.videoTrack },
    });
    const member = { peer_id: peerId, name, call, state: { camera: true, mic: true, screen: false }, known: false, connection: 'new' };
    this.members.set(peerId, member);
    call.addEventListener('track', (e) => this._emit('track', { member, track: e.detail.track, kind: e.detail.kind }));
    call.addEventListener('connectionstatechange', (e) => {
      member.connection = e.detail.state;
      if (e.detail.state === 'connected') this._limitBitrate();
      this._watchLost(member, e.detail.state);
      this._emit('connection', { member, state: e.detail.state });
    });
    call.addEventListener('datachannelopen', () => call.sendData({ t: 'state', ...this.media.state() }));
    call.addEventListener('datamessage', (e) => this._onData(member, e.detail.data));
    const early = this._early.get(peerId) || [];
    this._early.delete(peerId);
    this._emit('member-added', { member, quiet: quiet || Boolean(existing) });
    this._limitBitrate();
    for (const env of early) call.handleMessage(env.data);
  }

  /** Start the ghost clock when a connection drops; stop it when it is back. */
  _watchLost(member, state) {
    if (state === 'disconnected' || state === 'failed') {
      member.lostTimer ||= setTimeout(() => {
        if (this.members.get(member.peer_id) === member) this._remove(member.peer_id, 'lost');
      }, this.lostAfterMs ?? LOST_AFTER_MS);
    } else if (state === 'connected') {
      clearTimeout(member.lostTimer);
      member.lostTimer = null;
    }
  }

  _remove(peerId, reason, { quiet = false } = {}) {
    this._early.delete(peerId);
    const member = this.members.get(peerId);
    if (!member) return;
    clearTimeout(member.lostTimer);
    this.members.delete(peerId);
    member.call.close();
    this._emit('member-removed', { member, reason, quiet });
    this._limitBitrate();
  }

  _onData(member, data) {
    if (!data || typeof data !== 'object') return;
    if (data.t === 'state') {
      member.state = { camera: Boolean(data.camera), mic: Boolean(data.mic), screen: Boolean(data.screen) };
      member.known = true;
      this._emit('member-updated', { member });
    } else if (data.t === 'chat' && typeof data.text === 'string' && data.text.trim()) {
      this._emit('chat', { member, text: data.text.slice(0, CHAT_MAX), ts: Number(data.ts) || Date.now() });
    } else if (data.t === 'bye') {
      this._remove(member.peer_id, 'left');
    }
  }

  /** Cap every video sender for the current room size (no-op before negotiation). */
  _limitBitrate() {
    const others = this.members.size;
    const max = VIDEO_BITRATE.find(([upTo]) => others <= upTo)[1];
    for (const { call } of this.members.values()) {
      const sender = call.transceiver('video')?.sender;
      const params = sender?.getParameters();
      if (!params?.encodings?.length || params.encodings[0].maxBitrate === max) continue;
      params.encodings[0].maxBitrate = max;
      sender.setParameters(params).catch(() => { /* renegotiating: next event retries */ });
    }
  }

  _sendTracks({ audio, video }) {
    for (const { call } of this.members.values()) {
      call.setTrack('audio', audio).catch(() => {});
      call.setTrack('video', video).catch(() => {});
    }
  }

  /** Send a data-channel message to every member whose channel is open. */
  broadcast(data) {
    let sent = 0;
    for (const { call } of this.members.values()) if (call.sendData(data)) sent += 1;
    return sent;
  }

  /** Send a chat line to everyone; returns the message as sent. */
  sendChat(text) {
    const message = { t: 'chat', text: text.slice(0, CHAT_MAX), ts: Date.now() };
    this.broadcast(message);
    return message;
  }

  /** Leave: tell the others over the data channels and the server, close every connection. */
  async leave() {
    if (!this.joined) return;
    this.joined = false;
    this.broadcast({ t: 'bye' });
    window.removeEventListener('pagehide', this._onPageHide);
    for (const off of this._off.splice(0)) off();
    this.media.removeEventListener('tracks', this._onMediaTracks);
    this.media.removeEventListener('state', this._onMediaState);
    for (const peerId of [...this.members.keys()]) this._remove(peerId, 'self', { quiet: true });
    try { await this.client.leaveRoom(this.room); } catch { /* the session end below also leaves */ }
    await this.client.leave();
    this._emit('left', {});
  }

  /** Bytes received per member ({peerId: {audio, video, total, state}}), from getStats. */
  async receivedBytes() {
    const out = {};
    for (const [peerId, { call }] of this.members) {
      const stats = await call.stats();
      out[peerId] = { audio: stats.audioBytesReceived, video: stats.videoBytesReceived, total: stats.bytesReceived, state: stats.state };
    }
    return out;
  }
}
