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
	var c store.Conds
	table := v.scope.channelTable(&c)
	c.Eq("device_id", deviceID)
	chs := []store.Channel{}
	err := each(ctx, v, table, channelColumns, c, "device_id, id", scanChannel, func(ch store.Channel) error {
		chs = append(chs, ch)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("all channels: %w", err)
	}
	return chs, nil
}

// TreeChannel is what the device tree shows of a channel: where it hangs
// (its device, its civil code) and how it is drawn.
type TreeChannel struct {
	DeviceID  string
	ID        string
	Name      string
	CivilCode string
	// Online is the effective state, as in store.Channel.
	Online  bool
	PTZType int
}

// EachTreeChannel calls fn with every channel v sees, in no particular
// order, as the statement returns them, and stops at fn's first error. It
// reads TreeChannel's columns only: for a slice of 30,000 channels, the
// other columns (and the location right they need), holding the channels
// in a slice first, and sorting them in the database (on disk beyond
// work_mem) cost more than finding them. The tree orders its nodes itself.
func (v *View) EachTreeChannel(ctx context.Context, fn func(TreeChannel) error) error {
	var c store.Conds
	table := v.scope.channelTable(&c)
	err := each(ctx, v, table, "device_id, id, name, civil_code, online, ptz_type", c, "",
		func(row pgx.Row) (TreeChannel, error) {
			var t TreeChannel
			err := row.Scan(&t.DeviceID, &t.ID, &t.Name, &t.CivilCode, &t.Online, &t.PTZType)
			return t, err
		}, fn)
	if err != nil {
		return fmt.Errorf("tree channels: %w", err)
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

// TreeDevice is what the device tree shows of a device; the tree counts
// its channels itself.
type TreeDevice struct {
	ID     string
	Name   string
	Online bool
}

// EachTreeDevice calls fn with every device v sees, in no particular
// order, and stops at fn's first error. It reads TreeDevice's columns
// only, so the slice is not found a second time to count every device's
// channels (deviceTable's join is dropped when its count is not read).
func (v *View) EachTreeDevice(ctx context.Context, fn func(TreeDevice) error) error {
	var c store.Conds
	table := v.scope.deviceTable(&c)
	v.scope.devices(&c)
	err := each(ctx, v, table, "id, name, online", c, "", func(row pgx.Row) (TreeDevice, error) {
		var d TreeDevice
		err := row.Scan(&d.ID, &d.Name, &d.Online)
		return d, err
	}, fn)
	if err != nil {
		return fmt.Errorf("tree devices: %w", err)
	}
	return nil
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
