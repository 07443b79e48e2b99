package auth

import (
	"testing"
	"time"
)

// SetCheckHash replaces VerifyPassword in s, before Initialize: tests count
// the hashes a login costs, or hold one while they change the database.
func SetCheckHash(s *Service, f func(phc, password string) (bool, error)) { s.checkHash = f }

// TrySlot reports whether a hashing slot is free, and leaves it free.
func (s *Service) TrySlot() bool {
	select {
	case s.sem <- struct{}{}:
		s.release()
		return true
	default:
		return false
	}
}

// WaitUntil is waitUntil for the black-box tests.
var WaitUntil = waitUntil

// waitUntil polls cond until it holds. Its only bound is the test binary's
// own deadline (go test -timeout), less a margin to report the failure:
// what it waits for does not depend on how loaded the machine is, only
// when it happens.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline, ok := t.Deadline()
	for !cond() {
		if ok && time.Now().After(deadline.Add(-10*time.Second)) {
			t.Fatalf("%s: not before the test's deadline", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
