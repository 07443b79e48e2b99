package exportdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Segment is a recorded segment an export reads (a row of recordings).
type Segment struct {
	ID    int64
	Start time.Time
	End   time.Time
	// Open is the segment still being written.
	Open      bool
	Bytes     int64
	ObjectKey string
	// Store names the object store holding it ("dir://<node>", "s3://…").
	Store string
}

// maxSegment bounds how long before a range a segment overlapping it may
// start: segments are minutes long, and the bound keeps the index scan short.
const maxSegment = "1 day"

// Segments returns the channel's segments overlapping [start, end) that
// are not being deleted, in time order: what a platform export copies.
// The recorder calls it.
func (db *DB) Segments(ctx context.Context, channel string, start, end time.Time) ([]Segment, error) {
	rows, err := db.Pool.Query(ctx, `
SELECT id, start_at, end_at, open, bytes, object_key, store FROM recordings
WHERE channel_id = $1 AND start_at < $3 AND end_at > $2 AND start_at > $2 - interval '`+maxSegment+`'
  AND NOT deleting
ORDER BY start_at, id`, channel, start, end)
	if err != nil {
		return nil, fmt.Errorf("segments of %s: %w", channel, err)
	}
	segs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Segment, error) {
		var s Segment
		err := r.Scan(&s.ID, &s.Start, &s.End, &s.Open, &s.Bytes, &s.ObjectKey, &s.Store)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("segments of %s: %w", channel, err)
	}
	return segs, nil
}
