package mediagw

import "errors"

// Sentinel errors of the gateway; the control API maps them to machine
// codes (withCode). Those of the contract are mediaapi's (ErrPathBusy,
// ErrHoldsFull).
var (
	// ErrInvalid: a request is malformed (400).
	ErrInvalid = errors.New("mediagw: invalid request")
	// ErrNoReceiver: no receiver with that id (404).
	ErrNoReceiver = errors.New("mediagw: no such receiver")
	// ErrClosed: the gateway is shutting down (503).
	ErrClosed = errors.New("mediagw: closed")
	// ErrAuditNotStored: the console did not confirm a media open's audit
	// row; with the audit failing closed the viewer is refused (503).
	ErrAuditNotStored = errors.New("mediagw: audit row not stored")

	// errPathEnded answers a publish request taken by a path that ended
	// as it came; the publisher retries on the path's successor, so it
	// never leaves the gateway.
	errPathEnded = errors.New("mediagw: path ended")
)
