package sipdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestUpdateRegistrations(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	a, b := deviceID(1), deviceID(2)
	// a exists with a name and is online: registrations must keep both.
	if err := s.UpsertDevice(ctx, store.Device{ID: a, Name: "gate"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: a, Online: true, Cause: "register", At: t0}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		regs    []store.Registration
		wantErr error
		want    map[string]store.Device // fields checked: Name, Online, Transport, RemoteAddr, GBVersion, times
	}{
		{"empty", nil, nil, nil},
		{
			"new and existing",
			[]store.Registration{
				{DeviceID: a, Transport: "TCP", RemoteAddr: "10.0.0.1:5060", GBVersion: "2.0", RegisteredAt: t0, ExpiresAt: t0.Add(time.Hour)},
				{DeviceID: b, RemoteAddr: "10.0.0.2:5060", RegisteredAt: t0, ExpiresAt: t0.Add(time.Hour)},
			},
			nil,
			map[string]store.Device{
				a: {
					Name: "gate", Online: true, Transport: "tcp", RemoteAddr: "10.0.0.1:5060", GBVersion: "2.0",
					RegisteredAt: &t0, ExpiresAt: new(t0.Add(time.Hour)),
				},
				b: {Transport: "udp", RemoteAddr: "10.0.0.2:5060", RegisteredAt: &t0, ExpiresAt: new(t0.Add(time.Hour))},
			},
		},
		{
			"duplicates: last wins",
			[]store.Registration{
				{DeviceID: b, Transport: "tcp", RemoteAddr: "10.0.0.2:5061", GBVersion: "3.0", RegisteredAt: t0},
				{DeviceID: a, Transport: "udp", RemoteAddr: "10.0.0.1:1", RegisteredAt: t0},
				{DeviceID: b, Transport: "udp", RemoteAddr: "10.0.0.2:5062", GBVersion: "2.0", RegisteredAt: t0.Add(time.Minute)},
			},
			nil,
			map[string]store.Device{
				a: {Name: "gate", Online: true, Transport: "udp", RemoteAddr: "10.0.0.1:1", RegisteredAt: &t0},
				b: {Transport: "udp", RemoteAddr: "10.0.0.2:5062", GBVersion: "2.0", RegisteredAt: new(t0.Add(time.Minute))},
			},
		},
		{"empty id", []store.Registration{{DeviceID: a}, {}}, store.ErrInvalid, nil},
		{"bad transport", []store.Registration{{DeviceID: a, Transport: "sctp"}}, store.ErrInvalid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UpdateRegistrations(ctx, tc.regs)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for id, want := range tc.want {
				got, err := s.GetDevice(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got.Name != want.Name || got.Online != want.Online || got.Transport != want.Transport ||
					got.RemoteAddr != want.RemoteAddr || got.GBVersion != want.GBVersion ||
					!sameTime(got.RegisteredAt, want.RegisteredAt) || !sameTime(got.ExpiresAt, want.ExpiresAt) {
					t.Fatalf("%s = %+v, want %+v", id, got, want)
				}
			}
		})
	}
}

func TestTouchKeepalives(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedDevices(t, s, 2)
	a, b := deviceID(1), deviceID(2)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		touches []store.KeepaliveTouch
		wantErr error
		want    map[string]store.Device // LastKeepaliveAt and RemoteAddr checked
	}{
		{"empty", nil, nil, nil},
		{
			"known, unknown, duplicate",
			[]store.KeepaliveTouch{
				{DeviceID: a, At: t0, RemoteAddr: "192.168.1.1:5060"},
				{DeviceID: "unknown", At: t0},
				{DeviceID: b, At: t0, RemoteAddr: "192.168.1.2:5060"},
				{DeviceID: a, At: t0.Add(time.Minute), RemoteAddr: "192.168.1.1:6000"},
			},
			nil,
			map[string]store.Device{
				a: {LastKeepaliveAt: new(t0.Add(time.Minute)), RemoteAddr: "192.168.1.1:6000"},
				b: {LastKeepaliveAt: &t0, RemoteAddr: "192.168.1.2:5060"},
			},
		},
		{
			"no address keeps the old one",
			[]store.KeepaliveTouch{{DeviceID: b, At: t0.Add(time.Hour)}},
			nil,
			map[string]store.Device{b: {LastKeepaliveAt: new(t0.Add(time.Hour)), RemoteAddr: "192.168.1.2:5060"}},
		},
		{"zero time", []store.KeepaliveTouch{{DeviceID: a}}, store.ErrInvalid, nil},
		{"empty id", []store.KeepaliveTouch{{At: t0}}, store.ErrInvalid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.TouchKeepalives(ctx, tc.touches); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for id, want := range tc.want {
				got, err := s.GetDevice(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if !sameTime(got.LastKeepaliveAt, want.LastKeepaliveAt) || got.RemoteAddr != want.RemoteAddr {
					t.Fatalf("%s = %+v, want %+v", id, got, want)
				}
			}
		})
	}
	if _, err := s.GetDevice(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("keepalive created a device: %v", err)
	}
}

