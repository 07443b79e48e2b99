package catalogview_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	nvrA = "34020000001110000001"
	nvrB = "34020000001110000002"
	cam1 = "34020000001310000001"
	cam2 = "34020000001310000002"
)

// setup stores two NVRs with the given online states, each with cam1 and cam2,
// whose own states are given per NVR ([cam1, cam2]).
func setup(t *testing.T, onlineA, onlineB bool, camsA, camsB [2]bool) *catalogview.View {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, pgtest.NewDB(t), 4)
	// The sipserver's writes seed the catalog, as in production.
	db := sipdb.New(st)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var changes []store.StatusChange
	for _, d := range []struct {
		id     string
		online bool
		cams   [2]bool
	}{{nvrA, onlineA, camsA}, {nvrB, onlineB, camsB}} {
		if err := db.UpsertDevice(ctx, store.Device{ID: d.id, Name: "nvr " + d.id}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SyncCatalog(ctx, d.id, []store.Channel{{ID: cam1, Name: "cam 1"}, {ID: cam2, Name: "cam 2"}}); err != nil {
			t.Fatal(err)
		}
		changes = append(changes,
			store.StatusChange{DeviceID: d.id, Online: d.online, Cause: "register", At: at},
			store.StatusChange{DeviceID: d.id, ChannelID: cam1, Online: d.cams[0], Cause: "catalog", At: at},
			store.StatusChange{DeviceID: d.id, ChannelID: cam2, Online: d.cams[1], Cause: "catalog", At: at})
	}
	if _, err := db.ApplyStatusChanges(ctx, changes); err != nil {
		t.Fatal(err)
	}
	return catalogview.New(st)
}

// TestEffectiveOnline is the rule of channel_state: a channel is online only
// when it and its device are, in every read (Get, Find, List and its filter).
func TestEffectiveOnline(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name           string
		onlineA        bool
		camsA          [2]bool
		want           [2]bool // effective state of nvrA's cam1, cam2
		wantOnlineList int     // channels of nvrA listed with Online: true
	}{
		{"device and channels online", true, [2]bool{true, true}, [2]bool{true, true}, 2},
		{"device online, one channel off", true, [2]bool{true, false}, [2]bool{true, false}, 1},
		{"device offline hides online channels", false, [2]bool{true, true}, [2]bool{false, false}, 0},
		{"device offline, channels off", false, [2]bool{false, false}, [2]bool{false, false}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v := setup(t, tc.onlineA, false, tc.camsA, [2]bool{true, true})
			for i, id := range []string{cam1, cam2} {
				c, err := v.GetChannel(ctx, nvrA, id)
				if err != nil {
					t.Fatal(err)
				}
				if c.Online != tc.want[i] {
					t.Errorf("GetChannel %s online %v, want %v", id, c.Online, tc.want[i])
				}
			}
			all, total, err := v.ListChannels(ctx, store.ChannelFilter{DeviceID: nvrA})
			if err != nil || total != 2 || len(all) != 2 {
				t.Fatalf("ListChannels: %d of %d, %v", len(all), total, err)
			}
			for i, c := range all {
				if c.Online != tc.want[i] {
					t.Errorf("ListChannels %s online %v, want %v", c.ID, c.Online, tc.want[i])
				}
			}
			on, total, err := v.ListChannels(ctx, store.ChannelFilter{DeviceID: nvrA, Online: &yes})
			if err != nil || total != tc.wantOnlineList || len(on) != tc.wantOnlineList {
				t.Errorf("online filter: %d of %d, want %d (%v)", len(on), total, tc.wantOnlineList, err)
			}
			off, total, err := v.ListChannels(ctx, store.ChannelFilter{DeviceID: nvrA, Online: &no})
			if err != nil || total != 2-tc.wantOnlineList || len(off) != 2-tc.wantOnlineList {
				t.Errorf("offline filter: %d of %d, want %d (%v)", len(off), total, 2-tc.wantOnlineList, err)
			}
			// nvrB (offline, its channels reporting ON) never counts as online.
			b, _, err := v.ListChannels(ctx, store.ChannelFilter{DeviceID: nvrB, Online: &yes})
			if err != nil || len(b) != 0 {
				t.Errorf("channels of the offline nvrB listed online: %v %v", b, err)
			}
		})
	}
}

// TestFindChannelPrefersTheReachableEntry: a camera in two NVRs' catalogs is
// found in the one whose device is online, even when the other's own status
// is online and more recent.
func TestFindChannelPrefersTheReachableEntry(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name             string
		onlineA, onlineB bool
		want             string
		wantOnline       bool
	}{
		{"A reachable", true, false, nvrA, true},
		{"B reachable", false, true, nvrB, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setup(t, tc.onlineA, tc.onlineB, [2]bool{true, true}, [2]bool{true, true})
			c, err := v.FindChannel(ctx, cam1)
			if err != nil {
				t.Fatal(err)
			}
			if c.DeviceID != tc.want || c.Online != tc.wantOnline {
				t.Fatalf("found %s online %v, want %s online %v", c.DeviceID, c.Online, tc.want, tc.wantOnline)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	v := setup(t, true, true, [2]bool{}, [2]bool{})
	for name, err := range map[string]error{
		"GetDevice":   func() error { _, err := v.GetDevice(ctx, "34020000001110009999"); return err }(),
		"GetChannel":  func() error { _, err := v.GetChannel(ctx, nvrA, "34020000001310009999"); return err }(),
		"FindChannel": func() error { _, err := v.FindChannel(ctx, "34020000001310009999"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestListDevices(t *testing.T) {
	ctx := context.Background()
	v := setup(t, true, false, [2]bool{}, [2]bool{})
	yes := true
	for _, tc := range []struct {
		name string
		f    store.DeviceFilter
		want []string
	}{
		{"all", store.DeviceFilter{}, []string{nvrA, nvrB}},
		{"online", store.DeviceFilter{Online: &yes}, []string{nvrA}},
		{"text", store.DeviceFilter{Text: "0002"}, []string{nvrB}},
		{"page", store.DeviceFilter{Limit: 1, Offset: 1}, []string{nvrB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, _, err := v.ListDevices(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	d, err := v.GetDevice(ctx, nvrA)
	if err != nil || !d.Online || d.ChannelCount != 2 {
		t.Fatalf("GetDevice: %+v %v", d, err)
	}
}
