package capture

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid is a Channel that cannot start (a required field is missing).
	ErrInvalid = errors.New("capture: invalid configuration")
	// ErrStorage is wrapped by every failure to write, sync or commit a
	// segment: the gap it leaves is a storage_error, not a stream_error.
	ErrStorage = errors.New("storage failed")
	// ErrStreamEnded is a session that mediagw ended without an error.
	ErrStreamEnded = errors.New("stream ended")
	// ErrNoData is a session that delivered nothing for ReadTimeout.
	ErrNoData = errors.New("no media received")
)

// storageError marks err as a storage failure (errors.Is(err, ErrStorage))
// without changing its text.
type storageError struct{ err error }

func (e *storageError) Error() string   { return e.err.Error() }
func (e *storageError) Unwrap() []error { return []error{ErrStorage, e.err} }

func asStorage(err error) error {
	if err == nil || errors.Is(err, ErrStorage) {
		return err
	}
	return &storageError{err: err}
}
