package sweeper

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// DB is the part of the recordings index the sweeper uses
// (*recordingdb.DB).
type DB interface {
	// MarkExpired marks up to limit closed segments of objectStore expired
	// at now, or ended maxAge before it (0: no cap).
	MarkExpired(ctx context.Context, objectStore string, now time.Time, maxAge time.Duration, limit int) (int, error)
	// MarkOldest marks up to limit closed segments of objectStore, expired
	// or not, the soonest to expire first (overwrite_oldest only).
	MarkOldest(ctx context.Context, objectStore string, limit int) (int, error)
	// Marked returns up to limit marked segments of objectStore.
	Marked(ctx context.Context, objectStore string, limit int) ([]recordingdb.Segment, error)
	// DeleteSegments removes the rows of marked segments.
	DeleteSegments(ctx context.Context, ids []int64) error
	// SweepBacklog counts the segments of objectStore expired at now
	// (MarkExpired's test) or marked and not yet removed.
	SweepBacklog(ctx context.Context, objectStore string, now time.Time, maxAge time.Duration) (int64, error)
}
