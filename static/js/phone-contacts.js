// DOM builders for the phone's lists (contacts, missed calls). Names are set
// with textContent only. A row's accessible name is its visible text plus
// "Call" (the icon's alt), so what a screen reader says and what a voice-control
// user reads on screen match (no aria-label that hides the visible text).

import { t } from './i18n.js';

/** The first letter of a name, for the round avatar. */
export function initial(name) {
  return (Array.from(String(name || '?').trim())[0] || '?').toUpperCase();
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function callIcon() {
  const icon = document.createElement('img');
  icon.src = '/static/icons/phone.svg';
  icon.alt = t('contacts.call-short');
  icon.className = 'call-icon';
  return icon;
}

/** One contact row: avatar, name (clamped to 2 lines, full name in the tooltip), number. */
export function contactItem(peer, disabled) {
  const li = document.createElement('li');
  const button = el('button', 'contact');
  button.type = 'button';
  button.dataset.peerId = peer.peer_id;
  button.dataset.name = peer.name;
  button.dataset.testid = 'contact';
  button.title = t('contacts.call', { name: peer.name });
  button.disabled = disabled;
  const avatar = el('span', 'avatar', initial(peer.name));
  avatar.setAttribute('aria-hidden', 'true');
  const text = el('span', 'contact-text');
  const name = el('span', 'contact-name', peer.name);
  name.title = peer.name;
  text.append(name, el('span', 'contact-number muted small', peer.peer_id));
  button.append(avatar, text, callIcon());
  li.append(button);
  return li;
}

const MISSED_KEYS = { busy: 'missed.busy', dnd: 'missed.dnd' };

/** One missed-call row (calls back when pressed). */
export function missedItem(entry, timeOf) {
  const li = document.createElement('li');
  const button = el('button', 'missed-entry');
  button.type = 'button';
  button.dataset.peerId = entry.peer_id;
  button.dataset.name = entry.name;
  button.dataset.testid = 'missed-call';
  button.dataset.reason = entry.reason || '';
  button.title = t('contacts.call', { name: entry.name });
  const text = el('span', 'missed-text', t(MISSED_KEYS[entry.reason] || 'missed.entry', { name: entry.name, time: timeOf(entry.at) }));
  button.append(text, callIcon());
  li.append(button);
  return li;
}
