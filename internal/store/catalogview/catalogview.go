// Package catalogview is the read model of the device catalog: devices and
// their channels as every reader (sipserver's API, the console's lists, tree
// and events) must see them, with the state computed below all of them. A
// channel's Online is its effective state, read from the channel_state view
// (migration 00007): online only when its own status and its device are.
// Nothing here writes; the writes belong to the sipserver (store/sipdb).
package catalogview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// View reads devices and channels, in one Scope. It embeds the shared base
// (pool, Listen, Ping, Close), so a service's database type can embed a
// *View and be used for reads and for the base alike.
type View struct {
	*store.Store
	scope Scope
}

// New returns the read model over st, seeing everything (the sipserver's
// view, and the base the console narrows with In).
func New(st *store.Store) *View { return &View{Store: st, scope: Everything()} }

// In returns the read model over the same store seeing only s: every read
// of it, lists, counts and single rows alike, filters by s in SQL. A device
// or channel outside s is store.ErrNotFound, like one that does not exist.
func (v *View) In(s Scope) *View { return &View{Store: v.Store, scope: s} }

// Scope is what v sees.
func (v *View) Scope() Scope { return v.scope }

// one reads the first row of table matching c in order, or store.ErrNotFound.
func one[T any](ctx context.Context, v *View, table, columns string, c store.Conds, order string,
	scan func(pgx.Row) (T, error),
) (T, error) {
	q := "SELECT " + columns + " FROM " + table + c.Clause()
	if order != "" {
		q += " ORDER BY " + order
	}
	item, err := scan(v.Pool.QueryRow(ctx, q+" LIMIT 1", c.Args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return item, store.ErrNotFound
	}
	return item, err
}

const deviceColumns = `id, name, manufacturer, model, firmware, transport, remote_addr, gb_version, charset,
	password, online, registered_at, expires_at, last_keepalive_at, heartbeat_interval, heartbeat_count,
	channel_count, last_catalog_at, stream_transport, source_check, created_at, updated_at`

// deviceTable is the table devices as s sees it, its arguments appended to
// c: for a user, channel_count counts the device's channels in s (what
// the device reports would tell how many are hidden), for Everything it is
// what the device reports. The counts come from one grouped join, so the
// slice is found once per statement, not once per device (a correlated
// count took 1 s for a page of a few hundred devices).
func (s Scope) deviceTable(c *store.Conds) string {
	if s.all {
		return "devices"
	}
	cols := strings.Replace(deviceColumns, "channel_count", "COALESCE(n.channel_count, 0) AS channel_count", 1)
	return "(SELECT " + cols + " FROM devices d LEFT JOIN (SELECT c.device_id, count(*)::int AS channel_count FROM (" +
		channelSet(s.scopes(c), "channels", true) + ") c GROUP BY c.device_id) n ON n.device_id = d.id) devices"
}

func scanDevice(row pgx.Row) (store.Device, error) {
	var d store.Device
	err := row.Scan(&d.ID, &d.Name, &d.Manufacturer, &d.Model, &d.Firmware, &d.Transport, &d.RemoteAddr,
		&d.GBVersion, &d.Charset, &d.Password, &d.Online, &d.RegisteredAt, &d.ExpiresAt, &d.LastKeepaliveAt,
		&d.HeartbeatInterval, &d.HeartbeatCount, &d.ChannelCount, &d.LastCatalogAt, &d.StreamTransport, &d.SourceCheck,
		&d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// channelColumns are the columns of channel_state, whose online is the
// effective state.
const channelColumns = `device_id, id, name, manufacturer, model, owner, civil_code, address, parental, parent_id,
	business_group_id, secrecy, ip_address, port, status, online, longitude, latitude, ptz_type, retention_class,
	extra, stream_transport, created_at, updated_at`

// channelTable is the view channel_state as s sees it, its arguments
// appended to c: for a user, only the channels of the user's slice
// (channelSet: every read of channels is filtered by it, there is no other
// way to them), and longitude and latitude are NULL on a channel the user
// holds no location right on (decided here, in SQL, for every reader).
// The location slice is looked up for the rows a statement returns only,
// not for every row of the slice it counts or sorts.
func (s Scope) channelTable(c *store.Conds) string {
	if s.all {
		return "channel_state"
	}
	slice := channelSet(s.scopes(c), "channel_state", true)
	located := "((device_id, id) IN (SELECT l.device_id, l.id FROM (" +
		channelSet(s.with(RightLocation).scopes(c), "channels", true) + ") l))"
	cols := strings.NewReplacer("longitude", "CASE WHEN "+located+" THEN longitude END AS longitude",
		"latitude", "CASE WHEN "+located+" THEN latitude END AS latitude").Replace(channelColumns)
	return "(SELECT " + cols + " FROM (" + slice + ") cs) channel_state"
}

func scanChannel(row pgx.Row) (store.Channel, error) {
	var c store.Channel
	var extra []byte
	err := row.Scan(&c.DeviceID, &c.ID, &c.Name, &c.Manufacturer, &c.Model, &c.Owner, &c.CivilCode, &c.Address,
		&c.Parental, &c.ParentID, &c.BusinessGroupID, &c.Secrecy, &c.IPAddress, &c.Port, &c.Status, &c.Online,
		&c.Longitude, &c.Latitude, &c.PTZType, &c.RetentionClass, &extra, &c.StreamTransport, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(extra, &c.Extra); err != nil {
		return c, fmt.Errorf("channel %s extra: %w", c.ID, err)
	}
	return c, nil
}

// GetDevice returns one device, or store.ErrNotFound.
func (v *View) GetDevice(ctx context.Context, id string) (store.Device, error) {
	var c store.Conds
	table := v.scope.deviceTable(&c)
	c.Add("id = $?", id)
	v.scope.devices(&c)
	d, err := one(ctx, v, table, deviceColumns, c, "", scanDevice)
	if errors.Is(err, store.ErrNotFound) {
		return store.Device{}, fmt.Errorf("device %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("get device %s: %w", id, err)
	}
	return d, nil
}

// ListDevices returns one page of devices ordered by ID and the total number matching.
func (v *View) ListDevices(ctx context.Context, f store.DeviceFilter) ([]store.Device, int, error) {
	var c store.Conds
	table := v.scope.deviceTable(&c)
	if f.Online != nil {
		c.Add("online = $?", *f.Online)
	}
	if f.Text != "" {
		c.Add("(id ILIKE $? OR name ILIKE $? OR manufacturer ILIKE $? OR model ILIKE $?)", "%"+store.EscapeLike(f.Text)+"%")
	}
	v.scope.devices(&c)
	return store.ListPage(ctx, v.Pool, table, deviceColumns, c, "id", f.Limit, f.Offset, scanDevice)
}

// GetChannel returns one channel of a device with its effective state, or store.ErrNotFound.
func (v *View) GetChannel(ctx context.Context, deviceID, id string) (store.Channel, error) {
	var cond store.Conds
	table := v.scope.channelTable(&cond)
	cond.Add("device_id = $?", deviceID)
	cond.Add("id = $?", id)
	c, err := one(ctx, v, table, channelColumns, cond, "", scanChannel)
	if errors.Is(err, store.ErrNotFound) {
		return store.Channel{}, fmt.Errorf("channel %s/%s: %w", deviceID, id, store.ErrNotFound)
	}
	if err != nil {
		return store.Channel{}, fmt.Errorf("get channel %s/%s: %w", deviceID, id, err)
	}
	return c, nil
}

// FindChannel returns the channel with the given ID, whichever device reports it,
// or store.ErrNotFound. GB28181 IDs are unique nationwide, but a camera moved
// between NVRs can linger in the old one's catalog: the effectively online, most
// recently updated entry wins.
func (v *View) FindChannel(ctx context.Context, id string) (store.Channel, error) {
	var cond store.Conds
	table := v.scope.channelTable(&cond)
	cond.Add("id = $?", id)
	c, err := one(ctx, v, table, channelColumns, cond, "online DESC, updated_at DESC", scanChannel)
	if errors.Is(err, store.ErrNotFound) {
		return store.Channel{}, fmt.Errorf("channel %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Channel{}, fmt.Errorf("find channel %s: %w", id, err)
	}
	return c, nil
}

// MaxPTZPriority is the PTZ priority of a scope that sees everything (an
// admin; a camera's owners have it too).
const MaxPTZPriority = 9

// PTZPriority is the highest PTZ priority the scope's grants in force give
// on ch with the ptz right, 0 when none does.
func (v *View) PTZPriority(ctx context.Context, ch store.Channel) (int, error) {
	if v.scope.all {
		return MaxPTZPriority, nil
	}
	var c store.Conds
	call := v.scope.with(RightPTZ).scopes(&c)
	p := len(c.Args)
	c.Args = append(c.Args, ch.DeviceID, ch.ID, ch.CivilCode)
	var prio int
	err := v.Store.Pool.QueryRow(ctx, `SELECT COALESCE(max(g.ptz_priority), 0) FROM `+call+` g WHERE `+
		Covers("g", fmt.Sprintf("$%d", p+1), fmt.Sprintf("$%d", p+2), fmt.Sprintf("$%d", p+3)), c.Args...).Scan(&prio)
	if err != nil {
		return 0, fmt.Errorf("PTZ priority on %s: %w", ch.ID, err)
	}
	return prio, nil
}

// ListChannels returns one page of channels ordered by device and ID, and the
// total number matching. The Online filter selects by the effective state.
func (v *View) ListChannels(ctx context.Context, f store.ChannelFilter) ([]store.Channel, int, error) {
	var c store.Conds
	table := v.scope.channelTable(&c)
	c.Eq("device_id", f.DeviceID)
	c.Eq("civil_code", f.CivilCode)
	c.Eq("parent_id", f.ParentID)
	if f.Online != nil {
		c.Add("online = $?", *f.Online)
	}
	if f.Text != "" {
		c.Add("(id ILIKE $? OR name ILIKE $? OR address ILIKE $?)", "%"+store.EscapeLike(f.Text)+"%")
	}
	return store.ListPage(ctx, v.Pool, table, channelColumns, c, "device_id, id", f.Limit, f.Offset, scanChannel)
}
