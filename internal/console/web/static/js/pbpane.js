// One pane of the playback page: a channel, its recordings of the day, and
// what plays it — the platform's HLS VOD (kept at the page's wall-clock
// time) or, when only the device has records, a device playback session.

import { api, errorText, toRFC3339 } from './api.js';
import { t } from './i18n.js';
import { h } from './dom.js';
import { Player } from './player.js';
import { loadRecordings } from './timeline.js';
import { h265Decodable, openRecording } from './vod.js';

const dayMs = 24 * 3600 * 1000;

/** driftMax is how far (s) a pane's video may be from the page's clock before it is seeked. */
export const driftMax = 0.5;

/** deviceMaxScale is the fastest a device plays back (the console's control API). */
const deviceMaxScale = 8;

/**
 * PbPane is pane index of the page, which owns the clock: page.position()
 * (wall ms or null), page.paused, page.scale, page.day, page.select(i),
 * page.onPane(pane) after the pane's state or recordings change.
 */
export class PbPane {
  constructor(index, page) {
    this.index = index;
    this.page = page;
    this.channel = null;
    this.records = [];
    this.gaps = [];
    this.source = '';
    this.rec = null; // platform: {answer, url, map}
    this.loading = null; // {T, ctl} while the platform answer is asked for
    this.skipUntil = 0; // no new platform call before this wall time (after a failed one)
    this.session = null; // device: {id, start, end, state, base}
    this.message = '';
    this.messageKey = '';
    this.video = h('video', {
      class: 'pane-video', muted: true, playsinline: true, crossOrigin: 'anonymous', testid: `pb-video-${index}`,
    });
    // Set as an attribute too: the snapshot's canvas stays untainted only with CORS media.
    this.video.setAttribute('crossorigin', 'anonymous');
    this.player = new Player(this.video, () => this.render());
    this.video.addEventListener('error', () => {
      if (!this.rec) return;
      // H.265 recordings come as H.264 to a browser that says it cannot
      // decode H.265; one that said it can and then fails to decode is
      // told so here, with what to do, not only that HLS failed.
      const code = this.video.error?.code;
      const undecodable = (code === 3 || code === 4) && h265Decodable();
      this.setMessage('', t(undecodable ? 'pane.cannotDecode' : 'pane.hlsError'));
    });
    this.nameEl = h('span', { class: 'pane-name', testid: `pb-pane-name-${index}` });
    this.msgEl = h('div', { class: 'pane-msg', testid: `pb-pane-msg-${index}` });
    this.el = h('div', {
      class: 'pane pb-pane', testid: `pb-pane-${index}`, tabindex: '0',
      onclick: () => page.select(index),
    }, this.video, h('div', { class: 'pane-bar' }, this.nameEl), h('div', { class: 'pane-overlay' }, this.msgEl));
    this.render();
  }

  /** mode is what plays the pane: 'platform', 'device' or null. */
  get mode() {
    if (this.rec || this.loading) return 'platform';
    if (this.session) return 'device';
    return null;
  }

  setMessage(key, text) {
    this.messageKey = key;
    this.message = key ? t(key) : text;
    this.render();
  }

  render() {
    this.nameEl.textContent = this.channel ? this.channel.name : '';
    this.el.classList.toggle('has-channel', !!this.channel);
    this.el.classList.toggle('selected', this.page.selected === this.index);
    if (this.messageKey) this.message = t(this.messageKey);
    let msg = this.message;
    if (!msg && this.session && (this.session.state === 'inviting' || this.player.state === 'connecting')) msg = t('pane.connecting');
    if (!msg && this.session && this.player.state === 'error') msg = this.player.error;
    if (!msg && !this.channel) msg = this.page.layout > 1 ? t('pb.paneHint') : '';
    this.msgEl.textContent = msg;
    this.msgEl.hidden = !msg;
    this.el.dataset.state = this.state();
  }

  /** state is the pane's state for people and tests. */
  state() {
    if (!this.channel) return 'idle';
    if (this.messageKey === 'pb.noRecording') return 'norec';
    if (this.message) return 'error';
    if (this.loading) return 'connecting';
    if (this.rec) return this.video.paused ? 'paused' : 'playing';
    if (this.session) return this.session.state === 'ended' ? 'ended' : this.player.state;
    return 'idle';
  }

  /** setChannel shows ch in the pane and reads its recordings of the page's day. */
  async setChannel(ch) {
    this.stop();
    this.channel = ch;
    this.records = [];
    this.gaps = [];
    this.source = '';
    this.render();
    await this.loadDay();
  }

  /** loadDay reads the channel's recordings of the page's day. */
  async loadDay() {
    const ch = this.channel;
    if (!ch) return;
    const start = new Date(this.page.day);
    const res = await loadRecordings(ch.id, start, new Date(start.getTime() + dayMs));
    if (ch !== this.channel) return;
    ({ records: this.records, gaps: this.gaps, source: this.source } = res);
    this.page.onPane(this);
  }

