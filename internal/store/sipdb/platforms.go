package sipdb

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
)

// PlatformStatus is the state of the link to a superior platform, as
// cascade_platform_status keeps it.
type PlatformStatus struct {
	Status        string
	LocalID       string
	LastError     string
	RegisteredAt  *time.Time
	LastKeepalive *time.Time
	UpwardStreams int
}

// SetPlatformStatus records the state of the link to platform id. A
// platform deleted meanwhile is left alone (no row, no error).
func (s *DB) SetPlatformStatus(ctx context.Context, id int64, st PlatformStatus) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO cascade_platform_status (platform_id, status, local_id, last_error,
	registered_at, last_keepalive, upward_streams, updated_at)
SELECT $1, $2, $3, $4, $5, $6, $7, now() WHERE EXISTS (SELECT FROM cascade_platforms WHERE id = $1)
ON CONFLICT (platform_id) DO UPDATE SET status = excluded.status, local_id = excluded.local_id,
	last_error = excluded.last_error, registered_at = excluded.registered_at,
	last_keepalive = excluded.last_keepalive, upward_streams = excluded.upward_streams, updated_at = now()`,
		id, st.Status, st.LocalID, st.LastError, st.RegisteredAt, st.LastKeepalive, st.UpwardStreams)
	if err != nil {
		return fmt.Errorf("set status of platform %d: %w", id, err)
	}
	return nil
}

// Platforms returns the superior platforms with their link state (the
// read model's, cascadeview).
func (s *DB) Platforms(ctx context.Context) ([]cascadeview.Platform, error) {
	return cascadeview.New(s.Store).Platforms(ctx)
}
