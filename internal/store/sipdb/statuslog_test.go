package sipdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestApplyStatusChangesBatch(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const n = 5000
	seedDevices(t, s, n)
	l := listen(t, s, store.ChannelStatus)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	all := func(online bool, cause string) []store.StatusChange {
		changes := make([]store.StatusChange, n)
		for i := range changes {
			changes[i] = store.StatusChange{DeviceID: deviceID(i + 1), Online: online, Cause: cause, At: t0.Add(time.Duration(i) * time.Millisecond)}
		}
		return changes
	}
	flap := []store.StatusChange{
		{DeviceID: deviceID(1), Online: false, Cause: "unregister", At: t0.Add(time.Hour)},
		{DeviceID: deviceID(1), Online: false, Cause: "keepalive_timeout", At: t0.Add(time.Hour)},
		{DeviceID: deviceID(1), Online: true, Cause: "register", At: t0.Add(time.Hour + time.Second)},
	}
	logged := 0
	for _, tc := range []struct {
		name    string
		changes []store.StatusChange
		applied []int // indexes into changes
	}{
		{"all online", all(true, "register"), seq(n)},
		{"again: no transitions", all(true, "keepalive"), nil},
		{"offline and online again in one batch", flap, []int{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied, err := s.ApplyStatusChanges(ctx, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != len(tc.applied) {
				t.Fatalf("%d applied, want %d", len(applied), len(tc.applied))
			}
			for i, j := range tc.applied {
				if applied[i] != tc.changes[j] {
					t.Fatalf("applied[%d] = %+v, want %+v", i, applied[i], tc.changes[j])
				}
				want := store.StatusEvent(tc.changes[j])
				if got := l.nextStatus(t); got != want {
					t.Fatalf("event %d = %+v, want %+v", i, got, want)
				}
			}
			logged += len(tc.applied)
			var rows int
			if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM device_status_log`).Scan(&rows); err != nil || rows != logged {
				t.Fatalf("%d log rows (%v), want %d", rows, err, logged)
			}
		})
	}
	log, err := s.StatusLog(ctx, deviceID(1), t0.Add(time.Hour), t0.Add(2*time.Hour))
	if err != nil || len(log) != 2 || log[0].Cause != "unregister" || log[1].Cause != "register" {
		t.Fatalf("log %+v, %v", log, err)
	}
	if d, _ := s.GetDevice(ctx, deviceID(1)); !d.Online {
		t.Fatal("device 1 should be online")
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
