package digestauth

import "errors"

// Sentinel errors.
var (
	// ErrMalformed is a syntactically invalid Authorization header.
	ErrMalformed = errors.New("malformed digest credentials")
	// ErrUnsupported is a scheme, algorithm or qop this server does not do.
	ErrUnsupported = errors.New("unsupported digest parameters")
	// ErrBadNonce is a nonce this server did not issue.
	ErrBadNonce = errors.New("nonce not issued by this server")
	// ErrStaleNonce is a nonce this server issued that has expired.
	ErrStaleNonce = errors.New("nonce expired")
	// ErrReplay is a (nonce, nc) pair used before.
	ErrReplay = errors.New("credentials replayed")
)
