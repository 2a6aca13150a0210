// The manual signaling page: the step-by-step copy/paste flow between two tabs.
import { t } from './i18n.js';
import { copyText, mediaError, say, startPage } from './lang-switch.js';
import { ChatLog } from './chat-log.js';
import { ManualPeer } from './manual-peer.js';
import './strings/manual.js';

const $ = (id) => document.getElementById(id);

class ManualPage {
  constructor() {
    this.peer = null;
    this.received = []; // chat messages that arrived (tests read this)
    this.chat = new ChatLog($('chat-log'));
    this.status = $('manual-status');
    this.states = $('manual-states');
    $('create-offer').addEventListener('click', () => this.run(() => this.createOffer()));
    $('accept-answer').addEventListener('click', () => this.run(() => this.acceptAnswer()));
    $('create-answer').addEventListener('click', () => this.run(() => this.createAnswer()));
    $('copy-offer').addEventListener('click', () => this.copy($('offer-out'), $('copy-offer')));
    $('copy-answer').addEventListener('click', () => this.copy($('answer-out'), $('copy-answer')));
    $('chat-form').addEventListener('submit', (event) => this.sendChat(event));
    $('hang-up').addEventListener('click', () => this.hangUp());
    $('add-cands').addEventListener('click', () => this.run(() => this.addCandidates()));
    $('copy-cands').addEventListener('click', () => this.copy($('cands-out'), $('copy-cands')));
    $('opt-trickle').addEventListener('change', () => { $('trickle').hidden = !$('opt-trickle').checked; });
    for (const radio of document.querySelectorAll('input[name=role]')) {
      radio.addEventListener('change', () => this.pickRole(radio.value));
    }
    document.addEventListener('languagechange', () => this.showStates());
  }

  /**
   * Show only this tab's side. On a phone the introduction and the options fold
   * away too (the options stay one tap away), so the tab is its own steps.
   */
  pickRole(role) {
    document.querySelector('.roles').dataset.role = role;
    document.querySelector('main').dataset.role = role;
    if (role !== 'both' && matchMedia('(max-width: 720px)').matches) $('options').open = false;
  }

  async run(step) {
    try {
      await step();
    } catch (error) {
      const media = ['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError'].includes(error.name);
      this.show('error', ...(media ? mediaError(error) : ['manual.error.generic', { message: error.message || String(error) }]));
    }
  }

  show(kind, key, vars) {
    this.status.className = 'notice' + (kind ? ' ' + kind : '');
    say(this.status, key, vars);
  }

