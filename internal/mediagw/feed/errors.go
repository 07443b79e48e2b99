package feed

import (
	"errors"
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Sentinel errors of the feed. Errors of the Source (access.ErrUnauthorized,
// access.ErrNotFound, access.ErrUnavailable) are passed through, wrapped.
var (
	// ErrInvalidConfig is returned by Initialize for a bad field value; the
	// message names the field.
	ErrInvalidConfig = errors.New("feed: invalid configuration")

	// ErrServerClosed answers requests after Close (or before Initialize),
	// and ends the feeds running at Close.
	ErrServerClosed = errors.New("feed: server closed")

	// ErrBadPath answers a URL that is not /feed/<stream path>.
	ErrBadPath = errors.New("feed: bad path")

	// ErrMethodNotAllowed answers a method other than GET.
	ErrMethodNotAllowed = errors.New("feed: method not allowed")

	// ErrNoTracks answers a stream whose reader has no track to announce.
	ErrNoTracks = errors.New("feed: stream has no track")

	// ErrEnded ends a feed from mediagw (access.Viewer.End: its play token
	// was revoked).
	ErrEnded = errors.New("feed: ended by the server")

	// ErrStreamEnded is the end of a feed whose stream ended: the only
	// clean end of a response.
	ErrStreamEnded = errors.New("feed: stream ended")

	// ErrClientGone ends a feed whose client closed the connection.
	ErrClientGone = errors.New("feed: client gone")

	// ErrWrite ends a feed whose write to the client failed or took longer
	// than WriteTimeout.
	ErrWrite = errors.New("feed: write failed")
)

// codeMethodNotAllowed is the machine code of a 405 answer (svcapi's
// shared codes have none).
const codeMethodNotAllowed = "method_not_allowed"

// httpStatus maps the error of a refused request to its HTTP status and the
// machine code of its JSON body, one of svcapi's shared codes (the feed's
// client is a service): the Source's refusals keep their meaning, and
// everything that means "not now" is 503, which the recorder retries.
func httpStatus(err error) (int, string) {
	switch {
	case errors.Is(err, access.ErrUnauthorized):
		return http.StatusUnauthorized, svcapi.CodeUnauthorized
	case errors.Is(err, access.ErrNotFound):
		return http.StatusNotFound, svcapi.CodeNotFound
	case errors.Is(err, access.ErrUnavailable), errors.Is(err, ErrServerClosed), errors.Is(err, ErrNoTracks):
		return http.StatusServiceUnavailable, svcapi.CodeUnavailable
	case errors.Is(err, ErrBadPath):
		return http.StatusBadRequest, svcapi.CodeBadRequest
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, codeMethodNotAllowed
	}
	return http.StatusInternalServerError, svcapi.CodeInternal
}
