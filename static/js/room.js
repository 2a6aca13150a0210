// The room page: join screen, tiles, controls, chat, invite link. Wires
// LocalMedia (our devices) and RoomSession (members + mesh of PeerCalls) to the DOM.
import { t } from './i18n.js';
import { copyText, mediaError, say, startPage } from './lang-switch.js';
import { ChatLog } from './chat-log.js';
import { AUDIO_CONSTRAINTS, LocalMedia, VIDEO_SIZES } from './room-media.js';
import { JoinPreview } from './room-prejoin.js';
import { RoomFullError, RoomSession } from './room-session.js';
import { RoomControls } from './room-controls.js';
import { SpeakingDetector } from './room-speaking.js';
import { Tile, TileGrid } from './room-tiles.js';
import { roomFromPath, roomName } from './room-name.js';
import './strings/devices.js';
import './strings/room.js';

const $ = (id) => document.getElementById(id);
const NAME_KEY = 'signaling.name';
const LOCAL = 'local';

class RoomPage {
  constructor() {
    const asked = roomFromPath(location.pathname);
    this.room = roomName(asked) || asked;
    this.session = null;
    this.media = null;
    this.grid = new TileGrid($('tiles'));
    this.chat = new ChatLog($('chat-log'));
    this.speaking = null;
    this.chatReceived = []; // {from, name, text, ts} (tests read this)
    this.announced = new Set(); // peer ids whose arrival the chat has shown, until they leave
    say($('page-title'), 'room.title', { room: this.room });
    say($('join-heading'), 'room.heading', { room: this.room });
    say($('room-label'), 'room.title', { room: this.room });
    try { $('join-name').value = localStorage.getItem(NAME_KEY) || ''; } catch { /* storage blocked */ }
    $('join-form').addEventListener('submit', (event) => { event.preventDefault(); this.join(); });
    $('chat-form').addEventListener('submit', (event) => { event.preventDefault(); this.sendChat(); });
    $('copy-link').addEventListener('click', () => this.copyLink());
    if (!roomName(this.room)) { this.showBadRoom(); return; }
    this.preview = new JoinPreview({ video: this.videoSize(), audio: AUDIO_CONSTRAINTS });
    this.preview.update();
  }

  videoSize() {
    const low = new URLSearchParams(location.search).get('video') === 'low';
    return low ? VIDEO_SIZES.low : VIDEO_SIZES.normal;
  }

  /** The friendly error page for an address no room can have: says why, links home. */
  showBadRoom() {
    this.badRoom = true;
    const empty = !this.room;
    say($('page-title'), empty ? 'room.no_room_title' : 'room.bad_room_title');
    say($('join-heading'), empty ? 'room.no_room_title' : 'room.bad_room_title');
    $('join-form').hidden = true;
    document.querySelector('#join-screen .muted').hidden = true;
    const box = $('join-error');
    box.hidden = false;
    box.className = 'notice error';
    box.setAttribute('role', 'status');
    say(box, empty ? 'room.no_room' : 'room.bad_room', { room: this.room });
    $('rejoin').hidden = true;
    $('left-actions').hidden = false;
  }

  showJoinError(key, vars) {
    const box = $('join-error');
    box.className = 'notice error';
    box.hidden = !key;
    say(box, key, vars);
  }

  notice(key, vars) {
    this.noticeKey = key;
    const box = $('room-notice');
    box.hidden = !key;
    say(box, key, vars);
  }