  /** recordAt is the record holding wall time ms, if any. */
  recordAt(ms) { return this.records.find((r) => ms >= r.s.getTime() && ms < r.e.getTime()); }

  /** nextRecord is the start (ms) of the first record after ms, or null. */
  nextRecord(ms) {
    const r = this.records.find((x) => x.s.getTime() > ms);
    return r ? r.s.getTime() : null;
  }

  /** has reports whether the pane has something to show at ms. */
  has(ms) { return !!this.recordAt(ms) || (this.rec?.map.mediaAt(ms) ?? null) !== null; }

  /**
   * frameWall is the wall time (ms) of the frame the pane shows: the
   * platform video's, mapped; a device session's estimate; else null.
   */
  frameWall() {
    if (this.rec && this.video.readyState >= 1) return this.rec.map.wallAt(this.video.currentTime);
    const s = this.session;
    if (s?.base) return s.base.time + (this.page.paused ? 0 : (performance.now() - s.base.wall) * s.base.scale);
    return null;
  }

  /** leads reports whether the pane's video may set the page's clock: playing at about ms. */
  leads(ms) {
    const v = this.video;
    if (!this.rec || v.paused || v.seeking || v.readyState < 3 || this.rec.map.mediaAt(ms) === null) return false;
    return Math.abs(this.frameWall() - ms) < 2000;
  }

  /**
   * follow keeps the pane at wall time ms: seeks its video when it is more
   * than driftMax off (always when force), loads the recording when ms is
   * outside what it has, and shows "no recording" in between.
   */
  follow(ms, force = false) {
    if (!this.channel) return;
    if (this.source === 'device') {
      if (force) this.followDevice(ms);
      return;
    }
    const map = this.rec?.map;
    if (map?.covers(ms)) {
      const m = map.mediaAt(ms);
      if (m === null) {
        if (!this.video.paused) this.video.pause();
        if (this.messageKey !== 'pb.noRecording') this.setMessage('pb.noRecording');
        return;
      }
      if (this.messageKey === 'pb.noRecording') this.setMessage('');
      const v = this.video;
      if (force || Math.abs(v.currentTime - m) > driftMax) v.currentTime = m;
      if (v.playbackRate !== this.page.scale) v.playbackRate = this.page.scale;
      if (this.page.paused) {
        if (!v.paused) v.pause();
      } else if (v.paused && !v.ended) {
        v.play().catch(() => {});
      }
      this.render();
      return;
    }
    // A load under way is kept while the clock is within 5 s of its start (of media: faster, that is more wall time).
    if (this.loading && Math.abs(this.loading.T - ms) < 5000 * this.page.scale && !force) return;
    if (this.recordAt(ms) && (force || ms >= this.skipUntil)) {
      this.load(ms);
      return;
    }
    if (this.rec && !this.video.paused) this.video.pause();
    if (!this.loading && this.messageKey !== 'pb.noRecording' && !this.message) this.setMessage('pb.noRecording');
  }

  /** load asks for the platform recording from ms on and plays it from the page's clock. */
  async load(ms) {
    this.loading?.ctl.abort();
    const ctl = new AbortController();
    const loading = { T: ms, ctl };
    this.loading = loading;
    this.setMessage('');
    const ch = this.channel;
    let rec;
    try {
      rec = await openRecording(ch.id, new Date(ms), this.page.scale, ctl.signal);
    } catch (err) {
      if (this.loading !== loading) return;
      this.loading = null;
      const r = this.recordAt(ms);
      this.skipUntil = r ? r.e.getTime() : ms + 1000;
      if (err?.code === 'no_recordings') this.setMessage('pb.noRecording');
      else if (err?.code === 'transcode_unavailable') this.setMessage('pane.noTranscode');
      else this.setMessage('', errorText(err));
      return;
    }
    if (this.loading !== loading) { URL.revokeObjectURL(rec.url); return; }
    this.loading = null;
    this.stopDevice();
    if (this.rec) URL.revokeObjectURL(this.rec.url);
    this.rec = rec;
    const v = this.video;
    v.srcObject = null;
    v.src = rec.url;
    v.playbackRate = this.page.scale;
    const at = this.page.position() ?? ms;
    this.follow(at, true);
  }

  /** followDevice starts, or seeks, the device session at ms (a timeline click). */
  followDevice(ms) {
    const s = this.session;
    if (s && s.id && s.state !== 'ended' && ms >= s.start.getTime() && ms < s.end.getTime()) {
      this.seekDevice(ms);
      return;
    }
    let rec = this.recordAt(ms);
    let from = ms;
    if (!rec) {
      rec = this.records.find((r) => r.s.getTime() > ms);
      if (!rec) { this.stopDevice(); this.setMessage('pb.noRecording'); return; }
      from = rec.s.getTime();
    }
    // From there to the end of the day's last record ("this segment onward").
    const last = this.records.reduce((m, r) => Math.max(m, r.e.getTime()), 0);
    this.startDevice(new Date(from), new Date(Math.min(last, this.page.day.getTime() + dayMs)));
  }

