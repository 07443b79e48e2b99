package catalogview

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// AllChannels returns every channel v sees, of device deviceID ("" any),
// ordered by device and ID, in one statement. The status events read whole
// slices: pages of ListChannels would find the slice again for every page
// and count it each time (3 s instead of tens of milliseconds for 30,000
// channels, docs/benchmarks.md).
func (v *View) AllChannels(ctx context.Context, deviceID string) ([]store.Channel, error) {
	chs := []store.Channel{}
	err := v.eachChannel(ctx, deviceID, "device_id, id", func(c store.Channel) error {
		chs = append(chs, c)
		return nil
	})
	return chs, err
}

// EachChannel calls fn with every channel v sees, of device deviceID (""
// any), in no particular order, as the statement returns them, and stops
// at fn's first error. The tree reads a whole slice this way and orders
// it itself: holding 30,000 channels in a slice first, and sorting them in
// the database (on disk beyond work_mem), cost more than finding them.
func (v *View) EachChannel(ctx context.Context, deviceID string, fn func(store.Channel) error) error {
	return v.eachChannel(ctx, deviceID, "", fn)
}

// eachChannel is EachChannel in order ("" none).
func (v *View) eachChannel(ctx context.Context, deviceID, order string, fn func(store.Channel) error) error {
	var c store.Conds
	table := v.scope.channelTable(&c)
	c.Eq("device_id", deviceID)
	if err := each(ctx, v, table, channelColumns, c, order, scanChannel, fn); err != nil {
		return fmt.Errorf("all channels: %w", err)
	}
	return nil
}

// AllDevices returns every device v sees, ordered by ID, in one statement.
func (v *View) AllDevices(ctx context.Context) ([]store.Device, error) {
	var c store.Conds
	table := v.scope.deviceTable(&c)
	v.scope.devices(&c)
	devs := []store.Device{}
	err := each(ctx, v, table, deviceColumns, c, "id", scanDevice, func(d store.Device) error {
		devs = append(devs, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("all devices: %w", err)
	}
	return devs, nil
}

// each calls fn with every row of table matching c in order ("" none), as
// the statement returns them, and stops at fn's first error.
func each[T any](ctx context.Context, v *View, table, columns string, c store.Conds, order string,
	scan func(pgx.Row) (T, error), fn func(T) error,
) error {
	q := "SELECT " + columns + " FROM " + table
	if len(c.Where) > 0 {
		q += " WHERE " + strings.Join(c.Where, " AND ")
	}
	if order != "" {
		q += " ORDER BY " + order
	}
	rows, err := v.Pool.Query(ctx, q, c.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(item); err != nil {
			return err
		}
	}
	return rows.Err()
}
