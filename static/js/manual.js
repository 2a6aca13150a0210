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
    document.addEventListener('languagechange', () => this.showStates());
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
    const peer = new ManualPeer({ stun: $('opt-stun').checked, stream });
    peer.addEventListener('state', () => this.onState());
    peer.addEventListener('open', () => this.onOpen());
    peer.addEventListener('close', () => this.onClose());
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
    $('offer-out').value = offer.sdp; // the full SDP, every ICE candidate included
    $('copy-offer').disabled = false;
    this.show('ok', 'manual.state.offer_ready');
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
  }

  async copy(field, button) {
    const label = button.querySelector('span');
    const ok = await copyText(field.value, field);
    say(label, ok ? 'common.copied' : 'common.copy_failed');
    setTimeout(() => say(label, 'common.copy'), 2000);
  }

  onState() {
    this.showStates();
    const state = this.peer.pc.connectionState;
    if (state === 'failed') this.show('error', 'manual.state.failed');
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
    this.show('', 'manual.state.closed');
    $('chat-input').disabled = true;
    $('chat-send').disabled = true;
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
