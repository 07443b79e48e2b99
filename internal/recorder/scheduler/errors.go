package scheduler

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid is a Scheduler that cannot start (no node, database or parent).
	ErrInvalid = errors.New("scheduler: invalid configuration")
)
