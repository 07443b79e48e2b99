package schema

import "errors"

// ErrTooOld means the database schema is older than the service needs and
// the owner did not bring it up to date in time.
var ErrTooOld = errors.New("database schema too old")
