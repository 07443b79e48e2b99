package catalogview

import (
	"context"
	"fmt"

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
	// ParentID is the catalog's parent of the entry (a lower platform's
	// or an NVR's organisation), "" or the device's ID at the top.
	ParentID string
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
//
// The strings of the channels share memory: a device's ID and a civil code
// are one string for all their channels, and a channel's ID and name one
// allocation (four strings per row kept the collector busy for a third of
// a large tree's time). fn may keep them.
func (v *View) EachTreeChannel(ctx context.Context, fn func(TreeChannel) error) error {
	var c store.Conds
	table := v.scope.channelTable(&c)
	q := "SELECT device_id, id, name, civil_code, online, ptz_type, parent_id FROM " + table + c.Clause()
	rows, err := v.Pool.Query(ctx, q, c.Args...)
	if err != nil {
		return fmt.Errorf("tree channels: %w", err)
	}
	defer rows.Close()
	shared := map[string]string{}
	intern := func(b []byte) string {
		s, ok := shared[string(b)]
		if !ok {
			s = string(b)
			shared[s] = s
		}
		return s
	}
	for rows.Next() {
		var t TreeChannel
		// The text columns are read raw (their bytes are the same in
		// either wire format), the others scanned; nil skips a column.
		if err := rows.Scan(nil, nil, nil, nil, &t.Online, &t.PTZType, nil); err != nil {
			return fmt.Errorf("tree channels: %w", err)
		}
		raw := rows.RawValues()
		t.DeviceID, t.CivilCode, t.ParentID = intern(raw[0]), intern(raw[3]), intern(raw[6])
		idName := string(raw[1]) + string(raw[2])
		t.ID, t.Name = idName[:len(raw[1])], idName[len(raw[1]):]
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
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

// EachTree calls channel with every channel v sees, as EachTreeChannel
// does, and then device with every device v sees, in no particular order;
// it stops at the first error. The devices are those granted whole and
// those of the channels just read, found by their IDs: a second statement
// finding the slice again to learn its devices cost a 30,000-channel tree
// another 12 ms (docs/benchmarks.md).
func (v *View) EachTree(ctx context.Context, channel func(TreeChannel) error, device func(TreeDevice) error) error {
	seen := map[string]struct{}{}
	if err := v.EachTreeChannel(ctx, func(c TreeChannel) error {
		seen[c.DeviceID] = struct{}{}
		return channel(c)
	}); err != nil {
		return err
	}
	var c store.Conds
	if !v.scope.all {
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		scopes := v.scope.scopes(&c)
		c.Args = append(c.Args, ids)
		// IN (SELECT unnest(…)) is a hashed subplan; = ANY (…) under the
		// OR compared every device with every ID (11 ms for 600 IDs).
		c.Where = append(c.Where, fmt.Sprintf(`(id IN (SELECT unnest($%d::text[]))`+
			` OR id IN (SELECT g.device_id FROM %s g WHERE g.scope_kind = 'device'))`, len(c.Args), scopes))
	}
	err := each(ctx, v, "devices", "id, name, online", c, "", func(row pgx.Row) (TreeDevice, error) {
		var d TreeDevice
		err := row.Scan(&d.ID, &d.Name, &d.Online)
		return d, err
	}, device)
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
	q := "SELECT " + columns + " FROM " + table + c.Clause()
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
