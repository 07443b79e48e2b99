package sipdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

// UpwardSession is a stream sent up to a superior platform, as
// upward_sessions keeps it for a restart.
type UpwardSession struct {
	CallID, ChannelID, Kind, SessionID, Path, SenderID string
	PlatformID                                         int64
	LocalTag, RemoteTag, RemoteTarget, LocalUser       string
	StartedAt                                          time.Time
	// ReplayID, RecorderURL and ReceiverID are set for a replay of our
	// own recordings (then SessionID is empty).
	ReplayID, RecorderURL, ReceiverID string
}

// SaveUpwardSession stores u. A platform deleted meanwhile is left alone
// (no row, no error): its streams end with its link.
func (s *DB) SaveUpwardSession(ctx context.Context, u UpwardSession) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO upward_sessions (call_id, platform_id, channel_id, kind, session_id, path,
	sender_id, local_tag, remote_tag, remote_target, started_at, local_user, replay_id, recorder_url, receiver_id)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
WHERE EXISTS (SELECT FROM cascade_platforms WHERE id = $2)
ON CONFLICT (call_id) DO NOTHING`,
		u.CallID, u.PlatformID, u.ChannelID, u.Kind, u.SessionID, u.Path, u.SenderID, u.LocalTag, u.RemoteTag,
		u.RemoteTarget, u.StartedAt, u.LocalUser, u.ReplayID, u.RecorderURL, u.ReceiverID)
	if err != nil {
		return fmt.Errorf("save upward session %s: %w", u.CallID, err)
	}
	return nil
}

// DeleteUpwardSession forgets the upward session of callID.
func (s *DB) DeleteUpwardSession(ctx context.Context, callID string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM upward_sessions WHERE call_id = $1`, callID); err != nil {
		return fmt.Errorf("delete upward session %s: %w", callID, err)
	}
	return nil
}

// UpwardSessions returns every stored upward session, oldest first.
func (s *DB) UpwardSessions(ctx context.Context) ([]UpwardSession, error) {
	rows, err := s.Pool.Query(ctx, `SELECT call_id, platform_id, channel_id, kind, session_id, path, sender_id,
	local_tag, remote_tag, remote_target, started_at, local_user, replay_id, recorder_url, receiver_id
FROM upward_sessions ORDER BY started_at, call_id`)
	if err != nil {
		return nil, fmt.Errorf("upward sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UpwardSession, error) {
		var u UpwardSession
		err := r.Scan(&u.CallID, &u.PlatformID, &u.ChannelID, &u.Kind, &u.SessionID, &u.Path, &u.SenderID,
			&u.LocalTag, &u.RemoteTag, &u.RemoteTarget, &u.StartedAt, &u.LocalUser, &u.ReplayID, &u.RecorderURL, &u.ReceiverID)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("upward sessions: %w", err)
	}
	return out, nil
}

// PlatformNames returns the IDs and names superior platform knows our
// channels by (the read model's, cascadeview).
func (s *DB) PlatformNames(ctx context.Context, platform int64) ([]cascadeview.ExposedName, error) {
	return cascadeview.New(s.Store).Names(ctx, platform)
}

// PlatformVirtualOrg returns the virtual organisation a superior platform
// sees our channels in (the read model's, cascadeview).
func (s *DB) PlatformVirtualOrg(ctx context.Context, platform int64) (cascadeview.VirtualOrg, error) {
	return cascadeview.New(s.Store).VirtualOrg(ctx, platform)
}
