package sipdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
)

// Each status change is one statement: the store.UPDATE changes the row only when its state
// differs, and only then is the transition logged and published.
const (
	applyDeviceStatus = `
WITH u AS (
	UPDATE devices SET online = $2, updated_at = now() WHERE id = $1 AND online <> $2 RETURNING id
)
INSERT INTO device_status_log (device_id, channel_id, online, cause, at)
SELECT u.id, '', $2, $3, $4 FROM u
RETURNING pg_notify($5, $6)`
	applyChannelStatus = `
WITH u AS (
	UPDATE channels SET online = $3, updated_at = now()
	WHERE device_id = $1 AND id = $2 AND online <> $3 RETURNING device_id, id
)
INSERT INTO device_status_log (device_id, channel_id, online, cause, at)
SELECT u.device_id, u.id, $3, $4, $5 FROM u
RETURNING pg_notify($6, $7)`
)

// ApplyStatusChanges writes a batch of transitions in one transaction: each sets the
// device's or channel's online flag, is appended to device_status_log and published
// as a store.StatusEvent on store.ChannelStatus. The signalling path collects transitions in
// memory and calls this periodically, so a keepalive never waits for the database.
// The transaction and its statements travel in one round trip (plus the commit), and
// the changes are applied in order, so a device that went online and offline again
// within one batch logs both.
//
// A change that does not change anything (the row already has that state) is not
// logged, so the log holds transitions only and availability figures stay honest.
// It returns the changes that were applied.
func (s *DB) ApplyStatusChanges(ctx context.Context, changes []store.StatusChange) ([]store.StatusChange, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	batch := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(changes)+1)}
	batch.BeginTx(pgx.TxOptions{})
	for _, c := range changes {
		if c.Cause == "" || c.At.IsZero() {
			return nil, fmt.Errorf("apply status changes: change of %s/%s without cause or time: %w",
				c.DeviceID, c.ChannelID, store.ErrInvalid)
		}
		event, err := json.Marshal(store.StatusEvent(c))
		if err != nil {
			return nil, fmt.Errorf("apply status changes: event of %s/%s: %w", c.DeviceID, c.ChannelID, err)
		}
		if c.ChannelID == "" {
			batch.Queue(applyDeviceStatus, c.DeviceID, c.Online, c.Cause, c.At, store.ChannelStatus, string(event))
		} else {
			batch.Queue(applyChannelStatus, c.DeviceID, c.ChannelID, c.Online, c.Cause, c.At, store.ChannelStatus, string(event))
		}
	}
	applied, err := s.applyStatusBatch(ctx, batch, changes)
	if err != nil {
		return nil, fmt.Errorf("apply status changes: %w", err)
	}
	return applied, nil
}

func (s *DB) applyStatusBatch(ctx context.Context, batch *pgx.Batch, changes []store.StatusChange) ([]store.StatusChange, error) {
	br := s.Pool.SendBatch(ctx, batch)
	tx := br.Tx()
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("begin: %w", err)
	}
	var applied []store.StatusChange
	for _, c := range changes {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("set status of %s/%s: %w", c.DeviceID, c.ChannelID, err)
		}
		if tag.RowsAffected() > 0 {
			applied = append(applied, c)
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return applied, nil
}

// StatusLog returns the transitions of a device (and its channels) in [from, to), oldest first.
func (s *DB) StatusLog(ctx context.Context, deviceID string, from, to time.Time) ([]store.StatusChange, error) {
	rows, err := s.Pool.Query(ctx, `SELECT device_id, channel_id, online, cause, at FROM device_status_log
		WHERE device_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id`, deviceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("status log of %s: %w", deviceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StatusChange, error) {
		var c store.StatusChange
		err := r.Scan(&c.DeviceID, &c.ChannelID, &c.Online, &c.Cause, &c.At)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("status log of %s: %w", deviceID, err)
	}
	return out, nil
}
