// Translations: every user-facing string comes from a table registered here.
// Apps register their own tables (static/js/strings/*.js) and call t(key).
// The language is the browser's (ja or en), overridable with setLanguage()
// and remembered in localStorage.

const SUPPORTED = ['en', 'ja'];
const STORAGE_KEY = 'signaling.lang';
const tables = { en: {}, ja: {} };
let current = initialLanguage();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (SUPPORTED.includes(saved)) return saved;
  } catch { /* storage may be blocked */ }
  const wanted = (navigator.languages || [navigator.language || 'en']).map((l) => String(l).slice(0, 2));
  return wanted.find((l) => SUPPORTED.includes(l)) || 'en';
}

/** Add strings: register({en: {key: 'text'}, ja: {key: 'テキスト'}}). */
export function register(table) {
  for (const [lang, strings] of Object.entries(table)) {
    tables[lang] = Object.assign(tables[lang] || {}, strings);
  }
}

/** The text for key in the current language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const text = tables[current][key] ?? tables.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function language() {
  return current;
}

/** The keys registered for lang (lets tests check that every table has both languages). */
export function keys(lang) {
  return Object.keys(tables[lang] || {});
}

export function languages() {
  return SUPPORTED.slice();
}

/** Switch language, remember it and re-translate the page. */
export function setLanguage(lang) {
  if (!SUPPORTED.includes(lang)) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* ignore */ }
  translatePage();
  document.dispatchEvent(new CustomEvent('languagechange', { detail: { lang } }));
}

/**
 * Fill elements marked data-i18n="key" (textContent, never HTML) and
 * data-i18n-attr="placeholder:key;aria-label:key2" (attributes).
 */
export function translatePage(root = document) {
  document.documentElement.lang = current;
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-i18n]'))) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-i18n-attr]'))) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}
