package capacity

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid is a Guard that cannot start (no index or store).
	ErrInvalid = errors.New("capacity: invalid configuration")
)
