// The storage banner: for admins, a red line at the top of the shell while
// a live recorder's capacity guard says its store fills within the warning
// threshold (GET /recorders). Re-read every minute; dismissed for the
// browser session (until the tab is closed), per node.

import { api } from './api.js';
import { t, onLangChange } from './i18n.js';
import { h, icon } from './dom.js';

/** checkEvery is how often the recorders are read again. */
const checkEvery = 60000;

const dismissKey = 'sharpeyes.storageBannerDismissed';

let banner = null;

/** startStorageBanner mounts the banner into parent once; later calls do nothing. */
export function startStorageBanner(parent) {
  if (banner) return banner;
  banner = new StorageBanner();
  parent.append(banner.el);
  banner.check();
  setInterval(() => { if (!document.hidden) banner.check(); }, checkEvery);
  onLangChange(() => banner.render());
  return banner;
}

/** alarms returns the live recorders whose capacity alarm is on. */
function alarms(items) {
  return (items || []).filter((r) => r.live && r.capacity?.alarm);
}

/** days formats a headroom in days: one decimal below 10, whole days above. */
function days(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '?';
  return v < 10 ? String(Math.max(0, Math.floor(v * 10) / 10)) : String(Math.floor(v));
}

class StorageBanner {
  constructor() {
    this.items = [];
    // checks counts the answered reads, for tests (data-checks).
    this.checks = 0;
    this.el = h('div', { class: 'storage-banner', role: 'alert', testid: 'storage-banner', hidden: true });
  }

  /** check reads the recorders; a failed read keeps what is shown. */
  async check() {
    try {
      const res = await api('GET', '/recorders');
      this.items = alarms(res?.items);
    } catch {
      return;
    }
    this.render();
    this.el.dataset.checks = String(++this.checks);
  }

  dismissed() {
    try { return JSON.parse(sessionStorage.getItem(dismissKey) || '[]'); } catch { return []; }
  }

  dismiss() {
    const nodes = new Set([...this.dismissed(), ...this.items.map((r) => r.node)]);
    try { sessionStorage.setItem(dismissKey, JSON.stringify([...nodes])); } catch { /* hidden until reload */ }
    this.items = [];
    this.render();
  }

  render() {
    const gone = new Set(this.dismissed());
    const shown = this.items.filter((r) => !gone.has(r.node));
    const lines = shown.map((r) => h('div', { class: 'storage-banner-line', testid: 'storage-banner-line' },
      t('banner.storageLow', { node: r.node, days: days(r.capacity.headroom_days), warn: days(r.capacity.warn_days) })));
    const close = h('button', {
      type: 'button', class: 'btn ghost storage-banner-close', testid: 'storage-banner-close',
      i18nTitle: 'banner.dismiss', onclick: () => this.dismiss(),
    }, icon('close'));
    this.el.replaceChildren(h('div', { class: 'storage-banner-text' }, lines), close);
    this.el.hidden = shown.length === 0;
  }
}
