// Small DOM helpers: element builder and toasts.

import { t } from './i18n.js';

/**
 * h builds an element. attrs: class, text, i18n (key), testid, dataset
 * object, on<Event> listeners, other attributes as is; children are nodes,
 * strings or arrays of them (null/false skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'i18n') { el.dataset.i18n = v; el.textContent = t(v); }
    else if (k === 'i18nTitle') { el.dataset.i18nTitle = v; el.title = t(v); el.setAttribute('aria-label', t(v)); }
    else if (k === 'i18nPlaceholder') { el.dataset.i18nPlaceholder = v; el.placeholder = t(v); }
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** icon returns an inline SVG icon by name (stroke icons, 16 px box). */
export function icon(name) {
  const paths = {
    close: 'M4 4l8 8M12 4l-8 8',
    fullscreen: 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4',
    ptz: 'M8 1.5v3M8 11.5v3M1.5 8h3M11.5 8h3M8 6a2 2 0 1 0 0 4a2 2 0 1 0 0-4',
    retry: 'M13 8a5 5 0 1 1-1.5-3.5M13 2v3h-3',
    arrow: 'M8 13V3M4 7l4-4 4 4',
    plus: 'M8 3v10M3 8h10', minus: 'M3 8h10',
    search: 'M7 2.5a4.5 4.5 0 1 0 0 9a4.5 4.5 0 1 0 0-9M10.5 10.5L14 14',
    camera: 'M2 5h8v6H2zM10 7l4-2v6l-4-2',
    device: 'M2 3h12v7H2zM5 13h6M8 10v3',
    region: 'M8 14s5-4.5 5-8A5 5 0 0 0 3 6c0 3.5 5 8 5 8zM8 4.5a1.5 1.5 0 1 0 0 3a1.5 1.5 0 1 0 0-3',
    chevron: 'M6 4l4 4-4 4',
    pause: 'M5 3v10M11 3v10', play: 'M5 3l8 5-8 5z', stop: 'M4 4h8v8H4z',
    download: 'M8 2v8M4.5 6.5L8 10l3.5-3.5M3 13h10',
    logout: 'M6 3H3v10h3M10 5l3 3-3 3M13 8H6',
    tour: 'M2 8a6 6 0 0 1 10.5-4M14 8a6 6 0 0 1-10.5 4M12.5 1v3h-3M3.5 15v-3h3',
    probe: 'M1.5 8h3l1.5-4 3 8 1.5-4h4',
  };
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', paths[name] || '');
  svg.append(p);
  return svg;
}

let toastBox;

/** toast shows a short message; kind is 'error', 'ok' or 'info'. */
export function toast(message, kind = 'error', ms = 5000) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  // The same message twice in a row (a flapping call) shows once.
  for (const el of toastBox.children) {
    if (el.dataset.msg === message) return;
  }
  const el = h('div', { class: `toast toast-${kind}`, dataset: { msg: message } },
    h('span', { class: 'toast-text', text: message }),
    h('button', { class: 'icon-btn', type: 'button', i18nTitle: 'common.close', onclick: () => el.remove() }, icon('close')));
  toastBox.append(el);
  setTimeout(() => el.remove(), ms);
}

/** debounce delays fn until ms passed without another call. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** store is a tiny JSON wrapper over localStorage that never throws. */
export const store = {
  get(key, fallback) {
    try {
      const v = localStorage.getItem(`sharpeyes.${key}`);
      return v === null ? fallback : JSON.parse(v);
    } catch { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem(`sharpeyes.${key}`, JSON.stringify(value)); } catch { /* full or disabled */ }
  },
};

/**
 * ask shows a modal form and resolves to its values by field name, or null
 * when cancelled. fields: [{name, label (i18n key), type, required}]; with no
 * fields it is a confirmation. check(values) returns an error text or ''.
 */
export function ask({ title, message = '', fields = [], ok = 'common.ok', danger = false, check = () => '' }) {
  return new Promise((resolve) => {
    const inputs = {};
    const err = h('div', { class: 'form-error', role: 'alert', testid: 'ask-error', hidden: true });
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    const form = h('form', {
      class: 'ask-form', novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const values = {};
        for (const [name, el] of Object.entries(inputs)) values[name] = el.value;
        const missing = fields.find((f) => f.required && !values[f.name].trim());
        const msg = missing ? t('form.required', { field: t(missing.label) }) : check(values);
        if (msg) { err.textContent = msg; err.hidden = false; return; }
        done(values);
      },
    },
    h('h2', { text: title }),
    message ? h('p', { class: 'ask-message', text: message }) : null,
    fields.map((f) => {
      inputs[f.name] = h('input', { class: 'input', type: f.type || 'text', name: f.name, testid: `ask-${f.name}`, autocomplete: 'off' });
      return h('label', { class: 'field' }, h('span', { i18n: f.label }), inputs[f.name]);
    }),
    err,
    h('div', { class: 'ask-buttons' },
      h('button', { type: 'button', class: 'btn', i18n: 'common.cancel', testid: 'ask-cancel', onclick: () => done(null) }),
      h('button', { type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}`, i18n: ok, testid: 'ask-ok' })));
    const dlg = h('dialog', { class: 'ask', oncancel: (e) => { e.preventDefault(); done(null); } }, form);
    document.body.append(dlg);
    dlg.showModal();
    (Object.values(inputs)[0] || form.querySelector('[data-testid="ask-ok"]')).focus();
  });
}
