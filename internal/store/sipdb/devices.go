package sipdb

import (
	"context"
	"fmt"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// UpsertDevice inserts d, or updates the existing device's identity, transport and
// registration fields. Online state is not touched: it changes only through
// ApplyStatusChanges, so that every transition is logged.
func (s *DB) UpsertDevice(ctx context.Context, d store.Device) error {
	if d.ID == "" {
		return fmt.Errorf("upsert device: empty id: %w", store.ErrInvalid)
	}
	if d.Transport == "" {
		d.Transport = "udp"
	}
	if d.Charset == "" {
		d.Charset = "GB2312"
	}
	if d.HeartbeatInterval == 0 {
		d.HeartbeatInterval = 60
	}
	if d.HeartbeatCount == 0 {
		d.HeartbeatCount = 3
	}
	_, err := s.Pool.Exec(ctx, `
INSERT INTO devices (id, name, manufacturer, model, firmware, transport, remote_addr, gb_version, charset,
	password, registered_at, expires_at, last_keepalive_at, heartbeat_interval, heartbeat_count, channel_count)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (id) DO UPDATE SET
	name = EXCLUDED.name, manufacturer = EXCLUDED.manufacturer, model = EXCLUDED.model,
	firmware = EXCLUDED.firmware, transport = EXCLUDED.transport, remote_addr = EXCLUDED.remote_addr,
	gb_version = EXCLUDED.gb_version, charset = EXCLUDED.charset, password = EXCLUDED.password,
	registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at,
	last_keepalive_at = EXCLUDED.last_keepalive_at, heartbeat_interval = EXCLUDED.heartbeat_interval,
	heartbeat_count = EXCLUDED.heartbeat_count, channel_count = EXCLUDED.channel_count, updated_at = now()`,
		d.ID, d.Name, d.Manufacturer, d.Model, d.Firmware, d.Transport, d.RemoteAddr, d.GBVersion, d.Charset,
		d.Password, d.RegisteredAt, d.ExpiresAt, d.LastKeepaliveAt, d.HeartbeatInterval, d.HeartbeatCount, d.ChannelCount)
	if err != nil {
		return fmt.Errorf("upsert device %s: %w", d.ID, err)
	}
	return nil
}

// SetDeviceStreamTransport sets the media transport of a device's sessions ("" uses the configured default).
func (s *DB) SetDeviceStreamTransport(ctx context.Context, id, transport string) error {
	return setStreamTransport(ctx, s, "device "+id,
		`UPDATE devices SET stream_transport = $2, updated_at = now() WHERE id = $1`, id, transport)
}

// SetDeviceSourceCheck sets which signalling sources are accepted for a
// device (store.SourceStrict or store.SourceIP), or returns store.ErrNotFound.
func (s *DB) SetDeviceSourceCheck(ctx context.Context, id, check string) error {
	if check != store.SourceStrict && check != store.SourceIP {
		return fmt.Errorf("device %s source check %q: %w", id, check, store.ErrInvalid)
	}
	return s.updateDevice(ctx, id, "source check",
		`UPDATE devices SET source_check = $2, updated_at = now() WHERE id = $1`, check)
}

// DeleteDevice removes a device and its channels; its status log stays for the KPIs.
func (s *DB) DeleteDevice(ctx context.Context, id string) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM devices WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete device %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("device %s: %w", id, store.ErrNotFound)
	}
	return nil
}
