package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is one catalog entry of a device: a camera or other peripheral, or an
// organisation node (civil code, business group, virtual organisation).
type Channel struct {
	DeviceID        string
	ID              string
	Name            string
	Manufacturer    string
	Model           string
	Owner           string
	CivilCode       string
	Address         string
	Parental        bool
	ParentID        string
	BusinessGroupID string
	Secrecy         bool
	IPAddress       string
	Port            int
	// Status is the catalog's Status as reported (ON, OFF, …).
	Status string
	// Online changes only through ApplyStatusChanges, so every transition is
	// logged; channel upserts ignore it (new channels start offline).
	Online bool
	// Longitude and Latitude are nil when the device reports none.
	Longitude, Latitude *float64
	// PTZType: 0 unknown, 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled bullet.
	PTZType int
	// RetentionClass is "standard" (30 days) or "key" (90 days, key areas).
	RetentionClass string
	// Extra keeps catalog fields that have no column of their own.
	Extra map[string]string
	// StreamTransport is the media transport for this channel's sessions
	// (udp, tcp-passive, tcp-active); "" inherits the device's. Catalog
	// upserts never change it.
	StreamTransport string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const channelColumns = `device_id, id, name, manufacturer, model, owner, civil_code, address, parental, parent_id,
	business_group_id, secrecy, ip_address, port, status, online, longitude, latitude, ptz_type, retention_class,
	extra, stream_transport, created_at, updated_at`

func scanChannel(row pgx.Row) (Channel, error) {
	var c Channel
	var extra []byte
	err := row.Scan(&c.DeviceID, &c.ID, &c.Name, &c.Manufacturer, &c.Model, &c.Owner, &c.CivilCode, &c.Address,
		&c.Parental, &c.ParentID, &c.BusinessGroupID, &c.Secrecy, &c.IPAddress, &c.Port, &c.Status, &c.Online,
		&c.Longitude, &c.Latitude, &c.PTZType, &c.RetentionClass, &extra, &c.StreamTransport, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(extra, &c.Extra); err != nil {
		return c, fmt.Errorf("channel %s extra: %w", c.ID, err)
	}
	return c, nil
}

// CatalogSyncResult counts what a catalog sync changed.
type CatalogSyncResult struct {
	Added, Updated, Removed, Unchanged int
}

// SyncCatalog makes the device's channels equal to items (a complete catalog):
// new channels are added, changed ones updated, missing ones removed, all in one
// transaction so readers never see half a catalog. The retention class is kept,
// since it is set by administrators, not by the device. A sync that changed
// anything is published as a CatalogEvent on ChannelCatalog.
func (s *Store) SyncCatalog(ctx context.Context, deviceID string, items []Channel) (CatalogSyncResult, error) {
	var res CatalogSyncResult
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
		return catalogChanged(ctx, tx, CatalogEvent{DeviceID: deviceID, Added: res.Added, Updated: res.Updated, Removed: res.Removed})
	})
	if err != nil {
		return res, fmt.Errorf("sync catalog of %s: %w", deviceID, err)
	}
	res.Unchanged = len(items) - res.Added - res.Updated
	return res, nil
}

// UpsertChannels adds or updates some channels of a device (catalog NOTIFY ADD/UPDATE)
// and reports how many were added and updated.
func (s *Store) UpsertChannels(ctx context.Context, deviceID string, items []Channel) (added, updated int, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if added, updated, err = upsertChannels(ctx, tx, deviceID, items); err != nil {
			return err
		}
		return catalogChanged(ctx, tx, CatalogEvent{DeviceID: deviceID, Added: added, Updated: updated})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("upsert channels of %s: %w", deviceID, err)
	}
	return added, updated, nil
}

