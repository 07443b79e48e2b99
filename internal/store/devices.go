package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
func (s *Store) ListDevices(ctx context.Context, f DeviceFilter) ([]Device, int, error) {
	var c conds
	if f.Online != nil {
		c.add("online = $?", *f.Online)
	}
	if f.Text != "" {
		c.add("(id ILIKE $? OR name ILIKE $? OR manufacturer ILIKE $? OR model ILIKE $?)", "%"+escapeLike(f.Text)+"%")
	}
	return listPage(ctx, s, "devices", deviceColumns, c.where, c.args, "id", f.Limit, f.Offset, scanDevice)
}

// conds collects the WHERE conditions of a list query and their arguments.
type conds struct {
	where []string
	args  []any
}

// add appends a condition whose every $? is the placeholder of v.
func (c *conds) add(cond string, v any) {
	c.args = append(c.args, v)
	c.where = append(c.where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(c.args))))
}

// eq adds col = v unless v is empty.
func (c *conds) eq(col, v string) {
	if v != "" {
		c.add(col+" = $?", v)
	}
}

func listPage[T any](ctx context.Context, s *Store, table, columns string, where []string, args []any,
	order string, limit, offset int, scan func(pgx.Row) (T, error),
) ([]T, int, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	offset = max(offset, 0)
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	args = append(args, limit, offset)
	q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT $%d OFFSET $%d", columns, table, cond, order, len(args)-1, len(args))
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan %s: %w", table, err)
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	return items, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
