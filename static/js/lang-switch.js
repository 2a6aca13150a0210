// The visible en / 日本語 switch every page shows, plus the page bootstrap
// (translate once the string tables are registered).
import { language, languages, setLanguage, t, translatePage } from './i18n.js';
import { MEDIA_ERROR_KEYS, mediaErrorKind } from './client/media-errors.js';
import './strings/common.js';

export class LanguageSwitch {
  /** Render buttons into `container` (an element with class lang-switch). */
  constructor(container) {
    this.container = container;
    this.buttons = new Map();
    container.setAttribute('role', 'group');
    for (const lang of languages()) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'lang-button';
      button.dataset.lang = lang;
      button.lang = lang;
      button.textContent = t(`common.lang.${lang}`);
      button.addEventListener('click', () => setLanguage(lang));
      container.append(button);
      this.buttons.set(lang, button);
    }
    document.addEventListener('languagechange', () => this.refresh());
    this.refresh();
  }

  refresh() {
    this.container.setAttribute('aria-label', t('common.language'));
    for (const [lang, button] of this.buttons) {
      button.setAttribute('aria-pressed', String(lang === language()));
    }
  }
}

/** Translate the page and mount the language switch(es). Call after importing string tables. */
export function startPage() {
  for (const el of document.querySelectorAll('.lang-switch')) new LanguageSwitch(el);
  translatePage();
}

const live = new Map(); // element -> {key, vars}: dynamic text that follows the language

/** Show t(key, vars) in el and keep it translated when the language changes; no key clears it. */
export function say(el, key, vars = {}) {
  el.removeAttribute('data-i18n');
  if (!key) {
    live.delete(el);
    el.textContent = '';
    return;
  }
  live.set(el, { key, vars });
  el.textContent = t(key, vars);
}

document.addEventListener('languagechange', () => {
  for (const [el, { key, vars }] of live) {
    if (!el.isConnected) live.delete(el);
    else el.textContent = t(key, vars);
  }
});

/** The string key (and vars) describing a getUserMedia / getDisplayMedia failure (classified in media-errors.js). */
export function mediaError(error) {
  const kind = mediaErrorKind(error);
  const vars = kind === 'generic' ? { message: (error && error.message) || String(error) } : {};
  return [MEDIA_ERROR_KEYS[kind], vars];
}

/** Copy text to the clipboard; falls back to selecting a textarea. Resolves true on success. */
export async function copyText(text, fallbackField) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackField) {
      fallbackField.focus();
      fallbackField.select();
      try { return document.execCommand('copy'); } catch { return false; }
    }
    return false;
  }
}
