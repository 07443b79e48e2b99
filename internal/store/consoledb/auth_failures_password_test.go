package consoledb_test

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// TestPasswordFailuresPerUser checks the key the console counts wrong old
// passwords under: the user's alone, without an address.
func TestPasswordFailuresPerUser(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Microsecond)
	p := store.AuthPolicy{Max: 2, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	alice := store.AuthKey{Scope: store.FailPassword, Username: "alice"}
	if f, err := s.CountAuthFailure(ctx, alice, t0, p); err != nil || f.Failures != 1 {
		t.Fatalf("first failure: %+v %v", f, err)
	}
	at := t0.Add(time.Second)
	if f, err := s.CountAuthFailure(ctx, alice, at, p); err != nil || !f.Locked(at) {
		t.Fatalf("second failure must lock: %+v %v", f, err)
	}
	if f, err := s.AuthFailureOf(ctx, alice); err != nil || !f.Locked(at) || f.AuthKey != alice {
		t.Fatalf("read back: %+v %v", f, err)
	}
	// Idle removal reaches these keys like any other once the lock is over.
	if n, err := s.DeleteIdleAuthFailures(ctx, store.FailPassword, at.Add(p.LockFor), at.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("idle removal: %d %v", n, err)
	}
}
