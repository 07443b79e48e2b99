package sipdb

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
)

const mobilePositionColumns = `id, device_id, target_id, at, longitude, latitude, speed, direction, altitude, received_at`

func scanMobilePosition(row pgx.Row) (store.MobilePosition, error) {
	var p store.MobilePosition
	err := row.Scan(&p.ID, &p.DeviceID, &p.TargetID, &p.At, &p.Longitude, &p.Latitude, &p.Speed, &p.Direction,
		&p.Altitude, &p.ReceivedAt)
	return p, err
}

// InsertMobilePositions stores a batch of positions in one statement; the IDs of items are ignored.
func (s *DB) InsertMobilePositions(ctx context.Context, items []store.MobilePosition) error {
	if len(items) == 0 {
		return nil
	}
	n := len(items)
	devices, targets := make([]string, n), make([]string, n)
	at, received := make([]time.Time, n), make([]*time.Time, n)
	lons, lats := make([]float64, n), make([]float64, n)
	speeds, directions, altitudes := make([]*float64, n), make([]*float64, n), make([]*float64, n)
	for i, p := range items {
		if p.DeviceID == "" || p.At.IsZero() {
			return fmt.Errorf("insert mobile positions: device %q, time %v: %w", p.DeviceID, p.At, store.ErrInvalid)
		}
		devices[i], targets[i], at[i], received[i] = p.DeviceID, p.TargetID, p.At, nullTime(p.ReceivedAt)
		lons[i], lats[i] = p.Longitude, p.Latitude
		speeds[i], directions[i], altitudes[i] = p.Speed, p.Direction, p.Altitude
	}
	_, err := s.Pool.Exec(ctx, `
INSERT INTO mobile_positions (device_id, target_id, at, longitude, latitude, speed, direction, altitude, received_at)
SELECT d, t, at, lon, lat, sp, dir, alt, coalesce(r, now())
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
	$8::float8[], $9::timestamptz[]) AS u (d, t, at, lon, lat, sp, dir, alt, r)`,
		devices, targets, at, lons, lats, speeds, directions, altitudes, received)
	if err != nil {
		return fmt.Errorf("insert %d mobile positions: %w", n, err)
	}
	return nil
}

// ListMobilePositions returns one page of positions, newest first, and the total number matching.
func (s *DB) ListMobilePositions(ctx context.Context, f store.MobilePositionFilter) ([]store.MobilePosition, int, error) {
	where, args := eventFilter([][2]string{{"device_id", f.DeviceID}}, f.From, f.To)
	return store.ListPage(ctx, s.Pool, "mobile_positions", mobilePositionColumns, store.Conds{Where: where, Args: args}, "at DESC, id DESC",
		f.Limit, f.Offset, scanMobilePosition)
}
