package recbench

import "errors"

// ErrFormat is returned when a /proc file or a clip is not what it should be.
var ErrFormat = errors.New("recbench: unexpected format")
