package recordingdb

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// MergeWithin is how close two segments must be to show as one span: the
// recorder cuts segments at keyframes, so neighbours touch give or take a
// frame, and a player crosses such a seam without a hole.
const MergeWithin = time.Second

// Span is a stretch of recorded time, [Start, End].
type Span struct {
	Start time.Time
	End   time.Time
}

// Timeline is a channel's recordings and gaps within a time range, both
// clipped to it and ordered by start.
type Timeline struct {
	// Segments are the segments merged into spans where they touch within
	// MergeWithin.
	Segments []Span
	// Gaps end at the database's now while they last; gaps of one cause
	// that touch within MergeWithin are one (the first's ID and detail). A
	// gap closed where it started covers no time and is left out: a stream
	// that ended and came back within its cached GOP lost nothing (the row
	// stays, with the event).
	Gaps []Gap
}

// mergeGap appends g to gaps (ordered by start), or extends the last one
// when it has g's cause and ends within MergeWithin of g's start: one hole
// recorded in two rows (rows written before OpenGap extended) shows as one.
func mergeGap(gaps []Gap, g Gap) []Gap {
	if n := len(gaps); n > 0 {
		last := &gaps[n-1]
		if last.Cause == g.Cause && g.Start.Sub(last.End) <= MergeWithin {
			if g.End.After(last.End) {
				last.End = g.End
			}
			return gaps
		}
	}
	return append(gaps, g)
}

// Timeline returns channel's recorded spans and gaps within [start, end].
// Segments of one channel do not overlap, so the first one that matters
// is the last starting before start: it bounds the index range read (a
// channel-day is one range scan of (channel_id, start_at)).
func (db *DB) Timeline(ctx context.Context, channel string, start, end time.Time) (Timeline, error) {
	var tl Timeline
	if !start.Before(end) {
		return tl, fmt.Errorf("timeline of %s: start %v not before end %v: %w", channel, start, end, store.ErrInvalid)
	}
	rows, err := db.Pool.Query(ctx, `
SELECT greatest(lower(s), $2), least(upper(s) - $4::interval, $3)
FROM unnest((
    SELECT range_agg(tstzrange(r.start_at, r.end_at + $4::interval))
    FROM recordings r
    WHERE r.channel_id = $1 AND r.start_at < $3 AND r.end_at > $2 AND NOT r.deleting
      AND r.start_at >= coalesce((SELECT max(x.start_at) FROM recordings x WHERE x.channel_id = $1 AND x.start_at <= $2),
                                 '-infinity')
)) AS s
WHERE least(upper(s) - $4::interval, $3) > greatest(lower(s), $2)
ORDER BY 1`, channel, start, end, MergeWithin)
	if err != nil {
		return tl, fmt.Errorf("timeline of %s: %w", channel, err)
	}
	for rows.Next() {
		var s Span
		if err := rows.Scan(&s.Start, &s.End); err != nil {
			rows.Close()
			return tl, fmt.Errorf("timeline of %s: %w", channel, err)
		}
		tl.Segments = append(tl.Segments, s)
	}
	if err := rows.Err(); err != nil {
		return tl, fmt.Errorf("timeline of %s: %w", channel, err)
	}

	rows, err = db.Pool.Query(ctx, `
SELECT id, channel_id, greatest(start_at, $2), greatest(least(coalesce(end_at, now()), $3), greatest(start_at, $2)),
	cause, detail, node
FROM recording_gaps
WHERE channel_id = $1 AND start_at < $3 AND (end_at IS NULL OR end_at > $2)
  AND (end_at IS NULL OR end_at > start_at)
ORDER BY start_at, id`, channel, start, end)
	if err != nil {
		return tl, fmt.Errorf("timeline gaps of %s: %w", channel, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g Gap
		if err := rows.Scan(&g.ID, &g.ChannelID, &g.Start, &g.End, &g.Cause, &g.Detail, &g.Node); err != nil {
			return tl, fmt.Errorf("timeline gaps of %s: %w", channel, err)
		}
		tl.Gaps = mergeGap(tl.Gaps, g)
	}
	if err := rows.Err(); err != nil {
		return tl, fmt.Errorf("timeline gaps of %s: %w", channel, err)
	}
	return tl, nil
}

// Completeness returns how much of channel's planned time on the day that
// contains day (midnight to midnight in loc, so 23 or 25 hours across a
// daylight-saving change) was recorded: planned is the effective plan's
// windows that day (record_windows: the whole day for always, none for
// off), recorded the union of the segments inside them. loc must have an
// IANA name (not time.Local). It returns store.ErrNotFound for a channel
// that is not a video channel.
func (db *DB) Completeness(ctx context.Context, channel string, day time.Time, loc *time.Location,
	d Defaults,
) (recorded, planned time.Duration, err error) {
	if err := d.validate(); err != nil {
		return 0, 0, err
	}
	tz, err := zoneName(loc)
	if err != nil {
		return 0, 0, fmt.Errorf("completeness of %s: %w", channel, err)
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, dd := day.In(loc).Date()
	from := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 1)
	var found bool
	var recUS, planUS int64
	err = db.Pool.QueryRow(ctx, `
WITH p AS (
    SELECT mode, schedule FROM effective_record_plans($4, $5) WHERE channel_id = $1 ORDER BY device_id LIMIT 1
), w AS (
    SELECT record_windows(p.mode, p.schedule, $2, $3, $6) AS m FROM p
), seg AS (
    SELECT coalesce(range_agg(tstzrange(r.start_at, r.end_at)), '{}'::tstzmultirange) AS m
    FROM recordings r
    WHERE r.channel_id = $1 AND r.start_at < $3 AND r.end_at > $2 AND NOT r.deleting
      AND r.start_at >= coalesce((SELECT max(x.start_at) FROM recordings x WHERE x.channel_id = $1 AND x.start_at <= $2),
                                 '-infinity')
)
SELECT EXISTS (SELECT 1 FROM p),
       coalesce((SELECT sum((extract(epoch FROM upper(r) - lower(r)) * 1000000)::bigint)
                 FROM w, seg, unnest(w.m * seg.m) AS r), 0),
       coalesce((SELECT sum((extract(epoch FROM upper(r) - lower(r)) * 1000000)::bigint)
                 FROM w, unnest(w.m) AS r), 0)`,
		channel, from, to, d.StandardDays, d.KeyDays, tz).Scan(&found, &recUS, &planUS)
	if err != nil {
		return 0, 0, fmt.Errorf("completeness of %s on %s: %w", channel, from.Format(time.DateOnly), err)
	}
	if !found {
		return 0, 0, fmt.Errorf("completeness of %s: %w", channel, store.ErrNotFound)
	}
	return time.Duration(recUS) * time.Microsecond, time.Duration(planUS) * time.Microsecond, nil
}
