package sweeper

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid is a Sweeper that cannot start (no index or store).
	ErrInvalid = errors.New("sweeper: invalid configuration")
)