  async startDevice(from, to) {
    this.stopDevice();
    const ch = this.channel;
    const token = {};
    this.pending = token;
    this.session = { id: '', start: from, end: to, state: 'inviting', base: null };
    this.setMessage('');
    let res;
    try {
      res = await api('POST', `/channels/${encodeURIComponent(ch.id)}/playback`, { start: toRFC3339(from), end: toRFC3339(to) });
    } catch (err) {
      if (this.pending !== token) return;
      this.session = null;
      this.setMessage('', errorText(err));
      return;
    }
    if (this.pending !== token) {
      // Superseded while the device answered: end what we just opened.
      if (res?.session_id) api('DELETE', `/playback/${encodeURIComponent(res.session_id)}`).catch(() => {});
      return;
    }
    const start = res.start ? new Date(res.start) : from;
    const end = res.end ? new Date(res.end) : to;
    this.session = { id: res.session_id, start, end, state: 'active', base: null };
    this.page.onPane(this);
    this.render();
    await this.player.play(res);
    if (this.pending !== token) return;
    if (this.player.state === 'playing') {
      this.session.base = { time: start.getTime(), wall: performance.now(), scale: 1 };
      const scale = Math.min(this.page.scale, deviceMaxScale);
      if (scale !== 1) this.controlDevice({ action: 'scale', scale });
      if (this.page.paused) this.pauseDevice(true);
    }
    this.render();
  }

  /** controlDevice sends body to the device session's control, after the ones sent before (their order matters). */
  controlDevice(body) {
    const next = (this.controls || Promise.resolve()).then(() => this.sendControl(body));
    this.controls = next;
    return next;
  }

  async sendControl(body) {
    const s = this.session;
    if (!s?.id || s.state === 'ended') return false;
    const at = this.frameWall();
    try {
      await api('POST', `/playback/${encodeURIComponent(s.id)}/control`, body);
    } catch (err) {
      this.page.toast(errorText(err));
      return false;
    }
    if (s.base && at !== null) s.base = { ...s.base, time: at, wall: performance.now() };
    if (body.action === 'scale' && s.base) s.base.scale = body.scale;
    return true;
  }

  async pauseDevice(pause) {
    if (await this.controlDevice({ action: pause ? 'pause' : 'resume' })) {
      this.player.setPaused(pause);
      if (pause) this.video.pause(); else this.video.play().catch(() => {});
    }
  }

  async seekDevice(ms) {
    const s = this.session;
    const position = Math.max(0, Math.round((ms - s.start.getTime()) / 1000));
    if (await this.controlDevice({ action: 'seek', position }) && s.base) {
      s.base = { ...s.base, time: s.start.getTime() + position * 1000, wall: performance.now() };
    }
  }

  /** setPaused pauses or resumes what plays. */
  setPaused(pause) {
    if (this.session) this.pauseDevice(pause);
    if (this.rec) {
      if (pause) this.video.pause();
      this.render();
    }
  }

  /** setScale plays at scale (platform: the video's rate; device: the session's, at most 8×). */
  setScale(scale) {
    if (this.rec) this.video.playbackRate = scale;
    if (this.session?.id) this.controlDevice({ action: 'scale', scale: Math.min(scale, deviceMaxScale) });
  }

  /** onSession ends the device session on its end event. */
  onSession(ev) {
    const s = this.session;
    if (!ev || !s || ev.id !== s.id || ev.state !== 'ended') return;
    s.state = 'ended';
    this.player.stop();
    s.base = null;
    this.setMessage('', t('pb.ended') + (ev.reason ? ` (${ev.reason})` : ''));
  }

  stopDevice() {
    this.pending = null;
    const s = this.session;
    this.session = null;
    this.player.stop();
    if (s?.id && s.state !== 'ended') api('DELETE', `/playback/${encodeURIComponent(s.id)}`).catch(() => {});
  }

  /** stop ends whatever plays in the pane. */
  stop() {
    this.loading?.ctl.abort();
    this.loading = null;
    this.skipUntil = 0;
    this.stopDevice();
    if (this.rec) {
      URL.revokeObjectURL(this.rec.url);
      this.rec = null;
      const v = this.video;
      v.pause();
      v.removeAttribute('src');
      v.load();
    }
    this.setMessage('');
  }

  /** debug is the pane's part of window.sharpeyesDebug.playback(). */
  debug() {
    const w = this.frameWall();
    return {
      channel: this.channel?.id ?? null,
      source: this.source,
      mode: this.mode,
      state: this.state(),
      wall: w === null || Number.isNaN(w) ? null : new Date(w).toISOString(),
      currentTime: this.video.currentTime,
      width: this.video.videoWidth,
      height: this.video.videoHeight,
      rate: this.video.playbackRate,
      session: this.session?.id ?? null,
      tech: this.player.tech,
      loaded: this.rec ? [new Date(this.rec.map.start).toISOString(), new Date(this.rec.map.end).toISOString()] : null,
    };
  }
}
