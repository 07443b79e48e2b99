// Exports: an MP4 of a channel's range, made by a recorder (from platform
// storage or from the device), with its progress, then offered as a file;
// and the list of the user's exports, which outlive the page.

import { api, errorText, toRFC3339 } from './api.js';
import { t, formatTime } from './i18n.js';
import { h, icon, toast } from './dom.js';

const pollMs = 1000;
const dayMs = 24 * 3600 * 1000;

function pad(n) { return String(n).padStart(2, '0'); }

/** localValue is d as a datetime-local input's value, to the second. */
export function localValue(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function parseLocal(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v || '');
  if (!m) return null;
  const d = new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  return Number.isNaN(d.getTime()) ? null : d;
}

function fileURL(id) { return `/api/v1/exports/${encodeURIComponent(id)}/file`; }

function stateText(job) {
  if (job.state === 'running' || job.state === 'queued') {
    return t(`exp.state.${job.state}`) + (job.state === 'running' ? ` ${Math.round((Number(job.progress) || 0) * 100)}%` : '');
  }
  if (job.state === 'failed' && job.error) return t('exp.state.failedWith', { error: job.error });
  return t(`exp.state.${job.state}`);
}

/**
 * ExportsPanel is the export form under the timeline and the list of the
 * user's exports. channel() is the channel to export (or null); admin
 * offers everyone's exports in the list.
 */
export class ExportsPanel {
  constructor({ channel, admin = false, nameOf = () => undefined }) {
    this.channel = channel;
    this.admin = admin;
    this.nameOf = nameOf;
    this.job = null;
    this.build();
  }

