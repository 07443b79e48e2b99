package sweeper

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// DB is the part of the recordings index the sweeper uses. *Index is one
// over *recordingdb.DB.
type DB interface {
	// MarkExpired marks up to limit closed segments expired at now.
	MarkExpired(ctx context.Context, now time.Time, limit int) (int, error)
	// MarkOldest marks up to limit closed segments, expired or not, the
	// soonest to expire first (overwrite_oldest only).
	MarkOldest(ctx context.Context, limit int) (int, error)
	// Marked returns up to limit marked segments.
	Marked(ctx context.Context, limit int) ([]recordingdb.Segment, error)
	// DeleteSegments removes the rows of marked segments.
	DeleteSegments(ctx context.Context, ids []int64) error
	// Backlog counts the segments expired at now or marked and not yet
	// removed.
	Backlog(ctx context.Context, now time.Time) (int64, error)
}

// Index is the sweeper's DB over the recorder's database: recordingdb's
// methods plus Backlog, a read the index does not offer yet (it belongs in
// recordingdb, where this type can then go).
type Index struct {
	*recordingdb.DB
}

// Backlog counts the segments the sweeper has still to remove at now:
// closed ones expired, and those marked.
func (i Index) Backlog(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	if err := i.Pool.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM recordings WHERE NOT deleting AND NOT open AND expires_at <= $1)
  + (SELECT count(*) FROM recordings WHERE deleting)`, now).Scan(&n); err != nil {
		return 0, fmt.Errorf("sweeper backlog: %w", err)
	}
	return n, nil
}
