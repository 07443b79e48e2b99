package sipdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// BenchmarkApplyStatusChanges writes batches of 1,000 real transitions.
func BenchmarkApplyStatusChanges(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const n = 1000
	seedDevices(b, s, n)
	changes := make([]store.StatusChange, n)
	b.ReportAllocs()
	online := false
	for b.Loop() {
		online = !online
		at := time.Now()
		for i := range changes {
			changes[i] = store.StatusChange{DeviceID: deviceID(i + 1), Online: online, Cause: "register", At: at}
		}
		applied, err := s.ApplyStatusChanges(ctx, changes)
		if err != nil || len(applied) != n {
			b.Fatalf("%d applied, %v", len(applied), err)
		}
	}
}

// BenchmarkUpdateRegistrations writes batches of 1,000 re-registrations of known devices.
func BenchmarkUpdateRegistrations(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const n = 1000
	seedDevices(b, s, n)
	regs := make([]store.Registration, n)
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		for i := range regs {
			regs[i] = store.Registration{
				DeviceID: deviceID(i + 1), Transport: "udp", RemoteAddr: "10.0.0.1:5060", GBVersion: "2.0",
				RegisteredAt: now, ExpiresAt: now.Add(time.Hour),
			}
		}
		if err := s.UpdateRegistrations(ctx, regs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTouchKeepalives writes batches of 10,000 keepalives.
func BenchmarkTouchKeepalives(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const n = 10000
	seedDevices(b, s, n)
	touches := make([]store.KeepaliveTouch, n)
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		for i := range touches {
			touches[i] = store.KeepaliveTouch{DeviceID: deviceID(i + 1), At: now}
		}
		if err := s.TouchKeepalives(ctx, touches); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadDeviceStates restores 100,000 devices, the sipserver's start.
func BenchmarkLoadDeviceStates(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const n = 100000
	seedDevices(b, s, n)
	if _, err := s.Pool.Exec(ctx, `VACUUM ANALYZE devices`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		states, err := s.LoadDeviceStates(ctx)
		if err != nil || len(states) != n {
			b.Fatalf("%d states, %v", len(states), err)
		}
	}
}