  build() {
    this.fromInput = h('input', { type: 'datetime-local', step: '1', class: 'input', testid: 'export-from' });
    this.toInput = h('input', { type: 'datetime-local', step: '1', class: 'input', testid: 'export-to' });
    this.sourceSel = h('select', { class: 'input', testid: 'export-source' },
      ['platform', 'device'].map((s) => h('option', { value: s, i18n: `exp.source.${s}` })));
    this.startBtn = h('button', { type: 'button', class: 'btn', testid: 'export-start', onclick: () => this.start() },
      icon('download'), h('span', { i18n: 'exp.start' }));
    this.bar = h('div', { class: 'progress-bar' });
    this.progress = h('div', { class: 'progress', testid: 'export-progress' }, this.bar);
    this.progress.hidden = true;
    this.text = h('span', { class: 'dl-text', testid: 'export-state' });
    this.link = h('a', { class: 'btn primary', testid: 'export-link', download: '' }, icon('download'), h('span', { i18n: 'exp.file' }));
    this.link.hidden = true;
    this.listBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'export-list-toggle', onclick: () => this.toggleList() },
      h('span', { i18n: 'exp.list' }));
    this.allBox = h('input', { type: 'checkbox', testid: 'export-all', onchange: () => this.loadList() });
    this.rows = h('tbody');
    this.empty = h('div', { class: 'muted exp-empty', i18n: 'exp.none' });
    this.table = h('table', { class: 'table exp-table', testid: 'export-table' },
      h('thead', {}, h('tr', {}, ['exp.col.channel', 'exp.col.range', 'exp.col.source', 'exp.col.state', 'exp.col.expires', 'exp.col.owner', 'exp.col.actions']
        .map((k) => h('th', { i18n: k })))),
      this.rows);
    this.listEl = h('div', { class: 'exp-list', testid: 'export-list' },
      h('div', { class: 'exp-list-head' }, h('span', { class: 'label strong', i18n: 'exp.list' }),
        this.admin ? h('label', { class: 'inline' }, this.allBox, h('span', { i18n: 'exp.all' })) : null,
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'btn ghost', testid: 'export-refresh', onclick: () => this.loadList() }, icon('retry'), h('span', { i18n: 'exp.refresh' }))),
      this.table, this.empty);
    this.listEl.hidden = true;
    this.el = h('div', { class: 'pb-export-wrap' },
      h('div', { class: 'pb-download' },
        h('span', { class: 'label strong', i18n: 'exp.range' }),
        h('span', { class: 'label', i18n: 'pb.from' }), this.fromInput,
        h('span', { class: 'label', i18n: 'pb.to' }), this.toInput,
        h('span', { class: 'label', i18n: 'exp.sourceLabel' }), this.sourceSel,
        this.startBtn, this.progress, this.text, this.link,
        h('span', { class: 'spacer' }), this.listBtn),
      this.listEl);
  }

  /** setRange prefills the form with [from, to) (Dates). */
  setRange(from, to) {
    this.fromInput.value = localValue(from);
    this.toInput.value = localValue(to);
  }

  /** setSource preselects the source the timeline shows. */
  setSource(s) { if (s === 'platform' || s === 'device') this.sourceSel.value = s; }

  range() {
    const from = parseLocal(this.fromInput.value);
    const to = parseLocal(this.toInput.value);
    if (!from || !to || to <= from || to - from > dayMs) return null;
    return [from, to];
  }

  async start() {
    const ch = this.channel();
    if (!ch) { toast(t('pb.pickChannel'), 'info'); return; }
    const r = this.range();
    if (!r) { toast(t('exp.badRange')); return; }
    clearTimeout(this.timer);
    this.link.hidden = true;
    this.progress.hidden = false;
    this.bar.style.width = '0%';
    this.text.textContent = t('exp.state.queued');
    this.text.classList.remove('error');
    this.startBtn.disabled = true;
    let job;
    try {
      job = await api('POST', '/exports', {
        channel_id: ch.id, start: toRFC3339(r[0]), end: toRFC3339(r[1]), source: this.sourceSel.value,
      });
    } catch (err) {
      this.failed(errorText(err));
      return;
    }
    this.job = job;
    this.show(job);
    if (!this.listEl.hidden) this.loadList();
  }

  /** show renders the current job and polls it until it ends. */
  show(job) {
    if (this.job?.id !== job.id) return;
    this.job = job;
    const pct = Math.round(Math.max(0, Math.min(1, Number(job.progress) || 0)) * 100);
    this.bar.style.width = `${job.state === 'done' ? 100 : pct}%`;
    if (job.state === 'done') {
      this.text.textContent = t('exp.done');
      this.link.href = fileURL(job.id);
      this.link.hidden = false;
      this.startBtn.disabled = false;
      if (!this.listEl.hidden) this.loadList();
      return;
    }
    if (job.state === 'failed' || job.state === 'expired') { this.failed(job.error || t(`exp.state.${job.state}`)); return; }
    this.text.textContent = stateText(job);
    this.timer = setTimeout(() => this.poll(job.id), pollMs);
  }

  async poll(id) {
    if (this.job?.id !== id) return;
    let job;
    try {
      job = await api('GET', `/exports/${encodeURIComponent(id)}`);
    } catch (err) {
      if (this.job?.id === id) this.failed(errorText(err));
      return;
    }
    this.show(job);
  }

  failed(msg) {
    this.startBtn.disabled = false;
    this.progress.hidden = true;
    this.text.textContent = t('exp.failed', { error: msg });
    this.text.classList.add('error');
  }

  toggleList() {
    this.listEl.hidden = !this.listEl.hidden;
    if (!this.listEl.hidden) this.loadList();
  }

  async loadList() {
    let res;
    try {
      res = await api('GET', this.admin && this.allBox.checked ? '/exports?all=1' : '/exports');
    } catch (err) {
      toast(errorText(err));
      return;
    }
    this.jobs = Array.isArray(res) ? res : (res?.items || []);
    this.renderList();
  }

  renderList() {
    const jobs = this.jobs || [];
    this.empty.hidden = jobs.length > 0;
    this.table.hidden = jobs.length === 0;
    this.rows.replaceChildren(...jobs.map((j) => h('tr', { testid: `export-row-${j.id}`, dataset: { state: j.state } },
      h('td', { text: this.nameOf(j.channel_id) ? `${this.nameOf(j.channel_id)} (${j.channel_id})` : j.channel_id }),
      h('td', { text: `${formatTime(new Date(j.start))} – ${formatTime(new Date(j.end))}` }),
      h('td', { text: t(`exp.source.${j.source}`) }),
      h('td', { class: `exp-state ${j.state}`, text: stateText(j) }),
      h('td', { text: j.expires_at ? formatTime(new Date(j.expires_at)) : '' }),
      h('td', { text: j.owner || '' }),
      h('td', { class: 'exp-actions' },
        j.state === 'done' ? h('a', { class: 'btn ghost', href: fileURL(j.id), download: '', testid: `export-file-${j.id}` }, icon('download'), h('span', { i18n: 'exp.file' })) : null,
        h('button', { type: 'button', class: 'btn ghost', testid: `export-delete-${j.id}`, onclick: () => this.remove(j) }, icon('close'), h('span', { i18n: 'exp.delete' }))))));
  }

  async remove(job) {
    try {
      await api('DELETE', `/exports/${encodeURIComponent(job.id)}`);
    } catch (err) {
      toast(errorText(err));
      return;
    }
    if (this.job?.id === job.id) {
      clearTimeout(this.timer);
      this.job = null;
      this.link.hidden = true;
      this.progress.hidden = true;
      this.text.textContent = '';
      this.startBtn.disabled = false;
    }
    this.loadList();
  }

  /** leave stops polling (the job goes on on the recorder). */
  leave() {
    clearTimeout(this.timer);
    this.job = null;
    this.startBtn.disabled = false;
  }

  /** relabel re-renders what the language changes. */
  relabel() { this.renderList(); }
}
