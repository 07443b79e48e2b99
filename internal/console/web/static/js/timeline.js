// The playback page's timeline: what is recorded for a channel on a day —
// the platform's recordings (spans and the gaps between them, with their
// cause) or, when the platform has nothing for that day, the device's own —
// and the window the bar shows (24 h down to 1 min of it).

import { api, toRFC3339 } from './api.js';
import { t } from './i18n.js';
import { h } from './dom.js';

const hourMs = 3600 * 1000;
const dayMs = 24 * hourMs;

/** causes are the gap causes the recorder writes, in the legend's order. */
export const causes = ['camera_offline', 'stream_error', 'recorder_down', 'storage_error', 'plan_off'];

function pad(n) { return String(n).padStart(2, '0'); }

/** hhmm is the local time of day of ms, with its seconds if asked. */
function hhmm(ms, seconds = false) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

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
  const limit = p.retention_limit_seconds > 0 ? p.retention_limit_seconds : 0;
  return t(limit ? 'tl.planLimit' : 'tl.plan', {
    mode: t(`plan.mode.${p.mode}`), source: t(`tl.planSource.${p.source}`), days: p.retention_days,
    limit: limit ? durationText(limit) : '',
  });
}

const minuteMs = 60 * 1000;

/**
 * levels are the spans the bar can show, widest first (24 h → 1 min), each
 * with its tick step and how many steps apart the labelled ticks are.
 */
export const levels = [
  { span: dayMs, step: hourMs, label: 2 },
  { span: 6 * hourMs, step: 30 * minuteMs, label: 2 },
  { span: hourMs, step: 5 * minuteMs, label: 3 },
  { span: 10 * minuteMs, step: minuteMs, label: 2 },
  { span: minuteMs, step: 5000, label: 3 },
];

/** minGapPx is the narrowest a gap is drawn, so a gap of a second still shows on a day. */
export const minGapPx = 3;

/** TimeWindow is the part of a day the timeline bar shows: one of levels' spans, within the day. */
export class TimeWindow {
  constructor(day) { this.setDay(day); }

  /** setDay shows all of day (local midnight). */
  setDay(day) {
    this.day = day.getTime();
    this.level = 0;
    this.start = this.day;
    this.span = dayMs;
  }

  get zoomed() { return this.span < dayMs; }

  get canZoomIn() { return this.level < levels.length - 1; }

  get canZoomOut() { return this.level > 0; }

  /** canShift reports whether the window can move by its span in direction dir (-1, 1). */
  canShift(dir) { return dir < 0 ? this.start > this.day : this.start + this.span < this.day + dayMs; }

  /**
   * zoom moves dir levels in (1) or out (-1), keeping time ms at fraction f
   * of the bar (the mouse's place; the middle for the buttons).
   */
  zoom(dir, ms, f = 0.5) {
    const level = Math.max(0, Math.min(levels.length - 1, this.level + dir));
    if (level === this.level) return;
    this.level = level;
    this.span = levels[level].span;
    this.place(ms - f * this.span);
  }

  /** shift moves the window by dir spans within the day. */
  shift(dir) { this.place(this.start + dir * this.span); }

  /** place starts the window at start, on a whole second (the mouse's fraction is not), within the day. */
  place(start) { this.start = Math.max(this.day, Math.min(this.day + dayMs - this.span, Math.round(start / 1000) * 1000)); }

  /** pct positions time ms on the bar (0–100, clamped). */
  pct(ms) { return Math.max(0, Math.min(100, ((ms - this.start) / this.span) * 100)); }

  /** at is the time under fraction f (0–1) of the bar. */
  at(f) { return this.start + Math.max(0, Math.min(1, f)) * this.span; }

  /** visible reports whether [s, e) shows in the window. */
  visible(s, e) { return e > this.start && s < this.start + this.span; }

  /** scaleText is the span shown, for people ("6 小时"). */
  scaleText() { return durationText(this.span / 1000); }

  /** ticks are the bar's tick marks, on the level's step from midnight, every label-th one labelled. */
  ticks() {
    const { step, label } = levels[this.level];
    const seconds = step < minuteMs;
    const out = [];
    for (let i = Math.ceil((this.start - this.day) / step); this.day + i * step <= this.start + this.span; i += 1) {
      const ms = this.day + i * step;
      out.push(h('div', { class: `tl-tick ${i % label ? 'minor' : ''}`, style: `left:${this.pct(ms)}%` },
        i % label ? null : h('span', { text: ms === this.day + dayMs ? '24:00' : hhmm(ms, seconds) })));
    }
    return out;
  }
}

/** durationText is a span of seconds for people: "2 小时", "10 分钟", "90 秒". */
export function durationText(sec) {
  if (sec >= 3600 && sec % 3600 === 0) return t('tl.hours', { n: sec / 3600 });
  if (sec >= 60 && sec % 60 === 0) return t('tl.minutes', { n: sec / 60 });
  return t('tl.seconds', { n: sec });
}

/** causeText is a gap's cause for people. */
export function causeText(cause) { return t(`tl.cause.${cause}`); }

/**
 * gapElements draws gaps on the window w, coloured by cause, the cause on
 * hover; a gap narrower than minGapPx is drawn that wide (app.css).
 */
export function gapElements(gaps, w) {
  return gaps.filter((g) => w.visible(g.s.getTime(), g.e.getTime())).map((g) => h('div', {
    class: `tl-gap cause-${g.cause}`,
    style: `left:${w.pct(g.s.getTime())}%;width:${w.pct(g.e.getTime()) - w.pct(g.s.getTime())}%`,
    title: `${causeText(g.cause)} ${hhmm(g.s.getTime(), true)} – ${hhmm(g.e.getTime(), true)}${g.detail ? `\n${g.detail}` : ''}`,
    testid: 'timeline-gap',
    dataset: { cause: g.cause },
  }));
}

/**
 * gapAt is the gap under time ms, if any; slack (ms) widens each gap's end
 * as far as its drawn minimum width reaches.
 */
export function gapAt(gaps, ms, slack = 0) {
  return gaps.find((g) => ms >= g.s.getTime() && ms < Math.max(g.e.getTime(), g.s.getTime() + slack));
}
