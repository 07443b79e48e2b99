package store

import "errors"

// ErrNotFound means the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrInvalid means the caller passed a value the schema cannot hold.
var ErrInvalid = errors.New("store: invalid value")

// ErrInUse refuses to delete or move a row others still depend on (a
// department with sub-departments, users or grants; a move under its own
// subtree).
var ErrInUse = errors.New("store: in use")

// ErrLastAdmin refuses a change that would leave no enabled admin.
var ErrLastAdmin = errors.New("store: the last enabled admin cannot be removed, disabled or demoted")
