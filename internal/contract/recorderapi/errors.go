package recorderapi

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Machine codes of the recorder's export answers beside svcapi's shared
// ones (bad_request, not_found, unauthorized, unavailable, …).
const (
	// CodeNotDone: the job has no file (yet, or any more) (409).
	CodeNotDone = "not_done"
)

// Sentinel errors of the recorder's codes: its handlers answer errors
// wrapping them, and the Client's errors match them with errors.Is.
var (
	// ErrNotDone is CodeNotDone.
	ErrNotDone = svcapi.NewCode(http.StatusConflict, CodeNotDone, "recorder: the export has no file")
)
