package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// StatusChange is one online/offline transition of a device (ChannelID "") or channel.
type StatusChange struct {
	DeviceID  string
	ChannelID string
	Online    bool
	// Cause says why: register, unregister, keepalive_timeout, expired, catalog, restart, …
	Cause string
	At    time.Time
}

// ApplyStatusChanges writes a batch of transitions in one transaction: each sets the
// device's or channel's online flag and is appended to device_status_log. The
// signalling path collects transitions in memory and calls this periodically, so a
// keepalive never waits for the database.
//
// A change that does not change anything (the row already has that state) is not
// logged, so the log holds transitions only and availability figures stay honest.
// It returns the changes that were applied.
func (s *Store) ApplyStatusChanges(ctx context.Context, changes []StatusChange) ([]StatusChange, error) {
	var applied []StatusChange
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		applied = applied[:0]
		for _, c := range changes {
			if c.Cause == "" || c.At.IsZero() {
				return fmt.Errorf("status change of %s/%s without cause or time: %w", c.DeviceID, c.ChannelID, ErrInvalid)
			}
			var tag pgconn.CommandTag
			var err error
			if c.ChannelID == "" {
				tag, err = tx.Exec(ctx, `UPDATE devices SET online = $2, updated_at = now() WHERE id = $1 AND online <> $2`,
					c.DeviceID, c.Online)
			} else {
				tag, err = tx.Exec(ctx, `UPDATE channels SET online = $3, updated_at = now()
					WHERE device_id = $1 AND id = $2 AND online <> $3`, c.DeviceID, c.ChannelID, c.Online)
			}
			if err != nil {
				return fmt.Errorf("set status of %s/%s: %w", c.DeviceID, c.ChannelID, err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO device_status_log (device_id, channel_id, online, cause, at)
				VALUES ($1, $2, $3, $4, $5)`, c.DeviceID, c.ChannelID, c.Online, c.Cause, c.At); err != nil {
				return fmt.Errorf("log status of %s/%s: %w", c.DeviceID, c.ChannelID, err)
			}
			applied = append(applied, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply status changes: %w", err)
	}
	return applied, nil
}

// StatusLog returns the transitions of a device (and its channels) in [from, to), oldest first.
func (s *Store) StatusLog(ctx context.Context, deviceID string, from, to time.Time) ([]StatusChange, error) {
	rows, err := s.Pool.Query(ctx, `SELECT device_id, channel_id, online, cause, at FROM device_status_log
		WHERE device_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id`, deviceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("status log of %s: %w", deviceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatusChange, error) {
		var c StatusChange
		err := r.Scan(&c.DeviceID, &c.ChannelID, &c.Online, &c.Cause, &c.At)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("status log of %s: %w", deviceID, err)
	}
	return out, nil
}
