package sipserver

import (
	"errors"
	"fmt"
)

// Sentinel errors, mapped to HTTP statuses by the API.
var (
	// ErrUnknownDevice is a device or channel ID nobody registered.
	ErrUnknownDevice = errors.New("unknown device")
	// ErrOffline is a device that is not registered now.
	ErrOffline = errors.New("device offline")
	// ErrTimeout is a device that did not answer in time.
	ErrTimeout = errors.New("device did not answer")
	// ErrInvalid is a request with invalid parameters.
	ErrInvalid = errors.New("invalid request")
)

// RejectedError is a device's SIP error response to our request.
type RejectedError struct {
	Method string
	Code   int
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("device rejected %s: %d %s", e.Method, e.Code, e.Reason)
}
