package catalogview

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// AllChannels returns every channel v sees, of device deviceID ("" any),
// ordered by device and ID, in one statement. The tree and the status
// events read whole slices: pages of ListChannels would find the slice
// again for every page and count it each time (3 s instead of tens of
// milliseconds for 30,000 channels, docs/benchmarks.md).
func (v *View) AllChannels(ctx context.Context, deviceID string) ([]store.Channel, error) {
	var c store.Conds
	table := v.scope.channelTable(&c)
	c.Eq("device_id", deviceID)
	chs, err := all(ctx, v, table, channelColumns, c, "device_id, id", scanChannel)
	if err != nil {
		return nil, fmt.Errorf("all channels: %w", err)
	}
	return chs, nil
}

// AllDevices returns every device v sees, ordered by ID, in one statement.
func (v *View) AllDevices(ctx context.Context) ([]store.Device, error) {
	var c store.Conds
	table := v.scope.deviceTable(&c)
	v.scope.devices(&c)
	devs, err := all(ctx, v, table, deviceColumns, c, "id", scanDevice)
	if err != nil {
		return nil, fmt.Errorf("all devices: %w", err)
	}
	return devs, nil
}

// all reads every row of table matching c in order.
func all[T any](ctx context.Context, v *View, table, columns string, c store.Conds, order string,
	scan func(pgx.Row) (T, error),
) ([]T, error) {
	q := "SELECT " + columns + " FROM " + table
	if len(c.Where) > 0 {
		q += " WHERE " + strings.Join(c.Where, " AND ")
	}
	rows, err := v.Pool.Query(ctx, q+" ORDER BY "+order, c.Args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}
