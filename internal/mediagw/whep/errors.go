package whep

import (
	"errors"
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
)

// Sentinel errors of the WHEP server. Request errors map to HTTP statuses
// (see httpStatus); session errors say why a session ended.
var (
	// ErrBadPath: the request path is not /whep/<path> with a clean stream path.
	ErrBadPath = errors.New("whep: bad path")
	// ErrUnsupportedMediaType: the body is not application/sdp (POST) or
	// application/trickle-ice-sdpfrag (PATCH).
	ErrUnsupportedMediaType = errors.New("whep: unsupported content type")
	// ErrBodyTooLarge: the body exceeds MaxBodyBytes.
	ErrBodyTooLarge = errors.New("whep: body too large")
	// ErrBadOffer: the SDP offer cannot be parsed or shares no codec with the
	// stream.
	ErrBadOffer = errors.New("whep: bad offer")
	// ErrBadSDPFrag: the PATCH body is not a valid SDP fragment or carries a
	// candidate the ICE agent rejects.
	ErrBadSDPFrag = errors.New("whep: bad SDP fragment")
	// ErrSessionNotFound: no session at the URL (never created, or ended).
	ErrSessionNotFound = errors.New("whep: session not found")
	// ErrMethodNotAllowed: the method is not served at the URL.
	ErrMethodNotAllowed = errors.New("whep: method not allowed")
	// ErrPreconditionFailed: If-Match does not name the session's ETag.
	ErrPreconditionFailed = errors.New("whep: ETag mismatch")
	// ErrICERestart: the PATCH asks for an ICE restart, which is not
	// supported; the player should start a new session.
	ErrICERestart = errors.New("whep: ICE restart not supported, start a new session")
	// ErrServerClosed: the server is closed or not initialized.
	ErrServerClosed = errors.New("whep: server closed")

	// ErrConnectTimeout ends a session whose ICE/DTLS connection was not
	// established within SessionTimeout.
	ErrConnectTimeout = errors.New("whep: connect timeout")
	// ErrConnectionFailed ends a session whose ICE or DTLS connection failed
	// (the player went away without DELETE).
	ErrConnectionFailed = errors.New("whep: connection failed")
	// ErrConnectionClosed ends a session whose peer connection was closed
	// (DTLS close_notify from the player).
	ErrConnectionClosed = errors.New("whep: connection closed")
	// ErrDeleted ends a session on the player's DELETE.
	ErrDeleted = errors.New("whep: session deleted")
	// ErrEnded ends a session from mediagw (access.Viewer.End: its play
	// token was revoked).
	ErrEnded = errors.New("whep: session ended by the server")
)

// httpErrors maps errors to an HTTP status and a stable code for the JSON
// body; the first match wins, so wrapped access errors keep their status.
var httpErrors = []struct {
	err    error
	status int
	code   string
}{
	{access.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{access.ErrNotFound, http.StatusNotFound, "stream_not_found"},
	{access.ErrUnavailable, http.StatusServiceUnavailable, "stream_unavailable"},
	{ErrServerClosed, http.StatusServiceUnavailable, "server_closed"},
	{ErrBadPath, http.StatusBadRequest, "bad_path"},
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
	{ErrBadOffer, http.StatusBadRequest, "bad_offer"},
	{ErrBadSDPFrag, http.StatusBadRequest, "bad_sdpfrag"},
	{ErrSessionNotFound, http.StatusNotFound, "session_not_found"},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed"},
	{ErrPreconditionFailed, http.StatusPreconditionFailed, "etag_mismatch"},
	{ErrICERestart, http.StatusUnprocessableEntity, "ice_restart_unsupported"},
}

// httpStatus returns the HTTP status and error code of err, 500 for errors
// of no known kind.
func httpStatus(err error) (int, string) {
	for _, e := range httpErrors {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, "internal"
}