  async join() {
    const name = $('join-name').value.trim();
    if (!name) { this.showJoinError('room.need_name'); $('join-name').focus(); return; }
    if (this.badRoom) return;
    try { localStorage.setItem(NAME_KEY, name); } catch { /* storage blocked */ }
    this.showJoinError(null);
    $('left-actions').hidden = true;
    const button = $('join-button');
    button.disabled = true;
    say(button.querySelector('span'), 'room.joining');
    this.media = new LocalMedia({ video: this.videoSize() });
    // The preview's tracks become the call's: no second prompt, the devices chosen above.
    const { camera, mic, failures } = await this.preview.handOver();
    this.media.adopt({ camera, mic });
    this.session = new RoomSession({ room: this.room, name, media: this.media });
    this.listen(this.session);
    try {
      await this.session.join();
    } catch (error) {
      this.media.stopAll();
      this.session.client.leave();
      this.session = null;
      this.preview.restart();
      if (error instanceof RoomFullError) this.showJoinError('room.full', { capacity: error.capacity });
      else this.showJoinError('room.join_failed', { message: error.message || String(error) });
      button.disabled = false;
      say(button.querySelector('span'), 'room.join');
      return;
    }
    button.disabled = false;
    say(button.querySelector('span'), 'room.join');
    if (failures.length) this.notice('room.media_warning', { message: t(...mediaError(failures[0])) });
    this.enterRoom(name);
  }

  enterRoom(name) {
    $('join-screen').hidden = true;
    $('room-shell').hidden = false;
    // The join button just vanished: start keyboard focus at the top (the room's
    // heading), so Tab walks the header before the controls and the chat.
    $('room-label').hidden = false;
    $('room-label').focus();
    $('share').hidden = false;
    $('share-link').value = `${location.origin}/room/${encodeURIComponent(this.room)}`;
    this.speaking = new SpeakingDetector((id, on) => {
      this.grid.get(id)?.setSpeaking(on);
      if (on) this.grid.spoke(id);
    });
    const local = this.grid.add(new Tile({ id: LOCAL, name, local: true }));
    this.grid.container.prepend(local.el);
    this.controls ||= new RoomControls({
      media: this.media,
      onError: (key, error) => this.notice(key, { message: t(...mediaError(error)) }),
      onLeave: () => this.leave(),
    });
    this.controls.media = this.media;
    this.media.addEventListener('tracks', () => this.showLocal());
    this.media.addEventListener('state', () => this.showLocal());
    // On a phone the chat starts folded away so the tiles get the screen.
    if (matchMedia('(max-width: 720px)').matches) this.controls.setChatVisible(false);
    this.ready = true;
    this.showLocal();
    this.updatePeople();
  }

  listen(session) {
    // The server out of reach: say so (calls already connected carry on peer to peer).
    session.client.addEventListener('reconnecting', ({ detail }) => {
      if (detail.reason !== 'stream-ended') this.showServerWarning(true);
    });
    session.client.addEventListener('open', () => this.showServerWarning(false));
    session.addEventListener('member-added', ({ detail: { member, quiet } }) => {
      const tile = this.grid.add(new Tile({ id: member.peer_id, name: member.name }));
      tile.setStream(member.call.remoteStream);
      tile.setBadge('room.connecting');
      // One "X joined" per presence: a member who comes back after an outage (new
      // connection, same peer) is not news; one who left and returns is.
      if (this.ready && !quiet && !this.announced.has(member.peer_id)) this.chat.system('room.joined_msg', { name: member.name });
      this.announced.add(member.peer_id);
      this.updatePeople();
    });
    session.addEventListener('member-removed', ({ detail: { member, reason, quiet } }) => {
      this.grid.remove(member.peer_id);
      this.speaking?.unwatch(member.peer_id);
      if (!quiet) {
        this.announced.delete(member.peer_id);
        const lost = ['timeout', 'disconnected', 'lost'].includes(reason);
        this.chat.system(lost ? 'room.timeout_msg' : 'room.left_msg', { name: member.name });
      }
      this.updatePeople();
    });
    session.addEventListener('track', ({ detail: { member, track, kind } }) => {
      const tile = this.grid.get(member.peer_id);
      if (!tile) return;
      tile.setStream(member.call.remoteStream);
      if (kind === 'audio') this.speaking?.watch(member.peer_id, track);
      else {
        track.addEventListener('mute', () => this.showMember(member));
        track.addEventListener('unmute', () => this.showMember(member));
      }
      this.showMember(member);
    });
    session.addEventListener('member-updated', ({ detail: { member } }) => this.showMember(member));
    session.addEventListener('connection', ({ detail: { member, state } }) => {
      const tile = this.grid.get(member.peer_id);
      if (!tile) return;
      if (state === 'connected') tile.setBadge(null);
      else if (state === 'failed' || state === 'lost' || member.lost) tile.setBadge('room.connection_lost');
      else if (state === 'disconnected') tile.setBadge('room.reconnecting');
      else if (state !== 'closed') tile.setBadge('room.connecting');
    });
    // A lost connection rebuilt from scratch: the same tile shows the new connection's media.
    session.addEventListener('member-rebuilt', ({ detail: { member } }) => {
      this.grid.get(member.peer_id)?.setStream(member.call.remoteStream);
      this.showMember(member);
    });
    session.addEventListener('chat', ({ detail: { member, text, ts } }) => {
      this.chatReceived.push({ from: member.peer_id, name: member.name, text, ts });
      this.chat.add({ name: member.name, ts, text });
      this.controls?.chatArrived();
    });
  }

