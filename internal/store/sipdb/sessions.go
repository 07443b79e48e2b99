package sipdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const sessionColumns = `id, kind, device_id, channel_id, path, media_node, receiver_id, transport, ssrc, call_id,
	from_tag, to_tag, remote_target, cseq, state, range_start, range_end, started_at, active_at, ended_at, end_reason, owner`

func scanSession(row pgx.Row) (store.StreamSession, error) {
	var s store.StreamSession
	err := row.Scan(&s.ID, &s.Kind, &s.DeviceID, &s.ChannelID, &s.Path, &s.MediaNode, &s.ReceiverID, &s.Transport,
		&s.SSRC, &s.CallID, &s.FromTag, &s.ToTag, &s.RemoteTarget, &s.CSeq, &s.State, &s.RangeStart, &s.RangeEnd, &s.StartedAt, &s.ActiveAt,
		&s.EndedAt, &s.EndReason, &s.Owner)
	return s, err
}

// CreateSession stores a new session in state inviting. It fails with
// store.ErrPathBusy when the path already has an open session.
func (s *DB) CreateSession(ctx context.Context, ss store.StreamSession) error {
	if ss.ID == "" || ss.DeviceID == "" || ss.ChannelID == "" || ss.Path == "" {
		return fmt.Errorf("create session %q: id, device, channel and path are required: %w", ss.ID, store.ErrInvalid)
	}
	err := s.sessionTx(ctx, `
INSERT INTO stream_sessions (id, kind, device_id, channel_id, path, media_node, receiver_id, transport, ssrc,
	call_id, from_tag, to_tag, range_start, range_end, owner)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING `+sessionEventColumns,
		ss.ID, ss.Kind, ss.DeviceID, ss.ChannelID, ss.Path, ss.MediaNode, ss.ReceiverID, ss.Transport, ss.SSRC,
		ss.CallID, ss.FromTag, ss.ToTag, ss.RangeStart, ss.RangeEnd, ss.Owner)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "stream_sessions_open_path_idx":
		return fmt.Errorf("create session %s: %s: %w", ss.ID, ss.Path, store.ErrPathBusy)
	case errors.As(err, &pgErr) && (pgErr.Code == "23514" || pgErr.Code == "23505"):
		return fmt.Errorf("create session %s: %w: %s", ss.ID, store.ErrInvalid, pgErr.Message)
	case err != nil:
		return fmt.Errorf("create session %s: %w", ss.ID, err)
	}
	return nil
}

// ActivateSession records the answered dialog and the receiver details and
// marks the session active.
func (s *DB) ActivateSession(ctx context.Context, ss store.StreamSession) error {
	err := s.sessionTx(ctx, `
UPDATE stream_sessions SET state = 'active', active_at = now(), media_node = $2, receiver_id = $3, transport = $4,
	ssrc = $5, call_id = $6, from_tag = $7, to_tag = $8, remote_target = $9, cseq = $10
WHERE id = $1 AND state = 'inviting'
RETURNING `+sessionEventColumns,
		ss.ID, ss.MediaNode, ss.ReceiverID, ss.Transport, ss.SSRC, ss.CallID, ss.FromTag, ss.ToTag, ss.RemoteTarget, ss.CSeq)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("activate session %s (not inviting): %w", ss.ID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("activate session %s: %w", ss.ID, err)
	}
	return nil
}

// SetSessionCSeq records the CSeq of the last in-dialog request we sent.
func (s *DB) SetSessionCSeq(ctx context.Context, id string, cseq int) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE stream_sessions SET cseq = greatest(cseq, $2) WHERE id = $1`, id, cseq); err != nil {
		return fmt.Errorf("session %s cseq: %w", id, err)
	}
	return nil
}

// EndSession marks a session ended with reason. It reports whether this
// call ended it (false: it was ended already), so that exactly one caller
// tears the dialog down.
func (s *DB) EndSession(ctx context.Context, id, reason string) (bool, error) {
	err := s.sessionTx(ctx, `
UPDATE stream_sessions SET state = 'ended', ended_at = now(), end_reason = $2 WHERE id = $1 AND state <> 'ended'
RETURNING `+sessionEventColumns, id, reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("end session %s: %w", id, err)
	}
	return true, nil
}

const sessionEventColumns = `id, kind, device_id, channel_id, path, state, end_reason, owner, now()`

// sessionTx runs a statement that returns sessionEventColumns of one row and
// publishes that row as a store.SessionEvent in the same transaction. No row:
// pgx.ErrNoRows.
func (s *DB) sessionTx(ctx context.Context, query string, args ...any) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var ev store.SessionEvent
		if err := tx.QueryRow(ctx, query, args...).Scan(&ev.ID, &ev.Kind, &ev.DeviceID, &ev.ChannelID, &ev.Path,
			&ev.State, &ev.Reason, &ev.Owner, &ev.At); err != nil {
			return err
		}
		return store.Notify(ctx, tx, store.ChannelSession, ev)
	})
}

// Session returns one session.
func (s *DB) Session(ctx context.Context, id string) (store.StreamSession, error) {
	ss, err := scanSession(s.Pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM stream_sessions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ss, fmt.Errorf("session %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("session %s: %w", id, err)
	}
	return ss, nil
}

// OpenSessionByPath returns the open session serving path.
func (s *DB) OpenSessionByPath(ctx context.Context, path string) (store.StreamSession, error) {
	ss, err := scanSession(s.Pool.QueryRow(ctx,
		`SELECT `+sessionColumns+` FROM stream_sessions WHERE path = $1 AND state <> 'ended'`, path))
	if errors.Is(err, pgx.ErrNoRows) {
		return ss, fmt.Errorf("open session of %s: %w", path, store.ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("open session of %s: %w", path, err)
	}
	return ss, nil
}

// OpenSessions lists the sessions not ended, optionally of one device
// (deviceID ""), oldest first: what a restart or reconcile loop checks.
func (s *DB) OpenSessions(ctx context.Context, deviceID string) ([]store.StreamSession, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+sessionColumns+` FROM stream_sessions
WHERE state <> 'ended' AND ($1 = '' OR device_id = $1) ORDER BY started_at, id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("open sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StreamSession, error) { return scanSession(r) })
	if err != nil {
		return nil, fmt.Errorf("open sessions: %w", err)
	}
	return out, nil
}

// ListSessions returns one page of sessions, newest first, and the total number matching.
func (s *DB) ListSessions(ctx context.Context, f store.SessionFilter) ([]store.StreamSession, int, error) {
	var c store.Conds
	c.Eq("device_id", f.DeviceID)
	c.Eq("channel_id", f.ChannelID)
	c.Eq("kind", f.Kind)
	if f.Open {
		c.Where = append(c.Where, "state <> 'ended'")
	}
	return store.ListPage(ctx, s.Pool, "stream_sessions", sessionColumns, c, "started_at DESC, id", f.Limit, f.Offset, scanSession)
}
