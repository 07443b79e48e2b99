package sipdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// UpdateRegistrations writes a batch of registrations in one statement: unknown devices
// are created with defaults for everything else, known ones get their transport,
// address, version and registration times replaced. The online flag is left alone (it
// changes only through ApplyStatusChanges). When a device appears more than once, its
// last registration wins.
func (s *DB) UpdateRegistrations(ctx context.Context, regs []store.Registration) error {
	last := make(map[string]int, len(regs))
	for i, r := range regs {
		if r.DeviceID == "" {
			return fmt.Errorf("update registrations: empty device id: %w", store.ErrInvalid)
		}
		switch strings.ToLower(r.Transport) {
		case "", "udp", "tcp":
		default:
			return fmt.Errorf("update registrations: device %s: transport %q: %w", r.DeviceID, r.Transport, store.ErrInvalid)
		}
		last[r.DeviceID] = i
	}
	if len(last) == 0 {
		return nil
	}
	// One row per device (ON CONFLICT may touch a row once per statement), in ID order
	// so that concurrent batches lock rows in the same order and cannot deadlock.
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	transports := make([]string, len(ids))
	addrs := make([]string, len(ids))
	versions := make([]string, len(ids))
	registered := make([]*time.Time, len(ids))
	expires := make([]*time.Time, len(ids))
	for i, id := range ids {
		r := regs[last[id]]
		transports[i] = strings.ToLower(r.Transport)
		if transports[i] == "" {
			transports[i] = "udp"
		}
		addrs[i] = r.RemoteAddr
		versions[i] = r.GBVersion
		registered[i] = nullTime(r.RegisteredAt)
		expires[i] = nullTime(r.ExpiresAt)
	}
	_, err := s.Pool.Exec(ctx, `
INSERT INTO devices (id, transport, remote_addr, gb_version, registered_at, expires_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
ON CONFLICT (id) DO UPDATE SET
	transport = EXCLUDED.transport, remote_addr = EXCLUDED.remote_addr, gb_version = EXCLUDED.gb_version,
	registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at, updated_at = now()`,
		ids, transports, addrs, versions, registered, expires)
	if err != nil {
		return fmt.Errorf("update %d registrations: %w", len(ids), err)
	}
	return nil
}

// TouchKeepalives writes a batch of keepalive times in one statement; unknown devices
// are ignored and the last touch of a device wins. updated_at is left alone: a
// keepalive is liveness, not a change of the device's record.
func (s *DB) TouchKeepalives(ctx context.Context, touches []store.KeepaliveTouch) error {
	last := make(map[string]int, len(touches))
	for i, t := range touches {
		if t.DeviceID == "" || t.At.IsZero() {
			return fmt.Errorf("touch keepalives: device %q without id or time: %w", t.DeviceID, store.ErrInvalid)
		}
		last[t.DeviceID] = i
	}
	if len(last) == 0 {
		return nil
	}
	// store.UPDATE … FROM picks an arbitrary one of several matching rows, hence one per
	// device; ID order keeps the row locks in the same order as other batches.
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	at := make([]time.Time, len(ids))
	addrs := make([]string, len(ids))
	for i, id := range ids {
		t := touches[last[id]]
		at[i], addrs[i] = t.At, t.RemoteAddr
	}
	_, err := s.Pool.Exec(ctx, `
UPDATE devices AS d SET last_keepalive_at = t.at, remote_addr = CASE WHEN t.addr = '' THEN d.remote_addr ELSE t.addr END
FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS t (id, at, addr)
WHERE d.id = t.id`, ids, at, addrs)
	if err != nil {
		return fmt.Errorf("touch %d keepalives: %w", len(ids), err)
	}
	return nil
}

// LoadDeviceStates returns the state of every device in one query, in no particular
// order. The sipserver restores its registry from it at start.
func (s *DB) LoadDeviceStates(ctx context.Context) ([]store.DeviceState, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, online, password, transport, remote_addr, gb_version, charset,
	registered_at, expires_at, last_keepalive_at, heartbeat_interval, heartbeat_count, source_check FROM devices`)
	if err != nil {
		return nil, fmt.Errorf("load device states: %w", err)
	}
	defer rows.Close()
	var out []store.DeviceState
	for rows.Next() {
		var d store.DeviceState
		if err := rows.Scan(&d.ID, &d.Online, &d.Password, &d.Transport, &d.RemoteAddr, &d.GBVersion, &d.Charset,
			&d.RegisteredAt, &d.ExpiresAt, &d.LastKeepaliveAt, &d.HeartbeatInterval, &d.HeartbeatCount, &d.SourceCheck); err != nil {
			return nil, fmt.Errorf("load device states: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load device states: %w", err)
	}
	return out, nil
}

// UpdateDeviceInfo stores a device's DeviceInfo answer, or returns store.ErrNotFound.
func (s *DB) UpdateDeviceInfo(ctx context.Context, id, name, manufacturer, model, firmware string) error {
	return s.updateDevice(ctx, id, "device info", `UPDATE devices SET name = $2, manufacturer = $3, model = $4,
		firmware = $5, updated_at = now() WHERE id = $1`, name, manufacturer, model, firmware)
}

// SetHeartbeat stores a device's keepalive interval (seconds) and the number of missed
// keepalives after which it counts as offline, or returns store.ErrNotFound.
func (s *DB) SetHeartbeat(ctx context.Context, id string, interval, count int) error {
	if interval <= 0 || count <= 0 {
		return fmt.Errorf("set heartbeat of %s: interval %d, count %d: %w", id, interval, count, store.ErrInvalid)
	}
	return s.updateDevice(ctx, id, "heartbeat", `UPDATE devices SET heartbeat_interval = $2, heartbeat_count = $3,
		updated_at = now() WHERE id = $1`, interval, count)
}

// SetLastCatalog stores when a device last answered a full catalog query, or returns store.ErrNotFound.
func (s *DB) SetLastCatalog(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("set last catalog of %s: zero time: %w", id, store.ErrInvalid)
	}
	return s.updateDevice(ctx, id, "last catalog", `UPDATE devices SET last_catalog_at = $2 WHERE id = $1`, at)
}

// updateDevice runs an store.UPDATE of the device id (the query's $1) and maps "no row" to store.ErrNotFound.
func (s *DB) updateDevice(ctx context.Context, id, what, query string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, query, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("set %s of %s: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("device %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
