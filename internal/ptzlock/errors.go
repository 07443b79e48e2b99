package ptzlock

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the package.
var (
	// ErrLocked means another user controls the camera with a priority at
	// least the caller's. The error is a *LockedError naming the holder.
	ErrLocked = errors.New("PTZ controlled by another user")
	// ErrPriority means a priority outside MinPriority–MaxPriority: the
	// caller's bug (or bad grant data), never the user's input.
	ErrPriority = errors.New("PTZ priority out of range")
)

// LockedError is the refusal of Acquire while another user holds the
// camera: who, with which priority, and until when (unless they send
// another command before then).
type LockedError struct {
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s: %s (priority %d) until %s", ErrLocked, e.Holder.Username, e.Holder.Priority,
		e.Holder.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Unwrap() error { return ErrLocked }
