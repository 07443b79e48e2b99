package sipdb_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestAlarms(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	a, b := deviceID(1), deviceID(2)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	recv := t0.Add(time.Second)
	alarms := []store.Alarm{
		{
			DeviceID: a, ChannelID: "34020000001340000001", Priority: 1, Method: "2", Type: "1", Description: "门磁",
			At: t0, ReceivedAt: recv, Extra: map[string]string{"EventType": "1"},
		},
		{
			DeviceID: a, ChannelID: "34020000001310000001", Priority: 3, Method: "5", Type: "2",
			Longitude: new(117.28), Latitude: new(31.86), At: t0.Add(time.Minute),
		},
		{DeviceID: b, Method: "6", At: t0.Add(2 * time.Minute)},
	}
	if err := s.InsertAlarms(ctx, alarms); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAlarms(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.Alarm{{At: t0}, {DeviceID: a}, {DeviceID: a, At: t0, Priority: 5}, {DeviceID: a, At: t0, Priority: -1}} {
		if err := s.InsertAlarms(ctx, []store.Alarm{alarms[0], bad}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%+v: err = %v", bad, err)
		}
	}

	all, total, err := s.ListAlarms(ctx, store.AlarmFilter{})
	if err != nil || total != 3 || len(all) != 3 {
		t.Fatalf("list %+v %d %v", all, total, err)
	}
	// Newest first.
	first, last := all[2], all[0]
	if first.ID == 0 || first.DeviceID != a || first.ChannelID != alarms[0].ChannelID || first.Priority != 1 ||
		first.Method != "2" || first.Type != "1" || first.Description != "门磁" || first.Longitude != nil ||
		!first.At.Equal(t0) || !first.ReceivedAt.Equal(recv) || !maps.Equal(first.Extra, alarms[0].Extra) {
		t.Fatalf("first alarm %+v", first)
	}
	if all[1].Longitude == nil || *all[1].Longitude != 117.28 || *all[1].Latitude != 31.86 {
		t.Fatalf("position lost: %+v", all[1])
	}
	if last.DeviceID != b || last.ReceivedAt.IsZero() || last.Extra == nil || len(last.Extra) != 0 {
		t.Fatalf("defaults: %+v", last)
	}

	for _, tc := range []struct {
		name  string
		f     store.AlarmFilter
		total int
		types []string // of the page, in order
	}{
		{"device", store.AlarmFilter{DeviceID: a}, 2, []string{"2", "1"}},
		{"channel", store.AlarmFilter{ChannelID: "34020000001340000001"}, 1, []string{"1"}},
		{"device and channel", store.AlarmFilter{DeviceID: b, ChannelID: "34020000001340000001"}, 0, nil},
		{"from", store.AlarmFilter{From: t0.Add(time.Minute)}, 2, []string{"", "2"}},
		{"to excludes", store.AlarmFilter{To: t0.Add(time.Minute)}, 1, []string{"1"}},
		{"range", store.AlarmFilter{From: t0, To: t0.Add(2 * time.Minute)}, 2, []string{"2", "1"}},
		{"page", store.AlarmFilter{Limit: 1, Offset: 1}, 3, []string{"2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, total, err := s.ListAlarms(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, it := range items {
				types = append(types, it.Type)
			}
			if total != tc.total || !slices.Equal(types, tc.types) {
				t.Fatalf("total %d, types %q; want %d, %q", total, types, tc.total, tc.types)
			}
		})
	}
}

func TestMobilePositions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	a, b := deviceID(1), deviceID(2)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	positions := []store.MobilePosition{
		{
			DeviceID: a, TargetID: a, At: t0, Longitude: 117.1, Latitude: 31.1, Speed: new(42.5), Direction: new(90.0),
			Altitude: new(12.0), ReceivedAt: t0.Add(time.Second),
		},
		{DeviceID: a, TargetID: a, At: t0.Add(time.Minute), Longitude: 117.2, Latitude: 31.2},
		{DeviceID: b, At: t0.Add(2 * time.Minute), Longitude: 117.3, Latitude: 31.3},
	}
	if err := s.InsertMobilePositions(ctx, positions); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertMobilePositions(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.MobilePosition{{At: t0}, {DeviceID: a}} {
		if err := s.InsertMobilePositions(ctx, []store.MobilePosition{bad}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%+v: err = %v", bad, err)
		}
	}
	items, total, err := s.ListMobilePositions(ctx, store.MobilePositionFilter{DeviceID: a})
	if err != nil || total != 2 || len(items) != 2 {
		t.Fatalf("list %+v %d %v", items, total, err)
	}
	got, want := items[1], positions[0]
	if got.ID == 0 || got.TargetID != a || !got.At.Equal(t0) || got.Longitude != 117.1 || got.Latitude != 31.1 ||
		*got.Speed != 42.5 || *got.Direction != 90 || *got.Altitude != 12 || !got.ReceivedAt.Equal(want.ReceivedAt) {
		t.Fatalf("got %+v", got)
	}
	if items[0].Speed != nil || items[0].ReceivedAt.IsZero() {
		t.Fatalf("defaults: %+v", items[0])
	}
	for _, tc := range []struct {
		name  string
		f     store.MobilePositionFilter
		total int
		lons  []float64
	}{
		{"all", store.MobilePositionFilter{}, 3, []float64{117.3, 117.2, 117.1}},
		{"device", store.MobilePositionFilter{DeviceID: b}, 1, []float64{117.3}},
		{"range", store.MobilePositionFilter{From: t0.Add(time.Second), To: t0.Add(2 * time.Minute)}, 1, []float64{117.2}},
		{"page", store.MobilePositionFilter{Limit: 2, Offset: 1}, 3, []float64{117.2, 117.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, total, err := s.ListMobilePositions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var lons []float64
			for _, it := range items {
				lons = append(lons, it.Longitude)
			}
			if total != tc.total || !slices.Equal(lons, tc.lons) {
				t.Fatalf("total %d, longitudes %v; want %d, %v", total, lons, tc.total, tc.lons)
			}
		})
	}
}
