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
	// ErrMediaUnavailable is a mediagw node that cannot be reached or failed.
	ErrMediaUnavailable = errors.New("media gateway unavailable")
	// ErrNoSession is a path or session ID without an open media session.
	ErrNoSession = errors.New("no such media session")
)

// RejectedError is a device's SIP error response to our request.
type RejectedError struct {
	Method string
	Code   int
	Reason string
}

func (e *RejectedError) Error() string {
	what := ""
	switch e.Code {
	case 486, 600:
		what = " (busy: the device serves no more streams)"
	case 488, 415, 606:
		what = " (SDP not acceptable: transport or media the device does not support)"
	case 404:
		what = " (the device does not know the channel)"
	}
	return fmt.Sprintf("device rejected %s: %d %s%s", e.Method, e.Code, e.Reason, what)
}
