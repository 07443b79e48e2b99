// Playback page: a day's recordings (the platform's, else the device's) on a
// timeline zoomable from 24 h to 1 min, with the platform's gaps and their causes;
// played through the same player, with pause/resume, speed, seek and download.

import { api, errorText, toRFC3339 } from './api.js';
import { bus } from './events.js';
import { t, onLangChange } from './i18n.js';
import { h, icon, toast } from './dom.js';
import { Player } from './player.js';
import { TreeView } from './tree.js';
import { TimeWindow, loadRecordings, loadPlan, gapElements, gapAt, causeText, minGapPx } from './timeline.js';

const dayMs = 24 * 3600 * 1000;
const speeds = [0.5, 1, 2, 4];
const downloadSpeeds = [1, 2, 4, 8];

function pad(n) { return String(n).padStart(2, '0'); }
function dateInputValue(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function hms(d) { return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; }

/** Playback is the playback view. */
export class Playback {
  constructor() {
    this.channel = null;
    this.day = new Date();
    this.day.setHours(0, 0, 0, 0);
    this.records = [];
    this.gaps = [];
    this.source = '';
    this.view = new TimeWindow(this.day);
    this.session = null; // {id, start: Date, end: Date}
    this.paused = false;
    this.scale = 1;
    this.base = null; // {time: ms of recording, wall: performance.now()} while playing
    this.download = null;
    this.tree = new TreeView({ name: 'playback', onActivate: (ch) => this.setChannel(ch), activeId: () => this.channel?.id });
    this.build();
    bus.addEventListener('session.state', (e) => this.onSession(e.detail));
    // Leaving the page must not leave the device streaming to nobody.
    window.addEventListener('pagehide', () => {
      const s = this.session;
      if (s?.id && s.state !== 'ended') api('DELETE', `/playback/${encodeURIComponent(s.id)}`, undefined, { keepalive: true }).catch(() => {});
    });
    onLangChange(() => this.renderAll());
    this.renderAll();
  }

  build() {
    this.video = h('video', { class: 'pb-video', muted: true, autoplay: true, playsinline: true, testid: 'playback-video' });
    this.player = new Player(this.video, () => this.renderState());
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
    this.stopBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'playback-stop', onclick: () => this.stopSession() },
      icon('stop'), h('span', { i18n: 'pb.stop' }));

    // Timeline: ticks, segments, gaps, the playing range, a cursor and a hover line.
    this.segs = h('div', { class: 'tl-segs' });
    this.gapsEl = h('div', { class: 'tl-gaps' });
    this.range = h('div', { class: 'tl-range' });
    this.cursor = h('div', { class: 'tl-cursor', testid: 'playback-cursor' });
    this.hover = h('div', { class: 'tl-hover' }, h('span', { class: 'tl-hover-label' }));
    this.ticks = h('div', { class: 'tl-ticks' });
    this.timeline = h('div', {
      class: 'timeline', testid: 'playback-timeline', tabindex: '0',
      onclick: (e) => this.onTimelineClick(e),
      onmousemove: (e) => this.onHover(e),
      onmouseleave: () => { this.hover.hidden = true; },
    }, this.ticks, this.segs, this.gapsEl, this.range, this.cursor, this.hover);
    this.hover.hidden = true;
    // The wheel over the bar zooms around the time under the mouse (not passive: it keeps the page from scrolling).
    this.timeline.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });

    // Download.
    this.dlFrom = h('input', { type: 'time', step: '1', class: 'input', value: '00:00:00', testid: 'download-from' });
    this.dlTo = h('input', { type: 'time', step: '1', class: 'input', value: '00:10:00', testid: 'download-to' });
    this.dlSpeed = h('select', { class: 'input', testid: 'download-speed' },
      downloadSpeeds.map((s) => h('option', { value: String(s), text: `${s}×`, selected: s === 4 })));
    this.dlBtn = h('button', { type: 'button', class: 'btn', testid: 'download-start', onclick: () => this.startDownload() },
      icon('download'), h('span', { i18n: 'pb.downloadStart' }));
    this.dlBar = h('div', { class: 'progress-bar' });
    this.dlProgress = h('div', { class: 'progress', testid: 'download-progress' }, this.dlBar);
    this.dlText = h('span', { class: 'dl-text', testid: 'download-state' });
    this.dlLink = h('a', { class: 'btn primary', testid: 'download-link', download: '' }, icon('download'), h('span', { i18n: 'pb.downloadLink' }));
    this.dlLink.hidden = true;
    this.dlProgress.hidden = true;

    const main = h('div', { class: 'pb-main' },
      h('div', { class: 'pb-toolbar' },
        h('span', { class: 'label', i18n: 'pb.channel' }), this.channelName,
        h('span', { class: 'label', i18n: 'pb.day' }), this.dayInput, this.queryBtn, this.info, this.planText,
        h('span', { class: 'spacer' }),
        h('span', { class: 'tl-nav' }, this.prevBtn, this.zoomOutBtn, this.scaleText, this.zoomInBtn, this.nextBtn)),
      h('div', { class: 'pb-stage' }, this.video, this.stateText),
      h('div', { class: 'pb-controls' },
        this.pauseBtn,
        h('label', { class: 'inline' }, h('span', { class: 'label', i18n: 'pb.speed' }), this.speedSel),
        this.stopBtn,
        h('span', { class: 'spacer' }),
        h('span', { class: 'pb-clock', testid: 'playback-clock' })),
      this.timeline,
      h('div', { class: 'pb-download' },
        h('span', { class: 'label strong', i18n: 'pb.downloadRange' }),
        h('span', { class: 'label', i18n: 'pb.from' }), this.dlFrom,
        h('span', { class: 'label', i18n: 'pb.to' }), this.dlTo,
        h('span', { class: 'label', i18n: 'pb.downloadSpeed' }), this.dlSpeed,
        this.dlBtn, this.dlProgress, this.dlText, this.dlLink));
    this.clock = main.querySelector('.pb-clock');
    this.el = h('div', { class: 'view-body' }, h('aside', { class: 'sidebar' }, this.tree.el), main);
  }

  renderAll() {
    this.channelName.textContent = this.channel ? this.channel.name : t('pb.pickChannel');
    this.channelName.classList.toggle('muted', !this.channel);
    this.renderSegments();
    this.renderState();
  }

  setChannel(ch) {
    if (this.channel?.id === ch.id) return;
    this.stopSession();
    this.channel = ch;
    this.tree.render();
    this.renderAll();
    this.query();
  }

  async query() {
    if (!this.channel) return;
    this.stopSession();
    const ch = this.channel;
    const start = new Date(this.day);
    const end = new Date(start.getTime() + dayMs);
    this.records = [];
    this.gaps = [];
    this.source = '';
    this.planText.textContent = '';
    loadPlan(ch.id).then((text) => { if (ch === this.channel) this.planText.textContent = text; });
    this.renderSegments();
    this.info.textContent = t('pb.querying');
    this.queryBtn.disabled = true;
    try {
      const res = await loadRecordings(ch.id, start, end);
      if (ch !== this.channel) return;
      ({ records: this.records, gaps: this.gaps, source: this.source } = res);
      this.info.textContent = `${t(`tl.source.${this.source}`)} · ${this.records.length ? t('pb.records', { n: this.records.length }) : t('pb.noRecords')}`
        + (this.gaps.length ? ` · ${t('tl.gaps', { n: this.gaps.length })}` : '');
      if (this.records.length) {
        const r = this.records[0];
        this.dlFrom.value = hms(new Date(Math.max(r.s, start)));
        this.dlTo.value = hms(new Date(Math.min(r.e, end - 1000)));
      }
    } catch (err) {
      if (ch !== this.channel) return;
      this.info.textContent = '';
      toast(errorText(err));
    } finally {
      this.queryBtn.disabled = false;
    }
    this.renderSegments();
    this.renderState();
  }

  /** pct positions time t (ms) on the timeline's window. */
  pct(ms) { return this.view.pct(ms); }

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
    else if (!w.zoomed && this.records.length) around = this.records[0].s.getTime();
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
    this.ticks.replaceChildren(...w.ticks());
    this.scaleText.textContent = w.scaleText();
    this.zoomOutBtn.disabled = !w.canZoomOut;
    this.zoomInBtn.disabled = !w.canZoomIn;
    this.prevBtn.disabled = !w.canShift(-1);
    this.nextBtn.disabled = !w.canShift(1);
    this.gapsEl.replaceChildren(...gapElements(this.gaps, w));
    this.segs.replaceChildren(...this.records.filter((r) => w.visible(r.s.getTime(), r.e.getTime())).map((r) => h('div', {
      class: `tl-seg ${r.type && r.type !== 'time' && r.type !== 'all' ? 'alarm' : ''}`,
      style: `left:${this.pct(r.s)}%;width:${Math.max(0.15, this.pct(r.e) - this.pct(r.s))}%`,
      title: `${hms(r.s)} – ${hms(r.e)}${r.type ? ` (${r.type})` : ''}`,
    })));
  }

  timeAt(e) {
    const rect = this.timeline.getBoundingClientRect();
    return this.view.at((e.clientX - rect.left) / rect.width);
  }

  onHover(e) {
    const ms = this.timeAt(e);
    this.hover.hidden = false;
    this.hover.style.left = `${this.pct(ms)}%`;
    const rect = this.timeline.getBoundingClientRect();
    const gap = gapAt(this.gaps, ms, rect.width ? (minGapPx / rect.width) * this.view.span : 0);
    this.hover.firstChild.textContent = hms(new Date(ms)) + (gap ? ` ${causeText(gap.cause)}` : '');
  }

  onTimelineClick(e) {
    if (!this.channel) { toast(t('pb.pickChannel'), 'info'); return; }
    const ms = this.timeAt(e);
    const s = this.session;
    if (s && s.state !== 'ended' && ms >= s.start.getTime() && ms < s.end.getTime()) {
      this.seek(ms);
      return;
    }
    let seg = this.records.find((r) => ms >= r.s.getTime() && ms < r.e.getTime());
    let from = ms;
    if (!seg) {
      seg = this.records.find((r) => r.s.getTime() > ms);
      if (!seg) { toast(t('pb.notRecorded'), 'info'); return; }
      from = seg.s.getTime();
    }
    // From the click to the end of the day's last recording ("this segment onward").
    const last = this.records.reduce((m, r) => Math.max(m, r.e.getTime()), 0);
    const to = Math.min(last, this.day.getTime() + dayMs);
    this.dlFrom.value = hms(new Date(from));
    this.dlTo.value = hms(new Date(Math.min(seg.e.getTime(), to)));
    this.startSession(new Date(from), new Date(to));
  }

  async startSession(from, to) {
    this.stopSession();
    const ch = this.channel;
    const token = {};
    this.pending = token;
    this.session = { id: '', start: from, end: to, state: 'inviting' };
    this.base = null;
    this.paused = false;
    this.scale = 1;
    this.speedSel.value = '1';
    this.renderState();
    let res;
    try {
      res = await api('POST', `/channels/${encodeURIComponent(ch.id)}/playback`, { start: toRFC3339(from), end: toRFC3339(to) });
    } catch (err) {
      if (this.pending !== token) return;
      this.session = null;
      this.renderState(errorText(err));
      toast(errorText(err));
      return;
    }
    if (this.pending !== token) {
      // Superseded while the device answered: end what we just opened.
      if (res?.session_id) api('DELETE', `/playback/${encodeURIComponent(res.session_id)}`).catch(() => {});
      return;
    }
    const start = res.start ? new Date(res.start) : from;
    const end = res.end ? new Date(res.end) : to;
    this.session = { id: res.session_id, start, end, state: 'active' };
    this.tick();
    // The session's controls work while the stream still connects.
    this.renderState();
    await this.player.play(res);
    if (this.pending !== token) return;
    if (this.player.state === 'playing') {
      this.base = { time: start.getTime(), wall: performance.now() };
    }
    this.renderState();
  }

  stopSession() {
    this.pending = null;
    const s = this.session;
    this.session = null;
    this.base = null;
    this.player.stop();
    clearInterval(this.tickTimer);
    if (s?.id && s.state !== 'ended') api('DELETE', `/playback/${encodeURIComponent(s.id)}`).catch(() => {});
    this.renderState();
  }

  /** position is the recording time (ms) under the cursor. */
  position() {
    if (!this.session) return null;
    if (!this.base) return this.session.start.getTime();
    if (this.paused) return this.base.time;
    return this.base.time + (performance.now() - this.base.wall) * this.scale;
  }

  rebase(timeMs) {
    this.base = { time: timeMs ?? this.position() ?? 0, wall: performance.now() };
  }

  async control(body) {
    const s = this.session;
    if (!s?.id) return false;
    try {
      await api('POST', `/playback/${encodeURIComponent(s.id)}/control`, body);
      return true;
    } catch (err) {
      toast(errorText(err));
      return false;
    }
  }

  async togglePause() {
    if (!this.session?.id) return;
    const pause = !this.paused;
    const at = this.position();
    if (await this.control({ action: pause ? 'pause' : 'resume' })) {
      this.base = { time: at, wall: performance.now() };
      this.paused = pause;
      this.player.setPaused(pause);
      if (pause) this.video.pause(); else this.video.play().catch(() => {});
      this.renderState();
    }
  }

  async setScale(scale) {
    if (!speeds.includes(scale)) return;
    if (!this.session?.id) { this.scale = scale; return; }
    const at = this.position();
    if (await this.control({ action: 'scale', scale })) {
      this.base = { time: at, wall: performance.now() };
      this.scale = scale;
    } else {
      this.speedSel.value = String(this.scale);
    }
  }

  async seek(ms) {
    const s = this.session;
    const position = Math.max(0, Math.round((ms - s.start.getTime()) / 1000));
    if (await this.control({ action: 'seek', position })) {
      this.rebase(s.start.getTime() + position * 1000);
      this.renderState();
    }
  }

  onSession(ev) {
    const s = this.session;
    if (!ev || !s || ev.id !== s.id || ev.state !== 'ended') return;
    s.state = 'ended';
    this.player.stop();
    this.base = null;
    this.renderState(t('pb.ended') + (ev.reason ? ` (${ev.reason})` : ''));
  }

  tick() {
    clearInterval(this.tickTimer);
    // The cursor needs no more than a few updates a second.
    this.tickTimer = setInterval(() => {
      if (!this.session) { clearInterval(this.tickTimer); return; }
      const pos = this.position();
      const clamped = Math.min(pos, this.session.end.getTime());
      this.cursor.style.left = `${this.pct(clamped)}%`;
      this.clock.textContent = hms(new Date(clamped));
    }, 250);
  }

  renderState(message) {
    const s = this.session;
    this.cursor.hidden = !s;
    this.range.hidden = !s;
    if (s) {
      this.range.style.left = `${this.pct(s.start.getTime())}%`;
      this.range.style.width = `${Math.max(0.15, this.pct(s.end.getTime()) - this.pct(s.start.getTime()))}%`;
    } else {
      this.clock.textContent = '';
    }
    this.pauseBtn.replaceChildren(icon(this.paused ? 'play' : 'pause'), h('span', { i18n: this.paused ? 'pb.resume' : 'pb.pause' }));
    this.pauseBtn.disabled = !s?.id || s.state === 'ended';
    this.speedSel.disabled = !s?.id || s.state === 'ended';
    this.stopBtn.disabled = !s;
    let text = '';
    const st = this.player.state;
    if (message) text = message;
    else if (!this.channel) text = t('pb.pickChannel');
    else if (!s) text = this.records.length ? t('pb.clickTimeline') : '';
    else if (s.state === 'inviting' || st === 'connecting') text = t('pane.connecting');
    else if (st === 'error') text = this.player.error;
    this.stateText.textContent = text;
    this.stateText.hidden = !text;
    this.stateText.classList.toggle('error', st === 'error' || !!message);
  }

  /** debug is what window.sharpeyesDebug.playback() returns. */
  debug() {
    const s = this.session;
    return {
      channel: this.channel?.id ?? null,
      session: s?.id ?? null,
      state: s ? (s.state === 'ended' ? 'ended' : this.player.state) : 'idle',
      tech: this.player.tech,
      paused: this.paused,
      scale: this.scale,
      position: s ? new Date(this.position()).toISOString() : null,
      records: this.records.length,
      source: this.source,
      gaps: this.gaps.map((g) => g.cause),
      zoomed: this.view.zoomed,
      span: this.view.span,
      startOffset: this.view.start - this.view.day,
    };
  }

  rangeFromInputs() {
    const parse = (v) => {
      const [hh, mm, ss] = v.split(':').map(Number);
      if ([hh, mm].some((x) => !Number.isFinite(x))) return null;
      const d = new Date(this.day);
      d.setHours(hh, mm, Number.isFinite(ss) ? ss : 0, 0);
      return d;
    };
    const from = parse(this.dlFrom.value || '');
    const to = parse(this.dlTo.value || '');
    if (!from || !to || to <= from) return null;
    return [from, to];
  }

  async startDownload() {
    if (!this.channel) { toast(t('pb.pickChannel'), 'info'); return; }
    const r = this.rangeFromInputs();
    if (!r) { toast(t('pb.badRange')); return; }
    clearTimeout(this.dlTimer);
    this.dlLink.hidden = true;
    this.dlProgress.hidden = false;
    this.dlBar.style.width = '0%';
    this.dlText.textContent = t('pb.downloading', { pct: 0 });
    this.dlText.classList.remove('error');
    this.dlBtn.disabled = true;
    let job;
    try {
      job = await api('POST', `/channels/${encodeURIComponent(this.channel.id)}/download`,
        { start: toRFC3339(r[0]), end: toRFC3339(r[1]), speed: Number(this.dlSpeed.value) });
    } catch (err) {
      this.dlFailed(errorText(err));
      return;
    }
    this.download = job;
    this.pollDownload(job.id);
  }

  async pollDownload(id) {
    if (this.download?.id !== id) return;
    let st;
    try {
      st = await api('GET', `/downloads/${encodeURIComponent(id)}`);
    } catch (err) {
      this.dlFailed(errorText(err));
      return;
    }
    const pct = Math.round(Math.max(0, Math.min(1, Number(st.progress) || 0)) * 100);
    this.dlBar.style.width = `${st.state === 'done' ? 100 : pct}%`;
    if (st.state === 'done') {
      this.dlText.textContent = t('pb.downloadDone');
      this.dlLink.href = `/api/v1/downloads/${encodeURIComponent(id)}/file`;
      this.dlLink.hidden = false;
      this.dlBtn.disabled = false;
      return;
    }
    if (st.state === 'failed') { this.dlFailed(st.error || ''); return; }
    this.dlText.textContent = t('pb.downloading', { pct });
    this.dlTimer = setTimeout(() => this.pollDownload(id), 1000);
  }

  dlFailed(msg) {
    this.dlBtn.disabled = false;
    this.dlProgress.hidden = true;
    this.dlText.textContent = t('pb.downloadFailed', { error: msg });
    this.dlText.classList.add('error');
  }

  /** leave stops the running session when the page is left. */
  leave() { this.stopSession(); }
}
