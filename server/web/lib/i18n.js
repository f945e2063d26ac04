// Two languages, Vietnamese first. Elements name their text by key:
//   data-t="key"            -> textContent
//   data-t-aria="key"       -> aria-label
//   data-t-placeholder="key"-> placeholder
//   data-t-title="key"      -> title
// The HTML already holds the Vietnamese text, so a page reads right even before its script runs.

export const LANGS = ['vi', 'en'];

export function createI18n(dict, initial = 'vi') {
  let lang = LANGS.includes(initial) ? initial : 'vi';
  const listeners = new Set();

  function t(key, vars = {}) {
    const table = dict[lang] ?? dict.vi;
    let s = table[key] ?? dict.vi[key] ?? key;
    if (typeof s === 'function') return s(vars);
    for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
    return s;
  }

  function apply(root = document) {
    for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    for (const el of root.querySelectorAll('[data-t-aria]')) el.setAttribute('aria-label', t(el.dataset.tAria));
    for (const el of root.querySelectorAll('[data-t-placeholder]')) el.setAttribute('placeholder', t(el.dataset.tPlaceholder));
    for (const el of root.querySelectorAll('[data-t-title]')) el.setAttribute('title', t(el.dataset.tTitle));
  }

  function setLang(next) {
    lang = LANGS.includes(next) ? next : 'vi';
    document.documentElement.lang = lang;
    apply();
    for (const l of listeners) l(lang);
  }

  return {
    t,
    apply,
    setLang,
    get lang() {
      return lang;
    },
    other: () => (lang === 'vi' ? 'en' : 'vi'),
    onChange(l) {
      listeners.add(l);
    },
  };
}

/** Dates as people in the office read them: local time, 24-hour clock. */
export function formatTime(iso, lang) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}
