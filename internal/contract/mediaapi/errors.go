package mediaapi

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Machine codes of mediagw's answers beside svcapi's shared ones
// (bad_request, not_found, unauthorized, unavailable, …).
const (
	// CodePathBusy: the path already has a receiver (409).
	CodePathBusy = "path_busy"
	// CodeSSRCInUse: another receiver on the shared UDP port has the SSRC (409).
	CodeSSRCInUse = "ssrc_in_use"
	// CodeNoPorts: every RTP port of the range is in use (503).
	CodeNoPorts = "no_ports"
	// CodeHoldsFull: the download holds are full (503); retry once one
	// has been read.
	CodeHoldsFull = "holds_full"
)

// Sentinel errors of mediagw's codes: mediagw's handlers answer errors
// wrapping them, and the Client's errors match them with errors.Is.
var (
	// ErrPathBusy is CodePathBusy.
	ErrPathBusy = svcapi.NewCode(http.StatusConflict, CodePathBusy, "mediagw: path already has a receiver")
	// ErrSSRCInUse is CodeSSRCInUse.
	ErrSSRCInUse = svcapi.NewCode(http.StatusConflict, CodeSSRCInUse, "mediagw: ssrc in use on the shared port")
	// ErrNoPorts is CodeNoPorts.
	ErrNoPorts = svcapi.NewCode(http.StatusServiceUnavailable, CodeNoPorts, "mediagw: no free RTP port")
	// ErrHoldsFull is CodeHoldsFull.
	ErrHoldsFull = svcapi.NewCode(http.StatusServiceUnavailable, CodeHoldsFull, "mediagw: download holds full")
)