  showServerWarning(on) {
    this.serverDown = on;
    const box = $('server-warning');
    box.hidden = !on;
    say(box, on ? 'room.server_down' : null);
  }

  /** A remote tile shows video only while the sender says its camera/screen is on and frames arrive. */
  showMember(member) {
    const tile = this.grid.get(member.peer_id);
    if (!tile) return;
    const video = member.call.remoteStream.getVideoTracks()[0];
    const sending = member.state.camera || member.state.screen;
    tile.setVideoVisible(Boolean(sending && video && !video.muted && video.readyState === 'live'));
    tile.setMicOn(member.state.mic);
    tile.setScreen(member.state.screen);
    this.speaking?.setEnabled(member.peer_id, member.state.mic);
  }

  showLocal() {
    const tile = this.grid.get(LOCAL);
    if (!tile || !this.media) return;
    const state = this.media.state();
    tile.setStream(this.media.preview);
    tile.setVideoVisible(Boolean(this.media.videoTrack));
    tile.setScreen(state.screen);
    tile.setMicOn(state.mic);
    this.speaking?.watch(LOCAL, this.media.audioTrack);
    this.speaking?.setEnabled(LOCAL, state.mic);
  }

  updatePeople() {
    if (!this.session?.capacity) return;
    const alone = this.session.members.size === 0;
    if (alone && this.ready && !this.noticeKey) this.notice('room.alone');
    else if (!alone && this.noticeKey === 'room.alone') this.notice(null);
    say($('people'), 'room.people', { count: this.session.members.size + 1, capacity: this.session.capacity });
  }

  sendChat() {
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text || !this.session) return;
    const message = this.session.sendChat(text);
    this.chat.add({ name: this.session.name, ts: message.ts, text, mine: true });
    input.value = '';
  }

  async copyLink() {
    const label = $('copy-link').querySelector('span');
    const ok = await copyText($('share-link').value, $('share-link'));
    say(label, ok ? 'common.copied' : 'common.copy_failed');
    setTimeout(() => say(label, 'room.copy_link'), 2000);
  }

  async leave() {
    const session = this.session;
    if (!session) return;
    this.session = null;
    this.ready = false;
    await session.leave();
    this.media.stopAll();
    this.speaking?.stop();
    for (const id of [...this.grid.tiles.keys()]) this.grid.remove(id);
    $('room-shell').hidden = true;
    $('room-label').hidden = true;
    $('share').hidden = true;
    $('join-screen').hidden = false;
    $('people').textContent = '';
    this.notice(null);
    this.showJoinError('room.left');
    $('join-error').className = 'notice';
    $('join-form').hidden = true; // "Join again" reloads the page for a clean start
    $('rejoin').href = location.pathname + location.search;
    $('left-actions').hidden = false;
    $('rejoin').focus(); // not <body>: keyboard users carry on from here
  }
}

startPage();
window.room = new RoomPage();
