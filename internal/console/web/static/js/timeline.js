// The playback page's timeline: what is recorded for a channel on a day —
// the platform's recordings (spans and the gaps between them, with their
// cause) or, when the platform has nothing for that day, the device's own —
// and the window the bar shows (24 h or one hour of it).

import { api, toRFC3339 } from './api.js';
import { t } from './i18n.js';
import { h } from './dom.js';

const hourMs = 3600 * 1000;
const dayMs = 24 * hourMs;

/** causes are the gap causes the recorder writes, in the legend's order. */
export const causes = ['camera_offline', 'stream_error', 'recorder_down', 'storage_error', 'plan_off'];

function pad(n) { return String(n).padStart(2, '0'); }

/** hhmm is the local time of day of ms. */
function hhmm(ms) { const d = new Date(ms); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; }

function spans(items) {
  return (items || []).map((r) => ({ ...r, s: new Date(r.start), e: new Date(r.end) }))
    .filter((r) => !Number.isNaN(r.s.getTime()) && !Number.isNaN(r.e.getTime()) && r.e > r.s)
    .sort((a, b) => a.s - b.s);
}

/**
 * loadRecordings answers what is recorded of channel id in [start, end):
 * {source: 'platform'|'device', records: [{s, e, type?}], gaps: [{s, e, cause}]}.
 * The platform's index is asked first; with neither a span nor a gap there
 * (nothing recorded yet, an older console), the device's own records are.
 */
export async function loadRecordings(id, start, end) {
  const range = `start=${encodeURIComponent(toRFC3339(start))}&end=${encodeURIComponent(toRFC3339(end))}`;
  const ch = encodeURIComponent(id);
  let platform = null;
  try {
    platform = await api('GET', `/channels/${ch}/recordings?${range}`);
  } catch (err) {
    // Nothing the device route would not answer the same: let it say so.
    if (err?.status === 401) throw err;
  }
  const segments = spans(platform?.segments);
  const gaps = spans(platform?.gaps).filter((g) => causes.includes(g.cause));
  if (segments.length || gaps.length) return { source: 'platform', records: segments, gaps };
  const res = await api('GET', `/channels/${ch}/records?${range}`);
  return { source: 'device', records: spans(res?.items), gaps: [] };
}

/**
 * loadPlan answers the text of the plan channel id is recorded by (mode,
 * which plan decided it, retention), or '' when it cannot be read.
 */
export async function loadPlan(id) {
  let p;
  try {
    p = await api('GET', `/channels/${encodeURIComponent(id)}/record-plan`);
  } catch {
    return '';
  }
  if (!p?.mode) return '';
  return t('tl.plan', {
    mode: t(`plan.mode.${p.mode}`), source: t(`tl.planSource.${p.source}`), days: p.retention_days,
  });
}

/** TimeWindow is the part of a day the timeline bar shows: all 24 h or one hour. */
export class TimeWindow {
  constructor(day) { this.setDay(day); }

  /** setDay shows all of day (local midnight). */
  setDay(day) {
    this.day = day.getTime();
    this.start = this.day;
    this.span = dayMs;
  }

  get zoomed() { return this.span < dayMs; }

  /** zoom shows the hour around ms, or the whole day again. */
  zoom(ms) {
    if (this.zoomed) {
      this.start = this.day;
      this.span = dayMs;
      return;
    }
    this.span = hourMs;
    this.start = Math.max(this.day, Math.min(this.day + dayMs - hourMs, Math.floor(ms / hourMs) * hourMs));
  }

  /** shift moves a zoomed window by dir hours within the day. */
  shift(dir) {
    if (!this.zoomed) return;
    this.start = Math.max(this.day, Math.min(this.day + dayMs - hourMs, this.start + dir * hourMs));
  }

  /** pct positions time ms on the bar (0–100, clamped). */
  pct(ms) { return Math.max(0, Math.min(100, ((ms - this.start) / this.span) * 100)); }

  /** at is the time under fraction f (0–1) of the bar. */
  at(f) { return this.start + Math.max(0, Math.min(1, f)) * this.span; }

  /** visible reports whether [s, e) shows in the window. */
  visible(s, e) { return e > this.start && s < this.start + this.span; }

  /** ticks are the bar's tick marks: every hour of a day, every 5 minutes of an hour. */
  ticks() {
    const step = this.zoomed ? 5 * 60 * 1000 : hourMs;
    const label = this.zoomed ? 3 : 2; // every 15 minutes, every 2 hours
    const out = [];
    for (let i = 0, ms = this.start; ms <= this.start + this.span; i += 1, ms += step) {
      out.push(h('div', { class: `tl-tick ${i % label ? 'minor' : ''}`, style: `left:${this.pct(ms)}%` },
        i % label ? null : h('span', { text: ms === this.day + dayMs ? '24:00' : hhmm(ms) })));
    }
    return out;
  }
}

/** causeText is a gap's cause for people. */
export function causeText(cause) { return t(`tl.cause.${cause}`); }

/** gapElements draws gaps on the window w, coloured by cause, the cause on hover. */
export function gapElements(gaps, w) {
  return gaps.filter((g) => w.visible(g.s.getTime(), g.e.getTime())).map((g) => h('div', {
    class: `tl-gap cause-${g.cause}`,
    style: `left:${w.pct(g.s.getTime())}%;width:${Math.max(0.15, w.pct(g.e.getTime()) - w.pct(g.s.getTime()))}%`,
    title: `${causeText(g.cause)} ${hhmm(g.s.getTime())} – ${hhmm(g.e.getTime())}`,
    testid: 'timeline-gap',
    dataset: { cause: g.cause },
  }));
}

/** gapAt is the gap under time ms, if any. */
export function gapAt(gaps, ms) { return gaps.find((g) => ms >= g.s.getTime() && ms < g.e.getTime()); }
