// Tours (轮巡): a group of channels cycled through the wall page by page.

import { t, onLangChange } from './i18n.js';
import { h, icon, toast, store } from './dom.js';

/** Tour owns the tour selection, its panel and its timer. */
export class Tour {
  /** @param {import('./wall.js').Wall} wall */
  constructor(wall) {
    this.wall = wall;
    const saved = store.get('tour', {});
    this.channels = Array.isArray(saved.channels) ? saved.channels.filter((c) => c && c.id) : [];
    this.interval = Number(saved.interval) >= 5 ? Number(saved.interval) : 30;
    this.selecting = false;
    this.running = false;
    this.page = 0;
    this.timer = null;
    this.onSelectionChange = () => {};
    this.build();
    onLangChange(() => this.render());
    this.render();
  }

  /** selection is the interface the tree uses for its checkboxes. */
  get selection() {
    return {
      enabled: () => this.selecting,
      has: (id) => this.channels.some((c) => c.id === id),
      toggle: (ch, on) => {
        this.channels = this.channels.filter((c) => c.id !== ch.id);
        if (on) this.channels.push(ch);
        this.changed();
      },
      addMany: (chs) => {
        const have = new Set(this.channels.map((c) => c.id));
        for (const ch of chs) if (!have.has(ch.id)) { this.channels.push(ch); have.add(ch.id); }
        this.changed();
      },
    };
  }

  changed() {
    store.set('tour', { channels: this.channels, interval: this.interval });
    this.render();
  }

  build() {
    this.count = h('span', { class: 'tour-count', testid: 'tour-count' });
    this.selectBtn = h('button', {
      type: 'button', class: 'btn small', testid: 'tour-select',
      onclick: () => { this.selecting = !this.selecting; this.render(); this.onSelectionChange(); },
    });
    this.intervalInput = h('input', {
      type: 'number', class: 'input small', min: '5', max: '3600', step: '1', value: String(this.interval),
      testid: 'tour-interval',
      onchange: () => {
        const v = Number(this.intervalInput.value);
        if (!Number.isFinite(v) || v < 5 || v > 3600) { toast(t('tour.badInterval')); this.intervalInput.value = String(this.interval); return; }
        this.interval = Math.round(v);
        this.changed();
        if (this.running) this.schedule();
      },
    });
    this.startBtn = h('button', { type: 'button', class: 'btn primary small', testid: 'tour-start', onclick: () => this.start() },
      icon('play'), h('span', { i18n: 'tour.start' }));
    this.stopBtn = h('button', { type: 'button', class: 'btn danger small', testid: 'tour-stop', onclick: () => this.stop() },
      icon('stop'), h('span', { i18n: 'tour.stop' }));
    this.clearBtn = h('button', {
      type: 'button', class: 'btn ghost small', testid: 'tour-clear',
      onclick: () => { this.channels = []; this.changed(); this.onSelectionChange(); },
    }, h('span', { i18n: 'tour.clear' }));
    this.el = h('div', { class: 'tour-panel' },
      h('div', { class: 'panel-title' }, icon('tour'), h('span', { i18n: 'tour.title' }), h('span', { class: 'spacer' }), this.count),
      h('div', { class: 'tour-row' }, this.selectBtn, this.clearBtn),
      h('label', { class: 'tour-row' }, h('span', { class: 'label', i18n: 'tour.interval' }), this.intervalInput),
      h('div', { class: 'tour-row' }, this.startBtn, this.stopBtn));
  }

  render() {
    this.count.textContent = t('tour.selected', { n: this.channels.length });
    this.selectBtn.textContent = t(this.selecting ? 'tour.selectDone' : 'tour.select');
    this.selectBtn.classList.toggle('active', this.selecting);
    this.startBtn.hidden = this.running;
    this.stopBtn.hidden = !this.running;
    const pages = this.pages();
    this.wall.tourInfo.textContent = this.running ? t('tour.running', { page: this.page + 1, pages }) : '';
    this.wall.tourInfo.hidden = !this.running;
  }

  pages() { return Math.max(1, Math.ceil(this.channels.length / this.wall.layout)); }

  start() {
    if (!this.channels.length) { toast(t('tour.needChannels'), 'info'); return; }
    this.running = true;
    this.page = 0;
    this.show();
    this.schedule();
  }

  stop() {
    this.running = false;
    clearInterval(this.timer);
    this.timer = null;
    this.render();
  }

  schedule() {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.page = (this.page + 1) % this.pages();
      this.show();
    }, this.interval * 1000);
  }

  show() {
    if (this.page >= this.pages()) this.page = 0;
    const n = this.wall.layout;
    this.wall.showPage(this.channels.slice(this.page * n, this.page * n + n));
    this.render();
  }

  /** layoutChanged re-shows the current page with the new pane count. */
  layoutChanged() {
    if (this.running) this.show();
  }
}
