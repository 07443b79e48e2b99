package recorder

import (
	"net"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestRetentionDays(t *testing.T) {
	h := func(n int) config.Duration { return config.Duration(time.Duration(n) * time.Hour) }
	for _, tc := range []struct {
		standard, key config.Duration
		days          int
		shift         time.Duration
	}{
		{h(30 * 24), h(90 * 24), 30, 0},
		{h(2), h(2), 1, 22 * time.Hour}, // make run's demo
		{h(36), h(36), 2, 0},            // over a day: rounded up, no shift
		{h(2), h(90 * 24), 1, 0},        // classes apart: no shift
	} {
		if got := days(tc.standard); got != tc.days {
			t.Errorf("days(%s) = %d, want %d", tc.standard, got, tc.days)
		}
		if got := demoShift(tc.standard, tc.key); got != tc.shift {
			t.Errorf("demoShift(%s, %s) = %v, want %v", tc.standard, tc.key, got, tc.shift)
		}
	}
}

func TestAdvertised(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8082":   "rec-1:8082",
		"[::]:8082":      "rec-1:8082",
		"10.0.0.7:8082":  "10.0.0.7:8082",
		"127.0.0.1:8082": "127.0.0.1:8082",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertised(a, "rec-1"); got != want {
			t.Errorf("advertised(%s) = %s, want %s", addr, got, want)
		}
	}
}
