package sipdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SyncCatalog makes the device's channels equal to items (a complete catalog):
// new channels are added, changed ones updated, missing ones removed, all in one
// transaction so readers never see half a catalog. The retention class is kept,
// since it is set by administrators, not by the device. A sync that changed
// anything is published as a store.CatalogEvent on store.ChannelCatalog.
func (s *DB) SyncCatalog(ctx context.Context, deviceID string, items []store.Channel) (store.CatalogSyncResult, error) {
	var res store.CatalogSyncResult
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if res.Added, res.Updated, err = upsertChannels(ctx, tx, deviceID, items); err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, c := range items {
			ids[i] = c.ID
		}
		tag, err := tx.Exec(ctx, `DELETE FROM channels WHERE device_id = $1 AND NOT (id = ANY($2))`, deviceID, ids)
		if err != nil {
			return fmt.Errorf("remove channels: %w", err)
		}
		res.Removed = int(tag.RowsAffected())
		return catalogChanged(ctx, tx, store.CatalogEvent{DeviceID: deviceID, Added: res.Added, Updated: res.Updated, Removed: res.Removed})
	})
	if err != nil {
		return res, fmt.Errorf("sync catalog of %s: %w", deviceID, err)
	}
	res.Unchanged = len(items) - res.Added - res.Updated
	return res, nil
}

// UpsertChannels adds or updates some channels of a device (catalog NOTIFY ADD/store.UPDATE)
// and reports how many were added and updated.
func (s *DB) UpsertChannels(ctx context.Context, deviceID string, items []store.Channel) (added, updated int, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if added, updated, err = upsertChannels(ctx, tx, deviceID, items); err != nil {
			return err
		}
		return catalogChanged(ctx, tx, store.CatalogEvent{DeviceID: deviceID, Added: added, Updated: updated})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("upsert channels of %s: %w", deviceID, err)
	}
	return added, updated, nil
}

// DeleteChannels removes some channels of a device (catalog NOTIFY DEL).
func (s *DB) DeleteChannels(ctx context.Context, deviceID string, ids []string) (int, error) {
	var removed int
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM channels WHERE device_id = $1 AND id = ANY($2)`, deviceID, ids)
		if err != nil {
			return err
		}
		removed = int(tag.RowsAffected())
		return catalogChanged(ctx, tx, store.CatalogEvent{DeviceID: deviceID, Removed: removed})
	})
	if err != nil {
		return 0, fmt.Errorf("delete channels of %s: %w", deviceID, err)
	}
	return removed, nil
}

// catalogChanged finishes a catalog write: when it changed anything, the device's
// channel count is recounted (if channels came or went) and ev is published.
func catalogChanged(ctx context.Context, tx pgx.Tx, ev store.CatalogEvent) error {
	if ev.Added == 0 && ev.Updated == 0 && ev.Removed == 0 {
		return nil
	}
	if ev.Added > 0 || ev.Removed > 0 {
		if _, err := tx.Exec(ctx, `UPDATE devices SET channel_count = (SELECT count(*) FROM channels WHERE device_id = $1),
			updated_at = now() WHERE id = $1`, ev.DeviceID); err != nil {
			return fmt.Errorf("count channels: %w", err)
		}
	}
	return store.Notify(ctx, tx, store.ChannelCatalog, ev)
}

func upsertChannels(ctx context.Context, tx pgx.Tx, deviceID string, items []store.Channel) (added, updated int, err error) {
	batch := &pgx.Batch{}
	for _, c := range items {
		if c.ID == "" {
			return 0, 0, fmt.Errorf("channel with empty id: %w", store.ErrInvalid)
		}
		extraJSON, err := marshalExtra(c.Extra)
		if err != nil {
			return 0, 0, fmt.Errorf("channel %s extra: %w", c.ID, err)
		}
		if c.Status == "" {
			c.Status = "OFF"
		}
		// Only rows that really change are written and returned: a re-sent catalog costs no writes.
		batch.Queue(`
INSERT INTO channels (device_id, id, name, manufacturer, model, owner, civil_code, address, parental, parent_id,
	business_group_id, secrecy, ip_address, port, status, longitude, latitude, ptz_type, extra)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT (device_id, id) DO UPDATE SET
	name = EXCLUDED.name, manufacturer = EXCLUDED.manufacturer, model = EXCLUDED.model, owner = EXCLUDED.owner,
	civil_code = EXCLUDED.civil_code, address = EXCLUDED.address, parental = EXCLUDED.parental,
	parent_id = EXCLUDED.parent_id, business_group_id = EXCLUDED.business_group_id, secrecy = EXCLUDED.secrecy,
	ip_address = EXCLUDED.ip_address, port = EXCLUDED.port, status = EXCLUDED.status,
	longitude = EXCLUDED.longitude, latitude = EXCLUDED.latitude, ptz_type = EXCLUDED.ptz_type,
	extra = EXCLUDED.extra, updated_at = now()
WHERE (channels.name, channels.manufacturer, channels.model, channels.owner, channels.civil_code, channels.address,
	channels.parental, channels.parent_id, channels.business_group_id, channels.secrecy, channels.ip_address,
	channels.port, channels.status, channels.longitude, channels.latitude, channels.ptz_type,
	channels.extra)
	IS DISTINCT FROM
	(EXCLUDED.name, EXCLUDED.manufacturer, EXCLUDED.model, EXCLUDED.owner, EXCLUDED.civil_code, EXCLUDED.address,
	EXCLUDED.parental, EXCLUDED.parent_id, EXCLUDED.business_group_id, EXCLUDED.secrecy, EXCLUDED.ip_address,
	EXCLUDED.port, EXCLUDED.status, EXCLUDED.longitude, EXCLUDED.latitude, EXCLUDED.ptz_type,
	EXCLUDED.extra)
RETURNING (xmax = 0)`,
			deviceID, c.ID, c.Name, c.Manufacturer, c.Model, c.Owner, c.CivilCode, c.Address, c.Parental, c.ParentID,
			c.BusinessGroupID, c.Secrecy, c.IPAddress, c.Port, c.Status, c.Longitude, c.Latitude, c.PTZType,
			extraJSON)
	}
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	for _, c := range items {
		var inserted bool
		switch err := br.QueryRow().Scan(&inserted); {
		case err == nil && inserted:
			added++
		case err == nil:
			updated++
		case errors.Is(err, pgx.ErrNoRows):
			// unchanged
		default:
			return 0, 0, fmt.Errorf("upsert channel %s: %w", c.ID, err)
		}
	}
	return added, updated, br.Close()
}

// SetChannelStreamTransport sets a channel's media transport ("" inherits the device's).
func (s *DB) SetChannelStreamTransport(ctx context.Context, deviceID, id, transport string) error {
	return setStreamTransport(ctx, s, "channel "+deviceID+"/"+id,
		`UPDATE channels SET stream_transport = $3, updated_at = now() WHERE device_id = $1 AND id = $2`, deviceID, id, transport)
}

func setStreamTransport(ctx context.Context, s *DB, what, query string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, query, args...)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23514":
		return fmt.Errorf("%s stream transport %q: %w", what, args[len(args)-1], store.ErrInvalid)
	case err != nil:
		return fmt.Errorf("%s stream transport: %w", what, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}