// DeleteChannels removes some channels of a device (catalog NOTIFY DEL).
func (s *Store) DeleteChannels(ctx context.Context, deviceID string, ids []string) (int, error) {
	var removed int
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM channels WHERE device_id = $1 AND id = ANY($2)`, deviceID, ids)
		if err != nil {
			return err
		}
		removed = int(tag.RowsAffected())
		return catalogChanged(ctx, tx, CatalogEvent{DeviceID: deviceID, Removed: removed})
	})
	if err != nil {
		return 0, fmt.Errorf("delete channels of %s: %w", deviceID, err)
	}
	return removed, nil
}

// catalogChanged finishes a catalog write: when it changed anything, the device's
// channel count is recounted (if channels came or went) and ev is published.
func catalogChanged(ctx context.Context, tx pgx.Tx, ev CatalogEvent) error {
	if ev.Added == 0 && ev.Updated == 0 && ev.Removed == 0 {
		return nil
	}
	if ev.Added > 0 || ev.Removed > 0 {
		if _, err := tx.Exec(ctx, `UPDATE devices SET channel_count = (SELECT count(*) FROM channels WHERE device_id = $1),
			updated_at = now() WHERE id = $1`, ev.DeviceID); err != nil {
			return fmt.Errorf("count channels: %w", err)
		}
	}
	return Notify(ctx, tx, ChannelCatalog, ev)
}

func upsertChannels(ctx context.Context, tx pgx.Tx, deviceID string, items []Channel) (added, updated int, err error) {
	batch := &pgx.Batch{}
	for _, c := range items {
		if c.ID == "" {
			return 0, 0, fmt.Errorf("channel with empty id: %w", ErrInvalid)
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

// GetChannel returns one channel of a device, or ErrNotFound.
//
// Deprecated: use catalogview.View.GetChannel; this copy goes once no caller is left.
func (s *Store) GetChannel(ctx context.Context, deviceID, id string) (Channel, error) {
	c, err := scanChannel(s.Pool.QueryRow(ctx,
		`SELECT `+channelColumns+` FROM channel_state WHERE device_id = $1 AND id = $2`, deviceID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel %s/%s: %w", deviceID, id, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("get channel %s/%s: %w", deviceID, id, err)
	}
	return c, nil
}

// FindChannel returns the channel with the given ID, whichever device reports it,
// or ErrNotFound. GB28181 IDs are unique nationwide, but a camera moved between
// NVRs can linger in the old one's catalog: the online, most recently updated
// entry wins.
//
// Deprecated: use catalogview.View.FindChannel; this copy goes once no caller is left.
func (s *Store) FindChannel(ctx context.Context, id string) (Channel, error) {
	c, err := scanChannel(s.Pool.QueryRow(ctx,
		`SELECT `+channelColumns+` FROM channel_state WHERE id = $1 ORDER BY online DESC, updated_at DESC LIMIT 1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("find channel %s: %w", id, err)
	}
	return c, nil
}

// SetChannelStreamTransport sets a channel's media transport ("" inherits the device's).
func (s *Store) SetChannelStreamTransport(ctx context.Context, deviceID, id, transport string) error {
	return setStreamTransport(ctx, s, "channel "+deviceID+"/"+id,
		`UPDATE channels SET stream_transport = $3, updated_at = now() WHERE device_id = $1 AND id = $2`, deviceID, id, transport)
}

func setStreamTransport(ctx context.Context, s *Store, what, query string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, query, args...)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23514":
		return fmt.Errorf("%s stream transport %q: %w", what, args[len(args)-1], ErrInvalid)
	case err != nil:
		return fmt.Errorf("%s stream transport: %w", what, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// ChannelFilter selects channels for ListChannels. Zero values select everything.
type ChannelFilter struct {
	DeviceID  string
	CivilCode string
	ParentID  string
	Online    *bool
	// Text matches a substring of the ID, name or address, case-insensitively.
	Text string
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}

// ListChannels returns one page of channels ordered by device and ID, and the total number matching.
//
// Deprecated: use catalogview.View.ListChannels; this copy goes once no caller is left.
func (s *Store) ListChannels(ctx context.Context, f ChannelFilter) ([]Channel, int, error) {
	var c Conds
	c.Eq("device_id", f.DeviceID)
	c.Eq("civil_code", f.CivilCode)
	c.Eq("parent_id", f.ParentID)
	if f.Online != nil {
		c.Add("online = $?", *f.Online)
	}
	if f.Text != "" {
		c.Add("(id ILIKE $? OR name ILIKE $? OR address ILIKE $?)", "%"+EscapeLike(f.Text)+"%")
	}
	return ListPage(ctx, s.Pool, "channel_state", channelColumns, c, "device_id, id", f.Limit, f.Offset, scanChannel)
}
