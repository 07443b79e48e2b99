package sipdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
)

const alarmColumns = `id, device_id, channel_id, priority, method, type, description, longitude, latitude, at,
	received_at, extra`

func scanAlarm(row pgx.Row) (store.Alarm, error) {
	var a store.Alarm
	var extra []byte
	err := row.Scan(&a.ID, &a.DeviceID, &a.ChannelID, &a.Priority, &a.Method, &a.Type, &a.Description,
		&a.Longitude, &a.Latitude, &a.At, &a.ReceivedAt, &extra)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(extra, &a.Extra); err != nil {
		return a, fmt.Errorf("alarm %d extra: %w", a.ID, err)
	}
	return a, nil
}

// InsertAlarms stores a batch of alarms in one statement; the IDs of items are ignored.
func (s *DB) InsertAlarms(ctx context.Context, items []store.Alarm) error {
	if len(items) == 0 {
		return nil
	}
	n := len(items)
	devices, channels := make([]string, n), make([]string, n)
	priorities := make([]int16, n)
	methods, types, descriptions := make([]string, n), make([]string, n), make([]string, n)
	lons, lats := make([]*float64, n), make([]*float64, n)
	at, received := make([]time.Time, n), make([]*time.Time, n)
	extras := make([]string, n)
	for i, a := range items {
		if a.DeviceID == "" || a.At.IsZero() || a.Priority < 0 || a.Priority > 4 {
			return fmt.Errorf("insert alarms: device %q, time %v, priority %d: %w", a.DeviceID, a.At, a.Priority, store.ErrInvalid)
		}
		extra, err := marshalExtra(a.Extra)
		if err != nil {
			return fmt.Errorf("insert alarms: device %s extra: %w", a.DeviceID, err)
		}
		devices[i], channels[i], priorities[i] = a.DeviceID, a.ChannelID, int16(a.Priority)
		methods[i], types[i], descriptions[i] = a.Method, a.Type, a.Description
		lons[i], lats[i] = a.Longitude, a.Latitude
		at[i], received[i], extras[i] = a.At, nullTime(a.ReceivedAt), extra
	}
	_, err := s.Pool.Exec(ctx, `
INSERT INTO alarms (device_id, channel_id, priority, method, type, description, longitude, latitude, at, received_at, extra)
SELECT d, c, p, m, t, ds, lon, lat, at, coalesce(r, now()), e
FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[],
	$9::timestamptz[], $10::timestamptz[], $11::jsonb[]) AS u (d, c, p, m, t, ds, lon, lat, at, r, e)`,
		devices, channels, priorities, methods, types, descriptions, lons, lats, at, received, extras)
	if err != nil {
		return fmt.Errorf("insert %d alarms: %w", n, err)
	}
	return nil
}

// ListAlarms returns one page of alarms, newest first, and the total number matching.
func (s *DB) ListAlarms(ctx context.Context, f store.AlarmFilter) ([]store.Alarm, int, error) {
	where, args := eventFilter([][2]string{{"device_id", f.DeviceID}, {"channel_id", f.ChannelID}}, f.From, f.To)
	return store.ListPage(ctx, s.Pool, "alarms", alarmColumns, store.Conds{Where: where, Args: args}, "at DESC, id DESC",
		f.Limit, f.Offset, scanAlarm)
}

// eventFilter is the WHERE of an event table: equality for each non-empty
// {column, value} and the time range [from, to) on at, open where zero.
func eventFilter(eq [][2]string, from, to time.Time) (where []string, args []any) {
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	for _, e := range eq {
		if e[1] != "" {
			add(e[0]+" = $%d", e[1])
		}
	}
	if !from.IsZero() {
		add("at >= $%d", from)
	}
	if !to.IsZero() {
		add("at < $%d", to)
	}
	return where, args
}

// marshalExtra encodes an Extra map for a jsonb column, {} when nil.
func marshalExtra(extra map[string]string) (string, error) {
	if extra == nil {
		return "{}", nil
	}
	b, err := json.Marshal(extra)
	return string(b), err
}
