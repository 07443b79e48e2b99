package sipdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB) *sipdb.DB {
	t.Helper()
	return sipdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
}

// deviceID is the ID of the i-th test device.
func deviceID(i int) string { return fmt.Sprintf("3402000000132%07d", i) }

// seedDevices creates devices deviceID(1) … deviceID(n), registered and offline,
// in one statement, the way a large installation looks after a restart.
func seedDevices(t testing.TB, s *sipdb.DB, n int) {
	t.Helper()
	if _, err := s.Pool.Exec(context.Background(), `
INSERT INTO devices (id, transport, remote_addr, gb_version, registered_at, expires_at, last_keepalive_at)
SELECT '3402000000132' || lpad(g::text, 7, '0'), 'udp', '10.1.' || (g / 250) || '.' || (g % 250) || ':5060',
	'2.0', now(), now() + interval '1 hour', now()
FROM generate_series(1, $1) AS g`, n); err != nil {
		t.Fatal(err)
	}
}

func TestDevices(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	pw := "secret"
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := store.Device{
		ID: "34020000001320000001", Name: "大门口", Manufacturer: "Hikvision", Model: "DS-2CD",
		Transport: "tcp", RemoteAddr: "10.0.0.5:5060", GBVersion: "2.0", Password: &pw, RegisteredAt: &now,
	}
	if err := s.UpsertDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertDevice(ctx, store.Device{ID: "34020000001180000002", Name: "NVR 2", Model: "DS-7608"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDevice(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "大门口" || got.Transport != "tcp" || *got.Password != "secret" || got.Charset != "GB2312" ||
		got.HeartbeatInterval != 60 || !got.RegisteredAt.Equal(now) || got.Online {
		t.Fatalf("got %+v", got)
	}
	d.Name = "大门口 east"
	if err := s.UpsertDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDevice(ctx, d.ID); got.Name != "大门口 east" {
		t.Fatalf("update lost: %q", got.Name)
	}
	if _, err := s.GetDevice(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if err := s.UpsertDevice(ctx, store.Device{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}

	yes, no := true, false
	for _, tc := range []struct {
		name  string
		f     store.DeviceFilter
		total int
		first string
	}{
		{"all", store.DeviceFilter{}, 2, "34020000001180000002"},
		{"text name", store.DeviceFilter{Text: "east"}, 1, d.ID},
		{"text model case", store.DeviceFilter{Text: "ds-76"}, 1, "34020000001180000002"},
		{"like chars are literal", store.DeviceFilter{Text: "%"}, 0, ""},
		{"offline", store.DeviceFilter{Online: &no}, 2, "34020000001180000002"},
		{"online", store.DeviceFilter{Online: &yes}, 0, ""},
		{"page", store.DeviceFilter{Limit: 1, Offset: 1}, 2, d.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, total, err := s.ListDevices(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if total != tc.total {
				t.Fatalf("total = %d, want %d", total, tc.total)
			}
			if tc.first != "" && (len(items) == 0 || items[0].ID != tc.first) {
				t.Fatalf("items = %+v", items)
			}
		})
	}
	if err := s.DeleteDevice(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestSyncCatalog(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const dev = "34020000001180000001"
	if err := s.UpsertDevice(ctx, store.Device{ID: dev}); err != nil {
		t.Fatal(err)
	}
	lon, lat := 117.28, 31.86
	cam := func(id, name string) store.Channel {
		return store.Channel{
			ID: id, Name: name, CivilCode: "340200", ParentID: dev, Status: "ON", Online: true,
			Longitude: &lon, Latitude: &lat, PTZType: 1, Extra: map[string]string{"Block": "A"},
		}
	}
	first := []store.Channel{cam("34020000001310000001", "一楼大厅"), cam("34020000001310000002", "二楼"), cam("34020000001310000003", "车库")}
	res, err := s.SyncCatalog(ctx, dev, first)
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.CatalogSyncResult{Added: 3}) {
		t.Fatalf("first sync %+v", res)
	}
	// Same catalog again: nothing written.
	if res, err = s.SyncCatalog(ctx, dev, first); err != nil || res != (store.CatalogSyncResult{Unchanged: 3}) {
		t.Fatalf("resync %+v %v", res, err)
	}
	second := []store.Channel{first[0], cam("34020000001310000002", "二楼 west"), cam("34020000001310000004", "新")}
	if res, err = s.SyncCatalog(ctx, dev, second); err != nil || res != (store.CatalogSyncResult{Added: 1, Updated: 1, Removed: 1, Unchanged: 1}) {
		t.Fatalf("second sync %+v %v", res, err)
	}
	d, _ := s.GetDevice(ctx, dev)
	if d.ChannelCount != 3 {
		t.Fatalf("channel_count = %d", d.ChannelCount)
	}
	c, err := s.GetChannel(ctx, dev, "34020000001310000002")
	if err != nil || c.Name != "二楼 west" || *c.Longitude != lon || c.Extra["Block"] != "A" || c.RetentionClass != "standard" {
		t.Fatalf("channel %+v %v", c, err)
	}
	if _, err := s.GetChannel(ctx, dev, "34020000001310000003"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed channel still there: %v", err)
	}
	if c, err := s.FindChannel(ctx, "34020000001310000002"); err != nil || c.DeviceID != dev {
		t.Fatalf("find channel %+v %v", c, err)
	}
	if _, err := s.FindChannel(ctx, "34020000001310000003"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("find removed channel: %v", err)
	}
	if err := s.SetChannelStreamTransport(ctx, dev, "34020000001310000002", "tcp-active"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeviceStreamTransport(ctx, dev, "tcp-passive"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetChannel(ctx, dev, "34020000001310000002"); c.StreamTransport != "tcp-active" {
		t.Fatalf("channel stream transport %q", c.StreamTransport)
	}
	if d, _ := s.GetDevice(ctx, dev); d.StreamTransport != "tcp-passive" {
		t.Fatalf("device stream transport %q", d.StreamTransport)
	}
	if err := s.SetDeviceStreamTransport(ctx, dev, "sctp"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad transport: %v", err)
	}
	if err := s.SetChannelStreamTransport(ctx, dev, "34020000001310000009", "udp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	// A catalog re-sync keeps the operator's setting.
	if _, err := s.SyncCatalog(ctx, dev, second); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetChannel(ctx, dev, "34020000001310000002"); c.StreamTransport != "tcp-active" {
		t.Fatalf("stream transport after resync %q", c.StreamTransport)
	}

	added, updated, err := s.UpsertChannels(ctx, dev, []store.Channel{cam("34020000001310000005", "五"), cam("34020000001310000004", "新 renamed")})
	if err != nil || added != 1 || updated != 1 {
		t.Fatalf("upsert %d %d %v", added, updated, err)
	}
	if n, err := s.DeleteChannels(ctx, dev, []string{"34020000001310000005", "nope"}); err != nil || n != 1 {
		t.Fatalf("delete %d %v", n, err)
	}
	if _, _, err := s.UpsertChannels(ctx, dev, []store.Channel{{}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}

	items, total, err := s.ListChannels(ctx, store.ChannelFilter{DeviceID: dev, Text: "west"})
	if err != nil || total != 1 || items[0].ID != "34020000001310000002" {
		t.Fatalf("list %+v %d %v", items, total, err)
	}
	// Upserts leave online alone: it changes only through logged transitions.
	yes := true
	if _, total, err = s.ListChannels(ctx, store.ChannelFilter{CivilCode: "340200", ParentID: dev, Online: &yes}); err != nil || total != 0 {
		t.Fatalf("online list %d %v", total, err)
	}
	// Channels go with their device.
	if err := s.DeleteDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if _, total, _ = s.ListChannels(ctx, store.ChannelFilter{DeviceID: dev}); total != 0 {
		t.Fatalf("channels left after device delete: %d", total)
	}
}

func TestApplyStatusChanges(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const dev = "34020000001320000001"
	if err := s.UpsertDevice(ctx, store.Device{ID: dev}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SyncCatalog(ctx, dev, []store.Channel{{ID: "34020000001310000001"}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	applied, err := s.ApplyStatusChanges(ctx, []store.StatusChange{
		{DeviceID: dev, Online: true, Cause: "register", At: t0},
		{DeviceID: dev, Online: true, Cause: "keepalive", At: t0.Add(time.Minute)}, // no transition: not logged
		{DeviceID: dev, ChannelID: "34020000001310000001", Online: true, Cause: "catalog", At: t0.Add(2 * time.Second)},
		{DeviceID: dev, Online: false, Cause: "keepalive_timeout", At: t0.Add(5 * time.Minute)},
		{DeviceID: "unknown", Online: true, Cause: "register", At: t0}, // no such device: nothing to log
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 3 {
		t.Fatalf("applied %+v", applied)
	}
	log, err := s.StatusLog(ctx, dev, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"register", "catalog", "keepalive_timeout"}
	if len(log) != len(want) {
		t.Fatalf("log %+v", log)
	}
	for i, c := range log {
		if c.Cause != want[i] || !c.At.Equal(applied[i].At) {
			t.Fatalf("log[%d] = %+v", i, c)
		}
	}
	d, _ := s.GetDevice(ctx, dev)
	if d.Online {
		t.Fatal("device should be offline")
	}
	if _, err := s.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: dev, Online: true}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	// The failed batch must not have changed anything.
	if d, _ := s.GetDevice(ctx, dev); d.Online {
		t.Fatal("failed batch was partly applied")
	}
}
