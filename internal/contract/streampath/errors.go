package streampath

import (
	"errors"
	"fmt"
)

// Errors of Parse and Valid.
var (
	// ErrInvalid: the path breaks the syntax or its kind's ID rule.
	ErrInvalid = errors.New("invalid stream path")
	// ErrUnknownKind: the path is well formed but not live/, playback/,
	// download/ or recording/ (it wraps ErrInvalid too).
	ErrUnknownKind = fmt.Errorf("%w: unknown kind", ErrInvalid)
)
