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

// Patience is how long a test waits (testsupport.Eventually) for a step no
// timeout of the service bounds (a goroutine reaching a lock): the test
// binary's own deadline (go test -timeout) less a margin to report the
// failure, since when it happens depends only on the machine's load.
func Patience(t *testing.T) time.Duration {
	deadline, ok := t.Deadline()
	if !ok {
		return time.Hour
	}
	return time.Until(deadline) - 10*time.Second
}
