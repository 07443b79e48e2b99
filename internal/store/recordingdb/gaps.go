package recordingdb

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Cause is why a channel's timeline has a hole the plan says should be
// recorded (recording_gaps.cause).
type Cause string

// Gap causes.
const (
	CauseCameraOffline Cause = "camera_offline"
	CauseStreamError   Cause = "stream_error"
	CauseRecorderDown  Cause = "recorder_down"
	CauseStorageError  Cause = "storage_error"
	CausePlanOff       Cause = "plan_off"
)

// Valid reports whether c is one of the causes above.
func (c Cause) Valid() bool {
	switch c {
	case CauseCameraOffline, CauseStreamError, CauseRecorderDown, CauseStorageError, CausePlanOff:
		return true
	}
	return false
}

// Gap is a hole in a channel's recording with its cause.
type Gap struct {
	ID        int64
	ChannelID string
	Start     time.Time
	// End is zero while the hole lasts.
	End   time.Time
	Cause Cause
	// Detail is the error of a stream_error or storage_error, or what
	// else explains the hole.
	Detail string
	Node   string
}

// OpenGap records a hole starting at g.Start (g.End set: already over) and
// returns its ID. A hole is one gap: when the channel's last gap of the
// same cause ended within MergeWithin of g.Start (a restart's repair
// closed it where the restarted node goes on), that gap is extended to
// g.End (open when zero) instead, keeping its detail, and extended is true.
func (db *DB) OpenGap(ctx context.Context, g Gap) (id int64, extended bool, err error) {
	if g.ChannelID == "" || g.Start.IsZero() || !g.Cause.Valid() || (!g.End.IsZero() && g.End.Before(g.Start)) {
		return 0, false, fmt.Errorf("open gap of %q, cause %q: %w", g.ChannelID, g.Cause, store.ErrInvalid)
	}
	var end *time.Time
	if !g.End.IsZero() {
		end = &g.End
	}
	// The last gap of the channel (by start) is the only candidate: one
	// before it cannot end where this one starts without overlapping it.
	err = db.Pool.QueryRow(ctx, `
WITH last AS (
    SELECT id, cause, end_at FROM recording_gaps
    WHERE channel_id = $1 AND start_at <= $2 ORDER BY start_at DESC, id DESC LIMIT 1
), ext AS (
    UPDATE recording_gaps g SET end_at = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE greatest(g.end_at, $3) END
    FROM last
    WHERE g.id = last.id AND last.cause = $4 AND last.end_at IS NOT NULL
      AND last.end_at BETWEEN $2::timestamptz - $7::interval AND $2::timestamptz + $7::interval
    RETURNING g.id
), ins AS (
    INSERT INTO recording_gaps (channel_id, start_at, end_at, cause, detail, node)
    SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM ext)
    RETURNING id
)
SELECT id, true FROM ext UNION ALL SELECT id, false FROM ins`,
		g.ChannelID, g.Start, end, g.Cause, g.Detail, g.Node, MergeWithin).Scan(&id, &extended)
	if err != nil {
		return 0, false, fmt.Errorf("open %s gap of %s: %w", g.Cause, g.ChannelID, err)
	}
	return id, extended, nil
}

// CloseGap ends open gap id at end (not before its start). It returns
// store.ErrNotFound when no open gap has that ID.
func (db *DB) CloseGap(ctx context.Context, id int64, end time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE recording_gaps SET end_at = greatest($2, start_at)
WHERE id = $1 AND end_at IS NULL`, id, end)
	if err != nil {
		return fmt.Errorf("close gap %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("close gap %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// CloseOpenGaps ends every open gap of channel at end and returns how many
// it closed: recording resumed, or a node taking the channel over closes
// what the previous one left open.
func (db *DB) CloseOpenGaps(ctx context.Context, channel string, end time.Time) (int, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE recording_gaps SET end_at = greatest($2, start_at)
WHERE channel_id = $1 AND end_at IS NULL`, channel, end)
	if err != nil {
		return 0, fmt.Errorf("close open gaps of %s: %w", channel, err)
	}
	return int(tag.RowsAffected()), nil
}

// RecordedUntil is where channel's record ends: the end of its last
// segment (open or closed) or of its last closed gap, whichever is later;
// the zero time when it has neither. A gap opened when the channel stops
// being recorded starts there, so that nothing is left unexplained between.
func (db *DB) RecordedUntil(ctx context.Context, channel string) (time.Time, error) {
	var end *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT greatest(
    (SELECT end_at FROM recordings WHERE channel_id = $1 AND NOT deleting ORDER BY start_at DESC LIMIT 1),
    (SELECT end_at FROM recording_gaps WHERE channel_id = $1 AND end_at IS NOT NULL ORDER BY start_at DESC LIMIT 1))`,
		channel).Scan(&end); err != nil {
		return time.Time{}, fmt.Errorf("recorded until of %s: %w", channel, err)
	}
	if end == nil {
		return time.Time{}, nil
	}
	return *end, nil
}

// OpenGaps returns channel's open gaps, oldest first.
func (db *DB) OpenGaps(ctx context.Context, channel string) ([]Gap, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, channel_id, start_at, end_at, cause, detail, node
FROM recording_gaps WHERE channel_id = $1 AND end_at IS NULL ORDER BY start_at, id`, channel)
	if err != nil {
		return nil, fmt.Errorf("open gaps of %s: %w", channel, err)
	}
	defer rows.Close()
	var gaps []Gap
	for rows.Next() {
		var g Gap
		var end *time.Time
		if err := rows.Scan(&g.ID, &g.ChannelID, &g.Start, &end, &g.Cause, &g.Detail, &g.Node); err != nil {
			return nil, fmt.Errorf("open gaps of %s: %w", channel, err)
		}
		if end != nil {
			g.End = *end
		}
		gaps = append(gaps, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open gaps of %s: %w", channel, err)
	}
	return gaps, nil
}
