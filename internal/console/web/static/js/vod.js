// Platform playback of one channel: the console's playback answer (an HLS
// VOD URL on a recorder) played in a <video>, and the map between the
// video's media time and wall-clock time. Media time runs over the recorded
// segments in order; gaps take none. The recorder's playlist says where
// each entry starts on the wall clock (#EXT-X-PROGRAM-DATE-TIME), which is
// exact even though its first entry starts at the fragment holding the
// asked start; without it the answer's segments are used.

import { api, ApiError, toRFC3339 } from './api.js';
import { t } from './i18n.js';

/** speeds are the playback speeds the platform plays at. */
export const speeds = [1, 2, 4, 8, 16];

/**
 * parsePlaylist reads an HLS media playlist into its entries, in order:
 * [{wall: ms or null, dur: seconds}]. An entry without a program date-time
 * continues the previous one.
 */
export function parsePlaylist(text) {
  const out = [];
  let pdt = null;
  let dur = null;
  for (const raw of String(text).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const ms = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
      pdt = Number.isNaN(ms) ? null : ms;
    } else if (line.startsWith('#EXTINF:')) {
      const d = parseFloat(line.slice('#EXTINF:'.length));
      dur = Number.isFinite(d) && d >= 0 ? d : null;
    } else if (!line.startsWith('#')) {
      if (dur !== null) {
        const prev = out[out.length - 1];
        const wall = pdt ?? (prev && prev.wall !== null ? prev.wall + prev.dur * 1000 : null);
        out.push({ wall, dur });
      }
      pdt = null;
      dur = null;
    }
  }
  return out;
}

/**
 * TimeMap maps a recording's media time (seconds from the start of the
 * video) to wall-clock time (ms) and back, over spans [{media, wall, dur}].
 */
export class TimeMap {
  constructor(spans) {
    this.spans = spans;
  }

  /** fromPlaylist is the map of playlist entries, or null when one lacks a wall time. */
  static fromPlaylist(entries) {
    if (!entries.length || entries.some((e) => e.wall === null)) return null;
    let media = 0;
    return new TimeMap(entries.map((e) => {
      const s = { media, wall: e.wall, dur: e.dur };
      media += e.dur;
      return s;
    }));
  }

  /** fromSegments is the map of the answer's segments ([{start, end}]) clipped to [from, to). */
  static fromSegments(segments, from, to) {
    let media = 0;
    const spans = [];
    for (const seg of segments || []) {
      const s = Math.max(Date.parse(seg.start), from);
      const e = Math.min(Date.parse(seg.end), to);
      if (!(e > s)) continue;
      spans.push({ media, wall: s, dur: (e - s) / 1000 });
      media += (e - s) / 1000;
    }
    return new TimeMap(spans);
  }

  /** start is the wall time (ms) of the first recorded moment. */
  get start() { return this.spans.length ? this.spans[0].wall : NaN; }

  /** end is the wall time (ms) just after the last recorded moment. */
  get end() {
    const l = this.spans[this.spans.length - 1];
    return l ? l.wall + l.dur * 1000 : NaN;
  }

  /** duration is the media length in seconds. */
  get duration() {
    const l = this.spans[this.spans.length - 1];
    return l ? l.media + l.dur : 0;
  }

  /** mediaAt is the media time of wall time ms, or null in a gap or outside. */
  mediaAt(ms) {
    for (const s of this.spans) {
      if (ms >= s.wall && ms < s.wall + s.dur * 1000) return s.media + (ms - s.wall) / 1000;
    }
    return null;
  }

  /** wallAt is the wall time (ms) of media time sec (clamped to the map). */
  wallAt(sec) {
    if (!this.spans.length) return NaN;
    for (const s of this.spans) {
      if (sec < s.media + s.dur) return s.wall + Math.max(0, sec - s.media) * 1000;
    }
    return this.end;
  }

  /** covers reports whether wall time ms is within the map's range (gaps included). */
  covers(ms) { return ms >= this.start && ms < this.end; }

  /** nextStart is the wall time of the first span starting after ms, or null. */
  nextStart(ms) {
    const s = this.spans.find((x) => x.wall > ms);
    return s ? s.wall : null;
  }
}

async function errorOf(res) {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (j && (j.message || j.error)) return new ApiError(res.status, j.code || '', j.message || j.error, j);
  } catch { /* not JSON */ }
  return new ApiError(res.status, '', text.trim().slice(0, 200) || `HTTP ${res.status}`);
}

/**
 * openRecording asks the console for platform playback of channel id from
 * start (Date) at speed and reads the recorder's playlist: it resolves to
 * {answer, url, map} or rejects with ApiError (code no_recordings when
 * nothing is recorded there).
 */
export async function openRecording(id, start, speed, signal) {
  const answer = await api('POST', `/channels/${encodeURIComponent(id)}/playback`,
    { start: toRFC3339(start), source: 'platform', speed }, { signal });
  // A browser that cannot decode H.265 asks the recorder for the H.264
  // version of H.265 recordings (H.264 ones are listed as they are).
  const hls = new URL(answer.hls, window.location.href);
  if (!h265Decodable()) hls.searchParams.set('video', 'h264');
  let res;
  try {
    res = await fetch(hls.href, { signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', t('err.network'));
  }
  if (!res.ok) throw await errorOf(res);
  const text = await res.text();
  const map = TimeMap.fromPlaylist(parsePlaylist(text))
    || TimeMap.fromSegments(answer.segments, Date.parse(answer.start), Date.parse(answer.end));
  if (!map.spans.length) throw new ApiError(404, 'no_recordings', t('pb.noRecording'));
  // The video plays the playlist read here: asking the recorder again would
  // audit the playback twice.
  const url = URL.createObjectURL(new Blob([absolutePlaylist(text, hls.href)], { type: 'application/vnd.apple.mpegurl' }));
  return { answer, url, map };
}

/** absolutePlaylist resolves the playlist's URIs (entries and maps) against base. */
export function absolutePlaylist(text, base) {
  return String(text).split(/\r?\n/).map((line) => {
    const l = line.trim();
    if (l && !l.startsWith('#')) return new URL(l, base).href;
    return line.replace(/URI="([^"]*)"/g, (_, u) => `URI="${new URL(u, base).href}"`);
  }).join('\n');
}

/** h265Decodable reports whether this browser says it decodes H.265 in MP4. */
export function h265Decodable() {
  const type = 'video/mp4; codecs="hvc1.1.6.L93.B0"';
  return (window.MediaSource?.isTypeSupported?.(type) ?? false) || document.createElement('video').canPlayType(type) !== '';
}
