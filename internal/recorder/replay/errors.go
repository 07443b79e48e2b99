package replay

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Errors of the Replayer; each wraps the svcapi code its API answers with.
var (
	// ErrNoRecordings: the range has no recorded segment.
	ErrNoRecordings = svcapi.NewCode(http.StatusNotFound, svcapi.CodeNotFound, "no recording in the range")
	// ErrNotFound: no such replay (or it ended over a minute ago).
	ErrNotFound = svcapi.NewCode(http.StatusNotFound, svcapi.CodeNotFound, "no such replay")
	// ErrBusy: MaxReplays replays run already.
	ErrBusy = svcapi.NewCode(http.StatusServiceUnavailable, svcapi.CodeUnavailable, "too many replays")
	// ErrEnded: the replay ended; it takes no more controls.
	ErrEnded = svcapi.NewCode(http.StatusConflict, svcapi.CodeConflict, "the replay has ended")
	// ErrClosed: the Replayer is closing.
	ErrClosed = svcapi.NewCode(http.StatusServiceUnavailable, svcapi.CodeUnavailable, "the recorder is stopping")
)
