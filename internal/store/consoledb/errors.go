package consoledb

import "errors"

// ErrNotShared is a department admin's re-grant that goes beyond what its
// own department holds with the share right: a right, a camera or a
// validity it may not pass on.
var ErrNotShared = errors.New("consoledb: beyond the rights your department may share")
