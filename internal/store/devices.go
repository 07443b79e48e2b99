package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Device is a GB28181 device: a camera, NVR, DVR or lower-level platform that registers with us.
type Device struct {
	ID           string
	Name         string
	Manufacturer string
	Model        string
	Firmware     string
	// Transport is the SIP transport it registered over: "udp" or "tcp".
	Transport string
	// RemoteAddr is the ip:port its packets come from, after NAT.
	RemoteAddr string
	// GBVersion is its X-GB-Ver header: "1.0" (2011), "2.0" (2016), "3.0" (2022), or "".
	GBVersion string
	// Charset of the MANSCDP bodies sent to it: "GB2312" or "UTF-8".
	Charset string
	// Password overrides the global SIP password when non-nil.
	Password          *string
	Online            bool
	RegisteredAt      *time.Time
	ExpiresAt         *time.Time
	LastKeepaliveAt   *time.Time
	HeartbeatInterval int
	HeartbeatCount    int
	ChannelCount      int
	// LastCatalogAt is when the device last answered a full catalog query (SetLastCatalog).
	LastCatalogAt *time.Time
	// StreamTransport is the media transport of its channels' sessions
	// (udp, tcp-passive, tcp-active); "" uses sessions.transport.
	StreamTransport string
	// SourceCheck is which signalling sources sipserver accepts for the
	// device's requests: SourceStrict or SourceIP.
	SourceCheck string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Source checks of Device.SourceCheck (devices.source_check).
const (
	// SourceStrict accepts a device's requests only from its registered
	// transport and ip:port (for TCP, its registered connection).
	SourceStrict = "strict"
	// SourceIP accepts them from its registered IP on any port.
	SourceIP = "ip"
)

const deviceColumns = `id, name, manufacturer, model, firmware, transport, remote_addr, gb_version, charset,
	password, online, registered_at, expires_at, last_keepalive_at, heartbeat_interval, heartbeat_count,
	channel_count, last_catalog_at, stream_transport, source_check, created_at, updated_at`

func scanDevice(row pgx.Row) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.Name, &d.Manufacturer, &d.Model, &d.Firmware, &d.Transport, &d.RemoteAddr,
		&d.GBVersion, &d.Charset, &d.Password, &d.Online, &d.RegisteredAt, &d.ExpiresAt, &d.LastKeepaliveAt,
		&d.HeartbeatInterval, &d.HeartbeatCount, &d.ChannelCount, &d.LastCatalogAt, &d.StreamTransport, &d.SourceCheck,
		&d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// UpsertDevice inserts d, or updates the existing device's identity, transport and
// registration fields. Online state is not touched: it changes only through
// ApplyStatusChanges, so that every transition is logged.
func (s *Store) UpsertDevice(ctx context.Context, d Device) error {
	if d.ID == "" {
		return fmt.Errorf("upsert device: empty id: %w", ErrInvalid)
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

// GetDevice returns one device, or ErrNotFound.
//
// Deprecated: use catalogview.View.GetDevice; this copy goes once no caller is left.
func (s *Store) GetDevice(ctx context.Context, id string) (Device, error) {
	d, err := scanDevice(s.Pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Device{}, fmt.Errorf("device %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Device{}, fmt.Errorf("get device %s: %w", id, err)
	}
	return d, nil
}

// SetDeviceStreamTransport sets the media transport of a device's sessions ("" uses the configured default).
func (s *Store) SetDeviceStreamTransport(ctx context.Context, id, transport string) error {
	return setStreamTransport(ctx, s, "device "+id,
		`UPDATE devices SET stream_transport = $2, updated_at = now() WHERE id = $1`, id, transport)
}

// SetDeviceSourceCheck sets which signalling sources are accepted for a
// device (SourceStrict or SourceIP), or returns ErrNotFound.
func (s *Store) SetDeviceSourceCheck(ctx context.Context, id, check string) error {
	if check != SourceStrict && check != SourceIP {
		return fmt.Errorf("device %s source check %q: %w", id, check, ErrInvalid)
	}
	return s.updateDevice(ctx, id, "source check",
		`UPDATE devices SET source_check = $2, updated_at = now() WHERE id = $1`, check)
}

// DeleteDevice removes a device and its channels; its status log stays for the KPIs.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM devices WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete device %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("device %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeviceFilter selects devices for ListDevices. Zero values select everything.
type DeviceFilter struct {
	// Online, when set, selects online (true) or offline (false) devices.
	Online *bool
	// Text matches a substring of the ID, name, manufacturer or model, case-insensitively.
	Text string
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}

// ListDevices returns one page of devices ordered by ID and the total number matching.
//
// Deprecated: use catalogview.View.ListDevices; this copy goes once no caller is left.
func (s *Store) ListDevices(ctx context.Context, f DeviceFilter) ([]Device, int, error) {
	var c Conds
	if f.Online != nil {
		c.Add("online = $?", *f.Online)
	}
	if f.Text != "" {
		c.Add("(id ILIKE $? OR name ILIKE $? OR manufacturer ILIKE $? OR model ILIKE $?)", "%"+EscapeLike(f.Text)+"%")
	}
	return ListPage(ctx, s.Pool, "devices", deviceColumns, c, "id", f.Limit, f.Offset, scanDevice)
}