  async newPeer() {
    this.peer?.close();
    let stream = null;
    if ($('opt-media').checked) {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240, frameRate: 15 } });
      $('local-video').srcObject = stream;
      $('videos').hidden = false;
    }
    const trickle = $('opt-trickle').checked;
    const peer = new ManualPeer({ stun: $('opt-stun').checked, stream, trickle });
    this.stream = stream;
    this.wasConnected = false;
    this.ended = false;
    $('cands-out').value = '';
    $('trickle').hidden = !trickle;
    $('hang-up').disabled = false;
    peer.addEventListener('state', () => this.onState());
    peer.addEventListener('open', () => this.onOpen());
    peer.addEventListener('close', () => this.onClose());
    peer.addEventListener('bye', () => this.peerGone());
    peer.addEventListener('candidate', (event) => {
      $('cands-out').value += JSON.stringify(event.detail.candidate) + '\n';
    });
    peer.addEventListener('message', (event) => this.onMessage(event.detail));
    peer.addEventListener('track', () => {
      $('remote-video').srcObject = peer.remoteStream;
      $('videos').hidden = false;
    });
    this.peer = peer;
    this.showStates();
    return peer;
  }

  async createOffer() {
    $('offer-out').value = '';
    $('copy-offer').disabled = true;
    const peer = await this.newPeer();
    this.show('', 'manual.state.gathering');
    const offer = await peer.createOffer();
    $('offer-out').value = offer.sdp; // vanilla: every ICE candidate included; trickle: none yet
    $('copy-offer').disabled = false;
    this.show('ok', 'manual.state.offer_ready');
    this.showTiming(offer);
  }

  async acceptAnswer() {
    if (!this.peer || this.peer.pc.signalingState !== 'have-local-offer') {
      this.show('error', 'manual.error.wrong_order');
      return;
    }
    const answer = ManualPeer.parse($('answer-in').value, 'answer');
    if (!answer) {
      this.show('error', 'manual.error.bad_text', { kind: t('manual.kind.answer') });
      return;
    }
    this.show('', 'manual.state.connecting'); // before: the channel may open while we await
    await this.peer.acceptAnswer(answer);
  }

  async createAnswer() {
    const offer = ManualPeer.parse($('offer-in').value, 'offer');
    if (!offer) {
      this.show('error', 'manual.error.bad_text', { kind: t('manual.kind.offer') });
      return;
    }
    $('answer-out').value = '';
    $('copy-answer').disabled = true;
    const peer = await this.newPeer();
    this.show('', 'manual.state.gathering');
    const answer = await peer.acceptOffer(offer);
    $('answer-out').value = answer.sdp;
    $('copy-answer').disabled = false;
    this.show('ok', 'manual.state.answer_ready');
    this.showTiming(answer);
  }

  async copy(field, button) {
    const label = button.querySelector('span');
    const ok = await copyText(field.value, field);
    say(label, ok ? 'common.copied' : 'common.copy_failed');
    setTimeout(() => say(label, 'common.copy'), 2000);
  }

  /** The difference between the two: how long the text took and how many candidates it carries. */
  showTiming(description) {
    const key = this.peer.trickle ? 'manual.timing.trickle' : 'manual.timing.vanilla';
    say($('manual-timing'), key, { ms: description.ms, candidates: description.candidates });
  }

  async addCandidates() {
    if (!this.peer) { this.show('error', 'manual.error.wrong_order'); return; }
    const added = await this.peer.addCandidates($('cands-in').value);
    $('cands-in').value = '';
    this.show('', 'manual.state.cands_added', { count: added });
  }

  onState() {
    this.showStates();
    const state = this.peer.pc.connectionState;
    if (state === 'connected') this.wasConnected = true;
    // Once connected, a drop means the other side went away (closed the tab, hung
    // up): say so. The STUN hint is only for connections that never came up.
    if ((state === 'failed' || state === 'disconnected') && this.wasConnected) this.peerGone();
    else if (state === 'failed') this.show('error', 'manual.state.failed');
  }

  /** We hang up: tell the other side, close, and offer a fresh start. */
  hangUp() {
    if (!this.peer) return;
    this.ended = true;
    this.peer.hangUp();
    this.endCall('manual.state.hung_up');
    $('create-offer').focus();
  }

  /** The other side hung up or vanished. */
  peerGone() {
    if (this.ended) return;
    this.ended = true;
    this.peer?.close();
    this.endCall('manual.state.peer_gone');
  }

  endCall(key) {
    this.show('', key);
    this.showStates();
    for (const track of this.stream?.getTracks() || []) track.stop();
    $('chat-input').disabled = true;
    $('chat-send').disabled = true;
    $('hang-up').disabled = true;
  }

  showStates() {
    if (!this.peer) return;
    say(this.states, 'manual.states', this.peer.states());
  }

  onOpen() {
    this.show('ok', 'manual.state.connected');
    $('chat-input').disabled = false;
    $('chat-send').disabled = false;
  }

  onClose() {
    // Our own hang-up closes the channel too; otherwise the other side closed it.
    if (!this.ended) this.peerGone();
  }

  onMessage(message) {
    this.received.push(message);
    this.chat.add({ name: t('manual.peer'), ts: message.ts, text: message.text });
  }

  sendChat(event) {
    event.preventDefault();
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text || !this.peer?.channel || this.peer.channel.readyState !== 'open') return;
    const message = this.peer.send(text);
    this.chat.add({ name: t('manual.me'), ts: message.ts, text, mine: true });
    input.value = '';
  }
}

startPage();
window.manual = new ManualPage();
