package consoledb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestCountAuthFailure(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Microsecond)
	p := store.AuthPolicy{Max: 3, Window: 15 * time.Minute, LockFor: 10 * time.Minute}
	alice := store.AuthKey{Scope: store.FailLogin, Username: "alice", Remote: "10.0.0.1"}
	elsewhere := store.AuthKey{Scope: store.FailLogin, Username: "alice", Remote: "10.0.0.2"}

	if f, err := s.AuthFailureOf(ctx, alice); err != nil || f.Failures != 0 || f.Locked(t0) || f.AuthKey != alice {
		t.Fatalf("no failures yet: %+v %v", f, err)
	}
	for i := 1; i <= 2; i++ {
		f, err := s.CountAuthFailure(ctx, alice, t0.Add(time.Duration(i)*time.Second), p)
		if err != nil || f.Failures != i || f.Locked(t0) {
			t.Fatalf("failure %d: %+v %v", i, f, err)
		}
	}
	at := t0.Add(3 * time.Second)
	f, err := s.CountAuthFailure(ctx, alice, at, p)
	if err != nil || !f.Locked(at) || !f.LockedUntil.Equal(at.Add(p.LockFor)) || f.Failures != 0 {
		t.Fatalf("third failure must lock: %+v %v", f, err)
	}
	// Tries while locked neither extend nor shorten the lock.
	f, err = s.CountAuthFailure(ctx, alice, at.Add(time.Minute), p)
	if err != nil || !f.LockedUntil.Equal(at.Add(p.LockFor)) {
		t.Fatalf("failure while locked: %+v %v", f, err)
	}
	if got, err := s.AuthFailureOf(ctx, alice); err != nil || !got.Locked(at) || got.Failures != 0 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	// The same user from another address is not locked.
	if got, err := s.AuthFailureOf(ctx, elsewhere); err != nil || got.Locked(at) {
		t.Fatalf("other address: %+v %v", got, err)
	}
	// After the lock the key has Max tries again.
	after := at.Add(p.LockFor)
	if f, err = s.CountAuthFailure(ctx, alice, after, p); err != nil || f.Failures != 1 || f.Locked(after) {
		t.Fatalf("first failure after the lock: %+v %v", f, err)
	}
	// A count whose window passed starts again.
	late := after.Add(p.Window)
	if f, err = s.CountAuthFailure(ctx, alice, late, p); err != nil || f.Failures != 1 || !f.WindowStart.Equal(late) {
		t.Fatalf("failure after the window: %+v %v", f, err)
	}
	if err := s.ClearAuthFailures(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AuthFailureOf(ctx, alice); err != nil || got.Failures != 0 || got.LockedUntil != nil {
		t.Fatalf("after clear: %+v %v", got, err)
	}

	// With Max 1 the first failure (the row's insert) locks.
	once := store.AuthPolicy{Max: 1, Window: time.Minute, LockFor: time.Minute}
	if f, err = s.CountAuthFailure(ctx, elsewhere, t0, once); err != nil || !f.Locked(t0) || !f.LockedUntil.Equal(t0.Add(time.Minute)) || f.Failures != 0 {
		t.Fatalf("first failure with Max 1: %+v %v", f, err)
	}

	for _, bad := range []store.AuthKey{
		{Scope: "nope", Username: "a"},
		{Scope: store.FailLogin},
		{Scope: store.FailLoginIP, Username: "a", Remote: "10.0.0.1"},
		{Scope: store.FailPassword, Username: "a\x00b"},
		{Scope: store.FailLogin, Username: "\xff"},
		{Scope: store.FailLogin, Username: strings.Repeat("a", store.MaxUsernameLen+1)},
	} {
		if _, err := s.CountAuthFailure(ctx, bad, t0, p); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CountAuthFailure(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.CountAuthFailure(ctx, alice, t0, store.AuthPolicy{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("zero policy: %v", err)
	}
}

// TestCountAuthFailureConcurrent checks that parallel failures of one key
// are all counted: exactly one of Max parallel failures locks it.
func TestCountAuthFailureConcurrent(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Now()
	p := store.AuthPolicy{Max: 4, Window: time.Hour, LockFor: time.Hour}
	k := store.AuthKey{Scope: store.FailLoginIP, Remote: "10.9.9.9"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	locks := 0
	for range p.Max {
		wg.Go(func() {
			f, err := s.CountAuthFailure(ctx, k, now, p)
			if err != nil {
				t.Error(err)
				return
			}
			if f.Locked(now) {
				mu.Lock()
				locks++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got, err := s.AuthFailureOf(ctx, k); err != nil || !got.Locked(now) || locks != 1 {
		t.Fatalf("after %d parallel failures: %+v %v (%d saw the lock, want exactly 1)", p.Max, got, err, locks)
	}
}

func TestDeleteIdleAuthFailures(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Microsecond)
	p := store.AuthPolicy{Max: 2, Window: time.Minute, LockFor: time.Hour}
	idle := store.AuthKey{Scope: store.FailPassword, Username: "bob", Remote: "10.0.0.1"}
	locked := store.AuthKey{Scope: store.FailPassword, Username: "carol", Remote: "10.0.0.1"}
	other := store.AuthKey{Scope: store.FailLogin, Username: "bob", Remote: "10.0.0.1"}
	for _, k := range []store.AuthKey{idle, locked, locked, other} {
		if _, err := s.CountAuthFailure(ctx, k, t0, p); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteIdleAuthFailures(ctx, store.FailPassword, t0.Add(time.Minute), t0.Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d %v, want the idle one", n, err)
	}
	if f, _ := s.AuthFailureOf(ctx, idle); f.Failures != 0 {
		t.Errorf("idle counter kept: %+v", f)
	}
	if f, _ := s.AuthFailureOf(ctx, locked); !f.Locked(t0) {
		t.Errorf("locked counter removed: %+v", f)
	}
	if f, _ := s.AuthFailureOf(ctx, other); f.Failures != 1 {
		t.Errorf("other scope touched: %+v", f)
	}
}

func TestUsernameRules(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, bad := range []string{"a\x00b", "\xff\xfe", "tab\there", strings.Repeat("x", store.MaxUsernameLen+1)} {
		if _, err := s.CreateUser(ctx, store.User{Username: bad, PasswordHash: "x", Role: store.RoleOperator}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateUser(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "张三", PasswordHash: "x", Role: store.RoleOperator}); err != nil {
		t.Errorf("Chinese username: %v", err)
	}
}

// TestAuditStoresUnstorableText checks that the row of an attempt with a
// NUL byte or invalid UTF-8 (in any field or the detail) is written, with
// U+FFFD in their place.
func TestAuditStoresUnstorableText(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	err := s.AddAudit(ctx, store.AuditEntry{
		Username: "adm\x00in\xff", Action: "login_failed", Target: "t\x00", Remote: "10.0.0.1",
		Detail: map[string]any{
			"reason": "bad\x00", "k\xff": []any{"x\x00", 1}, "list": []string{"\xfe"},
			"nested": map[string]any{"v": "\x00"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := s.ListAudit(ctx, store.AuditFilter{Action: "login_failed"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	e := got[0]
	if e.Username != "adm\uFFFDin\uFFFD" || e.Target != "t\uFFFD" || e.Detail["reason"] != "bad\uFFFD" ||
		e.Detail["nested"].(map[string]any)["v"] != "\uFFFD" || e.Detail["k\uFFFD"] == nil {
		t.Errorf("stored %+v", e)
	}
}
