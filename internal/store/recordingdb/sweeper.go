package recordingdb

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// The sweeper deletes in three steps, each safe to repeat after a crash:
// MarkExpired marks rows, the sweeper removes their objects (a missing
// object is already removed), DeleteSegments removes the rows. Marked
// rows vanish from timelines at once and are found again by Marked.
//
// Every step takes only the rows of one store (recordings.store, the
// store's Name): a node deletes only objects it can reach. A shared S3
// bucket is one store for every node; each node's directory is its own.

// expiredWhere selects the closed segments of store $1 expired at $2:
// their retention days are over, or they ended at or before $3 (now less
// recorder.retention_limit; NULL: no cap). The cap's test is on start_at
// too, so that the BRIN index on start_at can serve it.
const expiredWhere = `store = $1 AND NOT deleting AND NOT open AND
    (expires_at <= $2 OR (start_at <= $3::timestamptz AND end_at <= $3::timestamptz))`

// capCutoff is now less maxAge, or nil (SQL NULL) when maxAge is 0: no cap.
func capCutoff(now time.Time, maxAge time.Duration) *time.Time {
	if maxAge <= 0 {
		return nil
	}
	t := now.Add(-maxAge)
	return &t
}

// MarkExpired marks for deletion up to limit closed segments of
// objectStore expired at now (the sweeper's injected clock): their
// retention days are over, or, when maxAge (recorder.retention_limit) is
// not 0, they ended maxAge or more before now. The soonest expired go
// first; it returns how many it marked. Concurrent sweepers mark
// different rows.
func (db *DB) MarkExpired(ctx context.Context, objectStore string, now time.Time, maxAge time.Duration,
	limit int,
) (int, error) {
	if limit <= 0 || maxAge < 0 || objectStore == "" {
		return 0, fmt.Errorf("mark expired of %q: limit %d, max age %s: %w", objectStore, limit, maxAge,
			store.ErrInvalid)
	}
	tag, err := db.Pool.Exec(ctx, `
UPDATE recordings SET deleting = true WHERE id IN (
    SELECT id FROM recordings WHERE `+expiredWhere+`
    ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED)`, objectStore, now, capCutoff(now, maxAge), limit)
	if err != nil {
		return 0, fmt.Errorf("mark expired segments of %s: %w", objectStore, err)
	}
	return int(tag.RowsAffected()), nil
}

// MarkOldest marks for deletion up to limit of the oldest closed segments
// of objectStore, expired or not: the capacity guard's last resort, only
// when recorder.overwrite_oldest is on.
func (db *DB) MarkOldest(ctx context.Context, objectStore string, limit int) (int, error) {
	if limit <= 0 || objectStore == "" {
		return 0, fmt.Errorf("mark oldest of %q: limit %d: %w", objectStore, limit, store.ErrInvalid)
	}
	tag, err := db.Pool.Exec(ctx, `
UPDATE recordings SET deleting = true WHERE id IN (
    SELECT id FROM recordings WHERE store = $1 AND NOT deleting AND NOT open
    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, objectStore, limit)
	if err != nil {
		return 0, fmt.Errorf("mark oldest segments of %s: %w", objectStore, err)
	}
	return int(tag.RowsAffected()), nil
}

// Marked returns up to limit segments of objectStore marked for deletion,
// by ID: the objects to remove, again after a crash.
func (db *DB) Marked(ctx context.Context, objectStore string, limit int) ([]Segment, error) {
	if limit <= 0 || objectStore == "" {
		return nil, fmt.Errorf("marked segments of %q: limit %d: %w", objectStore, limit, store.ErrInvalid)
	}
	return db.segments(ctx, "marked segments of "+objectStore,
		`SELECT `+segmentColumns+` FROM recordings WHERE deleting AND store = $1 ORDER BY id LIMIT $2`,
		objectStore, limit)
}

// DeleteSegments removes the rows of marked segments ids whose objects are
// gone; unmarked rows and IDs already removed are left alone, so a repeat
// is harmless.
func (db *DB) DeleteSegments(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM recordings WHERE deleting AND id = ANY ($1::bigint[])`,
		ids); err != nil {
		return fmt.Errorf("delete %d segments: %w", len(ids), err)
	}
	return nil
}

// SweepBacklog counts the segments of objectStore the sweeper has still
// to remove at now: closed ones expired (as MarkExpired says, with the
// same maxAge) and not yet marked, and the marked ones.
func (db *DB) SweepBacklog(ctx context.Context, objectStore string, now time.Time, maxAge time.Duration) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM recordings WHERE `+expiredWhere+`)
  + (SELECT count(*) FROM recordings WHERE deleting AND store = $1)`,
		objectStore, now, capCutoff(now, maxAge)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sweep backlog of %s: %w", objectStore, err)
	}
	return n, nil
}
