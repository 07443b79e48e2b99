// Video wall: 1/4/9/16 panes, drag and drop, per-pane state, PTZ and
// fullscreen; the layout and the channel of each pane survive a reload.

import { api, errorText } from './api.js';
import { t, onLangChange, applyI18n } from './i18n.js';
import { h, icon, store, toast } from './dom.js';
import { Player } from './player.js';
import { PTZPanel } from './ptz.js';
import { channelMime } from './tree.js';

/** layouts are the pane counts offered. */
export const layouts = [1, 4, 9, 16];
const maxPanes = 16;

function toggleFullscreen(el) {
  if (document.fullscreenElement === el) document.exitFullscreen().catch(() => {});
  else if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
}

/** Wall is the video wall of the live view. */
export class Wall {
  constructor() {
    const saved = store.get('wall', {});
    this.layout = layouts.includes(saved.layout) ? saved.layout : 4;
    this.selected = Number.isInteger(saved.selected) ? Math.min(saved.selected, this.layout - 1) : 0;
    this.ptzPane = -1;
    this.onChange = () => {};
    this.panes = [];
    this.grid = h('div', { class: 'wall-grid', testid: 'wall' });
    for (let i = 0; i < maxPanes; i++) this.panes.push(this.makePane(i));
    this.ptz = new PTZPanel(() => this.panes[this.ptzPane]?.channel?.id);
    this.layoutBtns = layouts.map((n) => h('button', {
      type: 'button', class: 'seg-btn', testid: `layout-${n}`, title: `${n}`,
      onclick: () => this.setLayout(n),
    }, layoutIcon(n)));
    this.tourInfo = h('span', { class: 'tour-info', testid: 'tour-info' });
    this.toolbar = h('div', { class: 'wall-toolbar' },
      h('span', { class: 'label', i18n: 'wall.layout' }),
      h('div', { class: 'seg' }, this.layoutBtns),
      this.tourInfo,
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn ghost', testid: 'wall-close-all', onclick: () => this.closeAll() },
        icon('close'), h('span', { i18n: 'wall.closeAll' })),
      h('button', { type: 'button', class: 'btn ghost', testid: 'wall-fullscreen', onclick: () => toggleFullscreen(this.grid) },
        icon('fullscreen'), h('span', { i18n: 'wall.fullscreenWall' })));
    this.el = h('div', { class: 'wall' }, this.toolbar, this.grid);
    onLangChange(() => {
      this.panes.forEach((p) => this.renderPane(p));
      applyI18n(this.ptz.el); // it may be detached right now
    });
    window.addEventListener('pagehide', () => this.panes.forEach((p) => p.player.stop()));
    this.applyLayout();
    // Restore the channels of the last visit.
    (saved.panes || []).slice(0, this.layout).forEach((ch, i) => {
      if (ch && ch.id) this.play(i, { id: String(ch.id), name: String(ch.name || ch.id) });
    });
  }

  makePane(i) {
    const video = h('video', { class: 'pane-video', muted: true, autoplay: true, playsinline: true, testid: `pane-video-${i}` });
    const name = h('span', { class: 'pane-name' });
    const state = h('span', { class: 'pane-state', testid: `pane-state-${i}` });
    const tech = h('span', { class: 'pane-tech', testid: `pane-tech-${i}` });
    const ptzBtn = h('button', {
      type: 'button', class: 'icon-btn', i18nTitle: 'pane.ptz', testid: `ptz-toggle-${i}`,
      onclick: (e) => { e.stopPropagation(); this.select(i); this.togglePTZ(i); },
    }, icon('ptz'));
    const probeBtn = h('button', {
      type: 'button', class: 'icon-btn', i18nTitle: 'pane.probe', testid: `pane-probe-${i}`,
      onclick: (e) => { e.stopPropagation(); this.select(i); this.probe(i); },
    }, icon('probe'));
    const fsBtn = h('button', {
      type: 'button', class: 'icon-btn', i18nTitle: 'pane.fullscreen', testid: `pane-fullscreen-${i}`,
      onclick: (e) => { e.stopPropagation(); toggleFullscreen(pane.el); },
    }, icon('fullscreen'));
    const closeBtn = h('button', {
      type: 'button', class: 'icon-btn', i18nTitle: 'pane.close', testid: `pane-close-${i}`,
      onclick: (e) => { e.stopPropagation(); this.close(i); },
    }, icon('close'));
    const overlayMsg = h('div', { class: 'pane-msg' });
    const retry = h('button', {
      type: 'button', class: 'btn small', testid: `pane-retry-${i}`,
      onclick: (e) => { e.stopPropagation(); this.retry(i); },
    }, icon('retry'), h('span', { i18n: 'pane.retry' }));
    const overlay = h('div', { class: 'pane-overlay' }, h('div', { class: 'spinner' }), overlayMsg, retry);
    const hint = h('div', { class: 'pane-hint' }, h('span', { class: 'pane-index', text: String(i + 1) }), h('span', { i18n: 'wall.dropHint' }));
    const el = h('div', {
      class: 'pane', testid: `pane-${i}`, tabindex: '0', dataset: { index: String(i) },
      onclick: () => this.select(i),
      onkeydown: (e) => {
        if (e.target !== el) return;
        if (e.key === 'Delete' || e.key === 'Backspace') { e.preventDefault(); this.close(i); }
        if (e.key === 'Enter') toggleFullscreen(el);
      },
      onfocus: () => this.select(i),
      ondragover: (e) => {
        if (![...e.dataTransfer.types].some((x) => x === channelMime || x === 'text/plain')) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        el.classList.add('drop');
      },
      ondragleave: () => el.classList.remove('drop'),
      ondrop: (e) => {
        e.preventDefault();
        el.classList.remove('drop');
        let ch = null;
        try { ch = JSON.parse(e.dataTransfer.getData(channelMime)); } catch { /* fall back to text */ }
        if (!ch) {
          const id = e.dataTransfer.getData('text/plain').trim();
          if (id) ch = { id, name: id };
        }
        if (ch && ch.id) { this.select(i); this.play(i, ch); }
      },
    },
    video,
    h('div', { class: 'pane-bar' }, name, state, tech, h('span', { class: 'spacer' }), probeBtn, ptzBtn, fsBtn, closeBtn),
    overlay, hint);
    video.addEventListener('dblclick', (e) => { e.stopPropagation(); toggleFullscreen(el); });
    const pane = {
      index: i, el, video, name, state, tech, overlay, overlayMsg, retry, hint, ptzBtn,
      channel: null, status: 'idle', error: '', gen: 0,
    };
    pane.player = new Player(video, (st, info) => {
      pane.status = st === 'idle' && pane.channel ? 'connecting' : st;
      pane.error = info.error || '';
      this.renderPane(pane);
    });
    this.grid.append(el);
    this.renderPane(pane);
    return pane;
  }

  renderPane(p) {
    const st = p.channel ? p.status : 'idle';
    p.el.dataset.state = st;
    p.el.classList.toggle('has-channel', !!p.channel);
    p.name.textContent = p.channel ? p.channel.name : '';
    p.name.title = p.channel ? `${p.channel.name}\n${p.channel.id}` : '';
    let text = t('pane.idle');
    if (st === 'connecting') text = t('pane.connecting');
    else if (st === 'playing') text = t('pane.playing');
    else if (st === 'error') text = p.error || t('pane.noFrames');
    p.state.textContent = text;
    p.state.title = text;
    p.tech.textContent = st === 'playing' && p.player.tech ? (p.player.tech === 'webrtc' ? 'WebRTC' : 'HLS') : '';
    p.tech.hidden = !p.tech.textContent;
    p.overlayMsg.textContent = st === 'error' ? text : (st === 'connecting' ? t('pane.connecting') : '');
    p.overlay.hidden = !(st === 'connecting' || st === 'error');
    p.retry.hidden = st !== 'error';
    p.hint.hidden = !!p.channel;
    p.ptzBtn.hidden = !p.channel;
  }

  setLayout(n) {
    if (!layouts.includes(n) || n === this.layout) return;
    const old = this.layout;
    this.layout = n;
    for (let i = n; i < old; i++) this.close(i);
    if (this.selected >= n) this.selected = 0;
    this.applyLayout();
    this.onChange('layout');
  }

  applyLayout() {
    const cols = Math.sqrt(this.layout);
    this.grid.style.setProperty('--cols', String(cols));
    this.grid.dataset.layout = String(this.layout);
    this.panes.forEach((p, i) => {
      p.el.hidden = i >= this.layout;
      p.el.classList.toggle('selected', i === this.selected);
    });
    this.layoutBtns.forEach((b, i) => b.classList.toggle('active', layouts[i] === this.layout));
    if (this.ptzPane >= this.layout) this.togglePTZ(-1);
    this.save();
  }

  select(i) {
    if (i === this.selected) return;
    this.selected = i;
    this.panes.forEach((p, j) => p.el.classList.toggle('selected', j === i));
    if (this.ptzPane >= 0 && this.ptzPane !== i) this.togglePTZ(-1);
    this.save();
  }

  /** probe checks the pane's camera (POST /channels/{id}/probe) and tells the finding. */
  async probe(i) {
    const p = this.panes[i];
    if (!p?.channel || p.probing) return;
    p.probing = true;
    const ch = p.channel;
    toast(t('probe.running', { name: ch.name }), 'info', 2500);
    try {
      const r = await api('POST', `/channels/${encodeURIComponent(ch.id)}/probe`);
      if (!r.reachable) {
        toast(t('probe.unreachable', { name: ch.name, error: r.error || '' }), 'error', 8000);
      } else if (r.verdict === 'ok') {
        toast(t('probe.ok', { name: ch.name, codec: r.codec, w: r.width, h: r.height, ms: r.first_frame_ms }), 'ok', 6000);
      } else {
        const faults = (r.faults || []).map((f) => t(`fault.${f}`)).join(t('fault.sep'));
        toast(t('probe.fault', { name: ch.name, faults, codec: r.codec, w: r.width, h: r.height }), 'error', 8000);
      }
    } catch (err) {
      toast(t('probe.failed', { name: ch.name, error: errorText(err) }), 'error', 6000);
    } finally {
      p.probing = false;
    }
  }

  togglePTZ(i) {
    this.ptz.stop();
    const same = i === this.ptzPane;
    this.ptz.el.remove();
    this.panes.forEach((p) => p.ptzBtn.classList.remove('active'));
    this.ptzPane = same ? -1 : i;
    if (this.ptzPane >= 0 && this.panes[this.ptzPane].channel) {
      this.panes[this.ptzPane].el.append(this.ptz.el);
      this.panes[this.ptzPane].ptzBtn.classList.add('active');
    } else {
      this.ptzPane = -1;
    }
  }

  save() {
    store.set('wall', {
      layout: this.layout,
      selected: this.selected,
      panes: this.panes.slice(0, this.layout).map((p) => (p.channel ? { id: p.channel.id, name: p.channel.name } : null)),
    });
  }

  /** playNext puts ch in the selected pane if free, else the next free one. */
  playNext(ch) {
    const n = this.layout;
    let target = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.selected + k) % n;
      if (!this.panes[i].channel) { target = i; break; }
    }
    if (target < 0) target = this.selected;
    this.play(target, ch);
    this.select((target + 1) % n);
  }

  /** play opens channel ch in pane i. */
  async play(i, ch) {
    const p = this.panes[i];
    if (p.channel && p.channel.id !== ch.id) this.release(p);
    p.channel = { id: ch.id, name: ch.name || ch.id };
    const gen = ++p.gen;
    p.player.stop();
    p.status = 'connecting';
    p.error = '';
    this.renderPane(p);
    this.save();
    this.onChange('pane');
    let urls;
    try {
      urls = await api('POST', `/channels/${encodeURIComponent(ch.id)}/play`, {});
    } catch (err) {
      if (gen !== p.gen) return;
      p.status = 'error';
      p.error = errorText(err);
      this.renderPane(p);
      return;
    }
    if (gen !== p.gen) return;
    p.playing = ch.id;
    await p.player.play(urls || {});
  }

  retry(i) {
    const p = this.panes[i];
    if (p.channel) this.play(i, p.channel);
  }

  /** release stops the media of a pane and tells the server. */
  release(p) {
    p.gen++;
    p.player.stop();
    if (p.playing) {
      const id = p.playing;
      p.playing = null;
      api('POST', `/channels/${encodeURIComponent(id)}/stop`, {}).catch(() => {});
    }
  }

  close(i) {
    const p = this.panes[i];
    if (this.ptzPane === i) this.togglePTZ(-1);
    this.release(p);
    p.channel = null;
    p.status = 'idle';
    p.error = '';
    this.renderPane(p);
    this.save();
    this.onChange('pane');
  }

  closeAll() {
    for (let i = 0; i < maxPanes; i++) if (this.panes[i].channel) this.close(i);
  }

  /** showPage fills the first panes with chs (a tour page) and clears the rest. */
  showPage(chs) {
    for (let i = 0; i < this.layout; i++) {
      const ch = chs[i];
      const p = this.panes[i];
      if (!ch) { if (p.channel) this.close(i); continue; }
      if (p.channel?.id === ch.id && p.status !== 'error') continue;
      this.play(i, ch);
    }
  }

  /** debug is what window.sharpeyesDebug.panes() returns. */
  debug() {
    return this.panes.slice(0, this.layout).map((p) => ({
      channel: p.channel ? p.channel.id : null,
      state: p.channel ? p.status : 'idle',
      tech: p.player.tech,
      error: p.error || undefined,
    }));
  }
}

function layoutIcon(n) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const k = Math.sqrt(n);
  const cell = 14 / k;
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', String(1 + c * cell + 0.6));
      rect.setAttribute('y', String(1 + r * cell + 0.6));
      rect.setAttribute('width', String(cell - 1.2));
      rect.setAttribute('height', String(cell - 1.2));
      svg.append(rect);
    }
  }
  const label = document.createElement('span');
  label.className = 'layout-n';
  label.textContent = String(n);
  const wrap = document.createElement('span');
  wrap.className = 'layout-btn';
  wrap.append(svg, label);
  return wrap;
}
