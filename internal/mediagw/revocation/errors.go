package revocation

import "errors"

// Sentinel errors of the package.
var (
	// ErrRevoked is the error of Admit for a revoked token.
	ErrRevoked = errors.New("revocation: play token revoked")
	// ErrInvalid is a Watch that cannot start (no checker or signer).
	ErrInvalid = errors.New("revocation: invalid configuration")
)
