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
//   member-updated {member}  member-rebuilt {member}  track {member, track, kind}  chat {member, text, ts}
//   connection {member, state ('lost' too)}  left {}
//
// A pair's connection that stays down (a network blip longer than ICE restarts
// can mend, a side whose RTCPeerConnection died) is rebuilt, not dropped: after
// LOST_AFTER_MS the member is shown "lost" and, while the server still lists it
// in the room, a fresh PeerCall of the next generation is made (call id
// `room:NAME#GEN`), again with backoff until it connects. The other side sees a
// signal of a newer generation and rebuilds its end too. Only the server's
// word (peer-left, or a roster without the member) removes a member for good.

import { PeerCall } from './call.js';
import { SignalingClient } from './signaling.js';

const RTC_TYPE = 'rtc';
// Each member uploads one video per other member (mesh): the more people, the
// less each copy may use, so a home uplink carries a full room.
const VIDEO_BITRATE = [[1, 1_500_000], [2, 900_000], [3, 600_000], [Infinity, 400_000]];
const BUFFER_MAX = 200;
// A connection that stays disconnected/failed this long is shown lost and rebuilt
// (ICE restarts, PeerCall after 4 s, get the time before that to mend it).
export const LOST_AFTER_MS = 12000;
// Later rebuilds of a still-listed member: the wait before each, then the cap.
const REBUILD_BACKOFF_MS = [8000, 15000, 30000];

/** The call id of generation `gen` of a room's pair connection (generation 0 is the plain room id). */
export function roomCallId(room, gen) {
  return gen ? `room:${room}#${gen}` : `room:${room}`;
}

/** The generation in a call id of this room, or null for another room's/unknown id. */
export function callGeneration(room, callId) {
  const base = `room:${room}`;
  if (callId === base) return 0;
  if (typeof callId !== 'string' || !callId.startsWith(`${base}#`)) return null;
  const gen = Number(callId.slice(base.length + 1));
  return Number.isSafeInteger(gen) && gen > 0 ? gen : null;
}
const CHAT_MAX = 2000;

export class RoomFullError extends Error {
  constructor(capacity) {
    super('room-full');
    this.name = 'RoomFullError';
    this.capacity = capacity;
  }
}

export class RoomSession extends EventTarget {
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
      // The other side rebuilt the pair's connection: rebuild ours to the same generation.
      const gen = callGeneration(this.room, env.data?.call);
      if (gen !== null && gen > member.gen) this._rebuild(member, gen);
      member.call.handleMessage(env);
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
    const member = {
      peer_id: peerId, name, call: null, gen: 0, attempt: 0, lost: false,
      state: { camera: true, mic: true, screen: false }, known: false, connection: 'new',
    };
    member.call = this._newCall(member);
    this.members.set(peerId, member);
    const early = this._early.get(peerId) || [];
    this._early.delete(peerId);
    this._emit('member-added', { member, quiet: quiet || Boolean(existing) });
    this._limitBitrate();
    for (const env of early) this._route(env);
  }

  /** A PeerCall of the member's current generation, its events forwarded while it is the current one. */
  _newCall(member) {
    const call = new PeerCall({
      signaling: this.client,
      remoteId: member.peer_id,
      callId: roomCallId(this.room, member.gen),
      tracks: { audio: this.media.audioTrack, video: this.media.videoTrack },
      autoSubscribe: false,
    });
    const current = () => member.call === call && this.members.get(member.peer_id) === member;
    call.addEventListener('track', (e) => {
      if (current()) this._emit('track', { member, track: e.detail.track, kind: e.detail.kind });
    });
    call.addEventListener('connectionstatechange', (e) => {
      if (!current()) return;
      member.connection = e.detail.state;
      if (e.detail.state === 'connected') this._limitBitrate();
      this._watchLost(member, e.detail.state);
      this._emit('connection', { member, state: e.detail.state });
    });
    call.addEventListener('datachannelopen', () => call.sendData({ t: 'state', ...this.media.state() }));
    call.addEventListener('datamessage', (e) => { if (current()) this._onData(member, e.detail.data); });
    return call;
  }

  /** Replace the member's connection with a fresh one of generation `gen` (the tile stays). */
  _rebuild(member, gen, { initiate = false } = {}) {
    const old = member.call;
    member.gen = gen;
    member.connection = 'new';
    member.call = this._newCall(member);
    old.close();
    this.rebuilds = (this.rebuilds || 0) + 1;
    // The polite side of a fresh pair waits for an offer: tell the other side to rebuild too.
    if (initiate) this.client.send(member.peer_id, RTC_TYPE, { call: member.call.callId, rebuild: true }).catch(() => {});
    // The answering side keeps watch too: if this one never connects it tries again itself.
    member.lostTimer ||= setTimeout(() => this._recover(member), this.lostAfterMs ?? LOST_AFTER_MS);
    this._emit('member-rebuilt', { member });
  }

  /** Start the lost clock when a connection drops; stop it when it is back. */
  _watchLost(member, state) {
    if (state === 'connected') {
      clearTimeout(member.lostTimer);
      member.lostTimer = null;
      member.attempt = 0;
      member.lost = false;
    } else if (state === 'disconnected' || state === 'failed') {
      member.lostTimer ||= setTimeout(() => this._recover(member), this.lostAfterMs ?? LOST_AFTER_MS);
    }
  }

  /** Still down: say so; rebuild while the server lists the member, remove it once it does not. */
  async _recover(member) {
    member.lostTimer = null;
    const alive = () => this.members.get(member.peer_id) === member && member.connection !== 'connected';
    if (!alive()) return;
    member.lost = true;
    this._emit('connection', { member, state: 'lost' });
    let listed = null; // unknown while the server cannot be reached: keep trying
    try {
      const answer = await this.client.roomMembers(this.room);
      listed = answer.members.some((m) => m.peer_id === member.peer_id);
    } catch { /* server out of reach */ }
    if (!alive()) return;
    if (listed === false) { this._remove(member.peer_id, 'lost'); return; }
    if (listed) this._rebuild(member, member.gen + 1, { initiate: true });
    const wait = REBUILD_BACKOFF_MS[Math.min(member.attempt, REBUILD_BACKOFF_MS.length - 1)];
    member.attempt += 1;
    member.lostTimer = setTimeout(() => this._recover(member), this.rebuildAfterMs ?? wait);
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

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