func TestLoadDeviceStates(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if states, err := s.LoadDeviceStates(ctx); err != nil || len(states) != 0 {
		t.Fatalf("empty database: %+v, %v", states, err)
	}
	// What the sipserver wrote before a restart must come back after it.
	const n = 2000
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	want := make(map[string]store.DeviceState, n)
	var regs []store.Registration
	var touches []store.KeepaliveTouch
	var changes []store.StatusChange
	for i := 1; i <= n; i++ {
		id := deviceID(i)
		st := store.DeviceState{
			ID: id, Online: i%3 != 0, Transport: "udp", RemoteAddr: "10.0.0.1:5060", GBVersion: "2.0",
			Charset: "GB2312", ExpiresAt: new(t0.Add(time.Hour)), HeartbeatInterval: 60, HeartbeatCount: 3,
		}
		if i%2 == 0 {
			st.Transport, st.GBVersion = "tcp", "3.0"
		}
		regs = append(regs, store.Registration{
			DeviceID: id, Transport: st.Transport, RemoteAddr: st.RemoteAddr, GBVersion: st.GBVersion,
			RegisteredAt: t0, ExpiresAt: *st.ExpiresAt,
		})
		if st.Online {
			changes = append(changes, store.StatusChange{DeviceID: id, Online: true, Cause: "register", At: t0})
			st.LastKeepaliveAt = new(t0.Add(time.Duration(i) * time.Second))
			touches = append(touches, store.KeepaliveTouch{DeviceID: id, At: *st.LastKeepaliveAt})
		}
		want[id] = st
	}
	if err := s.UpdateRegistrations(ctx, regs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyStatusChanges(ctx, changes); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchKeepalives(ctx, touches); err != nil {
		t.Fatal(err)
	}
	pw := "secret"
	special := deviceID(7)
	if err := s.UpsertDevice(ctx, store.Device{
		ID: special, Transport: "udp", RemoteAddr: "10.0.0.1:5060", GBVersion: "2.0", Charset: "UTF-8", Password: &pw,
		ExpiresAt: new(t0.Add(time.Hour)), LastKeepaliveAt: new(t0.Add(7 * time.Second)),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHeartbeat(ctx, special, 30, 5); err != nil {
		t.Fatal(err)
	}
	st := want[special]
	st.Password, st.Charset, st.HeartbeatInterval, st.HeartbeatCount = &pw, "UTF-8", 30, 5
	want[special] = st

	states, err := s.LoadDeviceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != n {
		t.Fatalf("%d states, want %d", len(states), n)
	}
	for _, got := range states {
		w := want[got.ID]
		if got.ID != w.ID || got.Online != w.Online || !sameString(got.Password, w.Password) ||
			got.Transport != w.Transport || got.RemoteAddr != w.RemoteAddr || got.GBVersion != w.GBVersion ||
			got.Charset != w.Charset || !sameTime(got.ExpiresAt, w.ExpiresAt) ||
			!sameTime(got.LastKeepaliveAt, w.LastKeepaliveAt) || got.HeartbeatInterval != w.HeartbeatInterval ||
			got.HeartbeatCount != w.HeartbeatCount {
			t.Fatalf("state %+v, want %+v", got, w)
		}
	}
}

func TestDeviceSetters(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedDevices(t, s, 1)
	dev := deviceID(1)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		set     func(id string) error
		check   func(d store.Device) bool
		wantErr error
	}{
		{
			"device info",
			func(id string) error { return s.UpdateDeviceInfo(ctx, id, "大门", "Hikvision", "DS-2CD", "V5.5") },
			func(d store.Device) bool {
				return d.Name == "大门" && d.Manufacturer == "Hikvision" && d.Model == "DS-2CD" && d.Firmware == "V5.5"
			},
			nil,
		},
		{
			"heartbeat",
			func(id string) error { return s.SetHeartbeat(ctx, id, 30, 4) },
			func(d store.Device) bool { return d.HeartbeatInterval == 30 && d.HeartbeatCount == 4 },
			nil,
		},
		{"heartbeat interval 0", func(id string) error { return s.SetHeartbeat(ctx, id, 0, 3) }, nil, store.ErrInvalid},
		{"heartbeat count 0", func(id string) error { return s.SetHeartbeat(ctx, id, 60, 0) }, nil, store.ErrInvalid},
		{
			"last catalog",
			func(id string) error { return s.SetLastCatalog(ctx, id, t0) },
			func(d store.Device) bool { return sameTime(d.LastCatalogAt, &t0) },
			nil,
		},
		{"last catalog zero", func(id string) error { return s.SetLastCatalog(ctx, id, time.Time{}) }, nil, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.set(dev); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.check != nil {
				if d, err := s.GetDevice(ctx, dev); err != nil || !tc.check(d) {
					t.Fatalf("device %+v, %v", d, err)
				}
				if err := tc.set("unknown"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("unknown device: err = %v", err)
				}
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func sameString(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
