package store

import "errors"

// ErrNotFound means the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrInvalid means the caller passed a value the schema cannot hold.
var ErrInvalid = errors.New("store: invalid value")
