package scheduler

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// DB is the part of the recorder's index the scheduler uses
// (*recordingdb.DB). Lease expiry is the database's clock.
type DB interface {
	// Heartbeat records that the beat's node is alive, where it serves and
	// its retention settings.
	Heartbeat(ctx context.Context, b recordingdb.Beat) error
	// Listen calls fn for each notification on channels until ctx is done,
	// reconnecting when its connection fails (store.Store.Listen).
	Listen(ctx context.Context, channels []string, fn func(channel, payload string)) error
	// LiveNodes returns the nodes whose heartbeat is within the duration.
	LiveNodes(ctx context.Context, within time.Duration) ([]recordingdb.Node, error)
	// EffectivePlans returns every channel's effective record plan.
	EffectivePlans(ctx context.Context, d recordingdb.Defaults) ([]recordingdb.Plan, error)
	// AcquireLeases takes free or expired leases of candidates until node
	// holds maxHeld.
	AcquireLeases(ctx context.Context, node string, candidates []string, maxHeld int,
		ttl time.Duration) ([]recordingdb.Lease, error)
	// RenewLeases extends node's leases and returns their channels.
	RenewLeases(ctx context.Context, node string, ttl time.Duration) ([]string, error)
	// ReleaseLeases gives node's leases of channels up.
	ReleaseLeases(ctx context.Context, node string, channels []string) error
	// OpenGap records a hole (plan_off, recorder_down), or extends the
	// channel's last gap of the same cause that ended where it starts.
	OpenGap(ctx context.Context, g recordingdb.Gap) (id int64, extended bool, err error)
	// RecordedUntil is the end of channel's last segment or closed gap.
	RecordedUntil(ctx context.Context, channel string) (time.Time, error)
}
