// Playback page: a day's recordings (the platform's, else the device's) on a
// timeline zoomable from 24 h to 1 min, with the platform's gaps and their
// causes; 1 or 4 panes played at the same wall-clock time under one
// transport bar (pause, speed, seek by a click on the timeline); a snapshot
// of the selected pane; exports of a range.

import { errorText } from './api.js';
import { bus } from './events.js';
import { t, onLangChange } from './i18n.js';
import { h, icon, toast } from './dom.js';
import { TreeView } from './tree.js';
import { TimeWindow, loadPlan, gapElements, gapAt, causeText, minGapPx } from './timeline.js';
import { PbPane } from './pbpane.js';
import { speeds } from './vod.js';
import { ExportsPanel } from './exports.js';

const dayMs = 24 * 3600 * 1000;
const tickMs = 250;
const layouts = [1, 4];
// A drag on the timeline wider than this (px) selects a range instead of seeking.
const dragPx = 5;
// The export form's range around the cursor.
const exportAround = 5 * 60 * 1000;

function pad(n) { return String(n).padStart(2, '0'); }
function dateInputValue(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function hms(d) { return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; }

/** snapshotName is a snapshot's file name: <channel>_<YYYYMMDDTHHMMSS>.png in local time. */
export function snapshotName(channel, ms) {
  const d = new Date(ms);
  return `${channel}_${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}T${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.png`;
}

/** Playback is the playback view of user ({username, role}). */
export class Playback {
  constructor(user) {
    this.day = new Date();
    this.day.setHours(0, 0, 0, 0);
    this.view = new TimeWindow(this.day);
    this.clockAt = null; // {wall: ms, perf: performance.now()} while a playback runs
    this.paused = false;
    this.scale = 1;
    this.selected = 0;
    this.selection = null; // [from, to] ms dragged on the timeline
    this.panes = [0, 1, 2, 3].map((i) => new PbPane(i, this));
    this.layout = 1;
    this.tree = new TreeView({ name: 'playback', onActivate: (ch) => this.setChannel(ch), activeId: () => this.pane.channel?.id });
    // Names of the channels picked on this page, for the export list (jobs name channels by ID).
    this.names = new Map();
    this.exports = new ExportsPanel({
      channel: () => this.pane.channel, admin: user?.role === 'admin', nameOf: (id) => this.names.get(id),
    });
    this.build();
    bus.addEventListener('session.state', (e) => this.panes.forEach((p) => p.onSession(e.detail)));
    // Leaving the page must not leave a device streaming to nobody.
    window.addEventListener('pagehide', () => this.panes.forEach((p) => p.stopDevice()));
    onLangChange(() => { this.renderAll(); this.exports.relabel(); });
    this.renderAll();
  }

  /** pane is the selected pane. */
  get pane() { return this.panes[this.selected]; }

  /** shown are the panes the layout shows. */
  get shown() { return this.panes.slice(0, this.layout); }

  build() {
    this.channelName = h('span', { class: 'pb-channel', testid: 'playback-channel' });
    this.dayInput = h('input', {
      type: 'date', class: 'input', value: dateInputValue(this.day), testid: 'playback-day',
      onchange: () => {
        const v = this.dayInput.value;
        if (!v) return;
        const [y, m, d] = v.split('-').map(Number);
        this.day = new Date(y, m - 1, d);
        this.view.setDay(this.day);
        this.query();
      },
    });
    this.queryBtn = h('button', { type: 'button', class: 'btn', testid: 'playback-query', onclick: () => this.query() },
      icon('search'), h('span', { i18n: 'pb.query' }));
    this.info = h('span', { class: 'pb-info', testid: 'playback-info' });
    this.planText = h('span', { class: 'pb-info muted', testid: 'playback-plan' });
    this.layoutBtns = layouts.map((n) => h('button', {
      type: 'button', class: 'btn ghost layout-btn', testid: `pb-layout-${n}`, i18nTitle: `pb.layout${n}`,
      onclick: () => this.setLayout(n),
    }, h('span', { class: 'layout-n', text: n === 1 ? '1' : '2×2' })));
    this.zoomOutBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-zoom-out', text: '−', i18nTitle: 'tl.zoomOut', onclick: () => this.zoom(-1) });
    this.scaleText = h('span', { class: 'pb-info tl-scale', testid: 'playback-scale' });
    this.zoomInBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-zoom-in', text: '+', i18nTitle: 'tl.zoomIn', onclick: () => this.zoom(1) });
    this.prevBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-prev', text: '◀', i18nTitle: 'tl.prev', onclick: () => this.shift(-1) });
    this.nextBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-next', text: '▶', i18nTitle: 'tl.next', onclick: () => this.shift(1) });
    this.stateText = h('div', { class: 'pb-state', testid: 'playback-state' });
    this.pauseBtn = h('button', { type: 'button', class: 'btn', testid: 'playback-pause', onclick: () => this.togglePause() });
    this.speedSel = h('select', {
      class: 'input', testid: 'playback-speed', onchange: () => this.setScale(Number(this.speedSel.value)),
    }, speeds.map((s) => h('option', { value: String(s), text: `${s}×`, selected: s === 1 })));
    this.stopBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-stop', onclick: () => this.stop() },
      icon('stop'), h('span', { i18n: 'pb.stop' }));
    this.snapBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-snapshot', onclick: () => this.snapshot() },
      icon('camera'), h('span', { i18n: 'pb.snapshot' }));
    this.clock = h('span', { class: 'pb-clock', testid: 'playback-clock' });

    // Timeline: ticks, segments, gaps, the selected range, the playing range, a cursor and a hover line.
    this.segs = h('div', { class: 'tl-segs' });
    this.gapsEl = h('div', { class: 'tl-gaps' });
    this.range = h('div', { class: 'tl-range' });
    this.selEl = h('div', { class: 'tl-select', testid: 'playback-selection' });
    this.selEl.hidden = true;
    this.cursor = h('div', { class: 'tl-cursor', testid: 'playback-cursor' });
    this.hover = h('div', { class: 'tl-hover' }, h('span', { class: 'tl-hover-label' }));
    this.ticks = h('div', { class: 'tl-ticks' });
    this.timeline = h('div', {
      class: 'timeline', testid: 'playback-timeline', tabindex: '0',
      onclick: (e) => this.onTimelineClick(e),
      onmousedown: (e) => this.onDragStart(e),
      onmousemove: (e) => this.onHover(e),
      onmouseleave: () => { this.hover.hidden = true; },
    }, this.ticks, this.segs, this.gapsEl, this.selEl, this.range, this.cursor, this.hover);
    this.hover.hidden = true;
    // The wheel over the bar zooms around the time under the mouse (not passive: it keeps the page from scrolling).
    this.timeline.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    window.addEventListener('mouseup', (e) => this.onDragEnd(e));

    this.grid = h('div', { class: 'pb-grid', testid: 'playback-grid' }, this.panes.map((p) => p.el));
    const main = h('div', { class: 'pb-main' },
      h('div', { class: 'pb-toolbar' },
        h('span', { class: 'label', i18n: 'pb.channel' }), this.channelName,
        h('span', { class: 'label', i18n: 'pb.day' }), this.dayInput, this.queryBtn, this.info, this.planText,
        h('span', { class: 'spacer' }),
        h('span', { class: 'pb-layouts' }, this.layoutBtns),
        h('span', { class: 'tl-nav' }, this.prevBtn, this.zoomOutBtn, this.scaleText, this.zoomInBtn, this.nextBtn)),
      h('div', { class: 'pb-stage' }, this.grid, this.stateText),
      h('div', { class: 'pb-controls' },
        this.pauseBtn,
        h('label', { class: 'inline' }, h('span', { class: 'label', i18n: 'pb.speed' }), this.speedSel),
        this.stopBtn, this.snapBtn,
        h('span', { class: 'spacer' }),
        this.clock),
      this.timeline,
      this.exports.el);
    this.el = h('div', { class: 'view-body' }, h('aside', { class: 'sidebar' }, this.tree.el), main);
  }

  renderAll() {
    const ch = this.pane.channel;
    this.channelName.textContent = ch ? ch.name : t('pb.pickChannel');
    this.channelName.classList.toggle('muted', !ch);
    this.grid.dataset.layout = String(this.layout);
    this.panes.forEach((p, i) => { p.el.hidden = i >= this.layout; p.render(); });
    this.layoutBtns.forEach((b, i) => b.classList.toggle('active', layouts[i] === this.layout));
    this.renderInfo();
    this.renderSegments();
    this.renderState();
  }

  renderInfo() {
    const p = this.pane;
    if (!p.channel || !p.source) { this.info.textContent = p.channel ? this.info.textContent : ''; return; }
    this.info.textContent = `${t(`tl.source.${p.source}`)} · ${p.records.length ? t('pb.records', { n: p.records.length }) : t('pb.noRecords')}`
      + (p.gaps.length ? ` · ${t('tl.gaps', { n: p.gaps.length })}` : '');
  }

  /** select makes pane i the one the tree, the timeline, the snapshot and the export work on. */
  select(i) {
    if (i === this.selected || i >= this.layout) return;
    this.selected = i;
    this.tree.render();
    this.exports.setSource(this.pane.source);
    this.planText.textContent = '';
    const ch = this.pane.channel;
    if (ch) loadPlan(ch.id).then((text) => { if (ch === this.pane.channel) this.planText.textContent = text; });
    this.renderAll();
  }

  setLayout(n) {
    if (!layouts.includes(n) || n === this.layout) return;
    this.layout = n;
    this.panes.slice(n).forEach((p) => p.stop());
    if (this.selected >= n) this.selected = 0;
    this.tree.render();
    this.renderAll();
    const at = this.position();
    if (at !== null) this.shown.forEach((p) => p.follow(at, true));
  }

  /** setChannel puts ch into the selected pane (it joins a running playback). */
  async setChannel(ch) {
    if (ch?.id && ch.name) this.names.set(ch.id, ch.name);
    const p = this.pane;
    if (p.channel?.id === ch.id) return;
    this.planText.textContent = '';
    loadPlan(ch.id).then((text) => { if (ch === this.pane.channel) this.planText.textContent = text; });
    this.info.textContent = t('pb.querying');
    const done = p.setChannel(ch);
    this.tree.render();
    this.renderAll();
    try {
      await done;
    } catch (err) {
      if (p.channel === ch) { this.info.textContent = ''; toast(errorText(err)); }
    }
  }

  /** onPane is called by a pane whose recordings or session changed. */
  onPane(p) {
    if (p === this.pane) {
      this.exports.setSource(p.source);
      if (p.records.length && !this.clockAt) {
        const s = p.records[0].s.getTime();
        this.exports.setRange(new Date(s), new Date(Math.min(p.records[0].e.getTime(), s + 2 * exportAround)));
      }
      this.renderAll();
    }
    const at = this.position();
    if (at !== null && this.panes.indexOf(p) < this.layout && !p.mode) p.follow(at, true);
  }

  async query() {
    this.stop();
    const p = this.pane;
    if (!p.channel) return;
    const ch = p.channel;
    this.planText.textContent = '';
    loadPlan(ch.id).then((text) => { if (ch === this.pane.channel) this.planText.textContent = text; });
    this.info.textContent = t('pb.querying');
    this.queryBtn.disabled = true;
    const others = this.shown.filter((x) => x !== p && x.channel).map((x) => x.loadDay().catch(() => {}));
    try {
      await p.loadDay();
    } catch (err) {
      if (ch === p.channel) { this.info.textContent = ''; toast(errorText(err)); }
    } finally {
      this.queryBtn.disabled = false;
    }
    await Promise.all(others);
    this.renderAll();
  }

  /**
   * zoom goes dir levels in (1) or out (-1) around the playing position when
   * it shows, else from the whole day around the first recording, else
   * around the window's middle.
   */
  zoom(dir) {
    const w = this.view;
    const pos = this.position();
    let around = w.start + w.span / 2;
    if (pos !== null && w.visible(pos, pos + 1)) around = pos;
    else if (!w.zoomed && this.pane.records.length) around = this.pane.records[0].s.getTime();
    w.zoom(dir, around);
    this.renderSegments();
    this.renderState();
  }

  /** onWheel zooms in (wheel up) or out around the time under the mouse, which stays under it. */
  onWheel(e) {
    if (!e.deltaY) return;
    e.preventDefault();
    const rect = this.timeline.getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (e.clientX - rect.left) / rect.width));
    this.view.zoom(e.deltaY < 0 ? 1 : -1, this.view.at(f), f);
    this.renderSegments();
    this.renderState();
  }

  shift(dir) {
    this.view.shift(dir);
    this.renderSegments();
    this.renderState();
  }

  renderSegments() {
    const w = this.view;
    const p = this.pane;
    this.ticks.replaceChildren(...w.ticks());
    this.scaleText.textContent = w.scaleText();
    this.zoomOutBtn.disabled = !w.canZoomOut;
    this.zoomInBtn.disabled = !w.canZoomIn;
    this.prevBtn.disabled = !w.canShift(-1);
    this.nextBtn.disabled = !w.canShift(1);
    this.gapsEl.replaceChildren(...gapElements(p.gaps, w));
    this.segs.replaceChildren(...p.records.filter((r) => w.visible(r.s.getTime(), r.e.getTime())).map((r) => h('div', {
      class: `tl-seg ${r.type && r.type !== 'time' && r.type !== 'all' ? 'alarm' : ''}`,
      style: `left:${w.pct(r.s)}%;width:${Math.max(0.15, w.pct(r.e) - w.pct(r.s))}%`,
      title: `${hms(r.s)} – ${hms(r.e)}${r.type ? ` (${r.type})` : ''}`,
    })));
    const sel = this.selection;
    this.selEl.hidden = !sel;
    if (sel) {
      this.selEl.style.left = `${w.pct(sel[0])}%`;
      this.selEl.style.width = `${Math.max(0.15, w.pct(sel[1]) - w.pct(sel[0]))}%`;
    }
  }

  timeAt(e) {
    const rect = this.timeline.getBoundingClientRect();
    return this.view.at((e.clientX - rect.left) / rect.width);
  }

  onHover(e) {
    const ms = this.timeAt(e);
    this.hover.hidden = false;
    this.hover.style.left = `${this.view.pct(ms)}%`;
    const rect = this.timeline.getBoundingClientRect();
    const gap = gapAt(this.pane.gaps, ms, rect.width ? (minGapPx / rect.width) * this.view.span : 0);
    this.hover.firstChild.textContent = hms(new Date(ms)) + (gap ? ` ${causeText(gap.cause)}` : '');
    if (this.drag && e.buttons & 1 && Math.abs(e.clientX - this.drag.x) >= dragPx) {
      const a = this.drag.ms;
      this.selection = [Math.min(a, ms), Math.max(a, ms)];
      this.drag.moved = true;
      this.renderSegments();
    }
  }

  onDragStart(e) {
    if (e.button !== 0) return;
    this.drag = { x: e.clientX, ms: this.timeAt(e), moved: false };
  }

  /** onDragEnd ends a drag: the range it selected goes to the export form. */
  onDragEnd() {
    const d = this.drag;
    this.drag = null;
    if (!d?.moved || !this.selection) return;
    this.suppressClick = true;
    this.exports.setRange(new Date(this.selection[0]), new Date(this.selection[1]));
  }

  onTimelineClick(e) {
    if (this.suppressClick) { this.suppressClick = false; return; }
    const p = this.pane;
    if (!p.channel) { toast(t('pb.pickChannel'), 'info'); return; }
    let ms = this.timeAt(e);
    if (this.selection) { this.selection = null; this.renderSegments(); }
    if (!p.recordAt(ms) && !this.shown.some((x) => x.recordAt(ms))) {
      // Before a recording: from its start.
      const next = p.nextRecord(ms);
      if (next === null) { toast(t('pb.notRecorded'), 'info'); return; }
      ms = next;
    }
    // Not into the future: what is not recorded yet cannot be exported.
    this.exports.setRange(new Date(ms - exportAround), new Date(Math.min(ms + exportAround, Date.now())));
    this.playAt(ms);
  }

  /** playAt moves every shown pane to wall time ms and plays from there. */
  playAt(ms) {
    // After the end a click plays again; a pause otherwise holds (the click seeks).
    if (this.ended) this.paused = false;
    this.ended = false;
    this.setClock(ms);
    this.shown.forEach((p) => p.follow(ms, true));
    this.startTicker();
    this.renderState();
  }

  setClock(ms) { this.clockAt = { wall: ms, perf: performance.now() }; }

  /** position is the page's wall-clock time (ms) or null when nothing plays. */
  position() {
    const c = this.clockAt;
    if (!c) return null;
    if (this.paused) return c.wall;
    return c.wall + (performance.now() - c.perf) * this.scale;
  }

  startTicker() {
    clearInterval(this.tickTimer);
    this.tickTimer = setInterval(() => this.tick(), tickMs);
  }

  /**
   * tick advances the clock — from the selected pane's video when it plays
   * (its gaps then take no time), else from another playing pane, else by
   * the clock itself, jumping to the next recording when no pane has one —
   * and keeps every shown pane at it.
   */
  tick() {
    let at = this.position();
    if (at === null) { clearInterval(this.tickTimer); return; }
    const leader = [this.pane, ...this.shown].find((p) => p.leads(at));
    if (leader) {
      at = leader.frameWall();
      this.setClock(at);
    } else if (!this.paused && !this.shown.some((p) => p.has(at) || p.loading || p.session)) {
      const next = this.shown.map((p) => p.nextRecord(at)).filter((x) => x !== null);
      if (next.length) {
        at = Math.min(...next);
        this.setClock(at);
      } else {
        // Past the last recording of every pane: the playback ends there.
        this.paused = true;
        this.setClock(at);
        this.ended = true;
        this.renderState();
      }
    }
    this.shown.forEach((p) => p.follow(at));
    this.renderCursor(at);
  }

  renderCursor(at) {
    this.cursor.hidden = at === null;
    if (at === null) { this.clock.textContent = ''; return; }
    this.cursor.style.left = `${this.view.pct(at)}%`;
    this.clock.textContent = hms(new Date(at));
  }

  togglePause() {
    if (!this.clockAt) return;
    const at = this.position();
    this.ended = false;
    this.paused = !this.paused;
    this.setClock(at);
    this.shown.forEach((p) => p.setPaused(this.paused));
    if (!this.paused) this.shown.forEach((p) => p.follow(at));
    this.renderState();
  }

  setScale(scale) {
    if (!speeds.includes(scale)) return;
    const at = this.position();
    this.scale = scale;
    if (at !== null) this.setClock(at);
    this.shown.forEach((p) => p.setScale(scale));
  }

  /** stop ends the playback in every pane. */
  stop() {
    clearInterval(this.tickTimer);
    this.clockAt = null;
    this.paused = false;
    this.panes.forEach((p) => p.stop());
    this.renderState();
  }

  /** snapshot saves the selected pane's current frame as a PNG. */
  snapshot() {
    const p = this.pane;
    const v = p.video;
    const at = p.frameWall() ?? this.position();
    if (!p.channel || !v.videoWidth || at === null) { toast(t('pb.snapshotNone'), 'info'); return; }
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    try {
      canvas.getContext('2d').drawImage(v, 0, 0, canvas.width, canvas.height);
    } catch (err) {
      toast(t('pb.snapshotFailed', { error: err.message }));
      return;
    }
    const name = snapshotName(p.channel.id, at);
    canvas.toBlob((blob) => {
      if (!blob) { toast(t('pb.snapshotFailed', { error: 'toBlob' })); return; }
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      // The download has its own copy once started.
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      this.lastSnapshot = { name, width: canvas.width, height: canvas.height };
    }, 'image/png');
  }

  renderState() {
    const at = this.position();
    const running = at !== null;
    const p = this.pane;
    const s = p.session;
    this.range.hidden = !s && !p.rec;
    if (s || p.rec) {
      const from = s ? s.start.getTime() : p.rec.map.start;
      const to = s ? s.end.getTime() : p.rec.map.end;
      this.range.style.left = `${this.view.pct(from)}%`;
      this.range.style.width = `${Math.max(0.15, this.view.pct(to) - this.view.pct(from))}%`;
    }
    this.renderCursor(at);
    this.pauseBtn.replaceChildren(icon(this.paused ? 'play' : 'pause'), h('span', { i18n: this.paused ? 'pb.resume' : 'pb.pause' }));
    this.pauseBtn.disabled = !running;
    this.stopBtn.disabled = !running;
    let text = '';
    if (!p.channel) text = this.layout === 1 ? t('pb.pickChannel') : '';
    else if (!running) text = p.records.length ? t('pb.clickTimeline') : '';
    else if (this.ended && this.paused) text = t('pb.ended');
    this.stateText.textContent = text;
    this.stateText.hidden = !text;
  }

  /** debug is what window.sharpeyesDebug.playback() returns. */
  debug() {
    const p = this.pane;
    const at = this.position();
    return {
      channel: p.channel?.id ?? null,
      session: p.session?.id ?? null,
      state: p.state(),
      mode: p.mode,
      tech: p.player.tech,
      paused: this.paused,
      scale: this.scale,
      position: at === null ? null : new Date(at).toISOString(),
      records: p.records.length,
      source: p.source,
      gaps: p.gaps.map((g) => g.cause),
      zoomed: this.view.zoomed,
      span: this.view.span,
      startOffset: this.view.start - this.view.day,
      layout: this.layout,
      selected: this.selected,
      selection: this.selection ? this.selection.map((x) => new Date(x).toISOString()) : null,
      snapshot: this.lastSnapshot ?? null,
      panes: this.shown.map((x) => x.debug()),
    };
  }

  /** toast shows a pane's error. */
  toast(msg) { toast(msg); }

  /** leave stops the playback when the page is left. */
  leave() {
    this.stop();
    this.exports.leave();
  }
}
