package mediagw

import "errors"

// Sentinel errors of the gateway; the control API maps them to statuses.
var (
	// ErrInvalid: a request is malformed (400).
	ErrInvalid = errors.New("mediagw: invalid request")
	// ErrNoReceiver: no receiver with that id (404).
	ErrNoReceiver = errors.New("mediagw: no such receiver")
	// ErrPathBusy: the path already has a receiver (409).
	ErrPathBusy = errors.New("mediagw: path already has a receiver")
	// ErrClosed: the gateway is shutting down (503).
	ErrClosed = errors.New("mediagw: closed")
	// ErrHoldsFull: a new download would take the download holds beyond
	// DownloadHoldTotal (503).
	ErrHoldsFull = errors.New("mediagw: download holds full")
	// ErrAuditNotStored: the console did not confirm a media open's audit
	// row; with the audit failing closed the viewer is refused (503).
	ErrAuditNotStored = errors.New("mediagw: audit row not stored")
)
