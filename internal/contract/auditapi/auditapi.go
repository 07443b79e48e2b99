// Package auditapi is the contract of the console's internal audit API:
// mediagw reports every media open (WHEP, HLS session start, RTSP PLAY,
// unit feed request) so
// that it becomes a row of the console's audit_log, the one table of who
// watched what, and asks which of its viewers' play tokens the console has
// revoked since they were issued. mediagw posts, the console answers; both
// import this package.
package auditapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// PathMediaOpens is the route mediagw posts a MediaOpen to on the console's
// HTTP listener, with "Authorization: Bearer <service token>". The console
// answers 204 once the row is stored; any other answer means the row was
// not stored, and mediagw refuses the access when it is configured to fail
// closed (the default).
const PathMediaOpens = "/internal/v1/audit/media-opens"

// Protocols of MediaOpen.Protocol.
const (
	ProtocolWHEP = "whep"
	ProtocolHLS  = "hls"
	ProtocolRTSP = "rtsp"
	// ProtocolFeed is mediagw's unit feed, read by the recorder
	// (internal/contract/unitfeed).
	ProtocolFeed = "feed"
	// ProtocolCascade is a stream sent up to a superior platform (GB/T
	// 28181 cascade); User names the platform ("platform:<server ID>").
	ProtocolCascade = "gb28181"
)

// ActionMediaOpen is the audit_log action of a MediaOpen.
const ActionMediaOpen = "media_open"

// MediaOpen is one actual media open at a mediagw node.
type MediaOpen struct {
	// At is when mediagw admitted the viewer.
	At time.Time `json:"at"`
	// User is the play token's subject (the console username); empty when
	// mediagw runs with auth: off.
	User string `json:"user"`
	// Path is the stream path: live/<channel>, playback/<session>, download/<session>.
	Path string `json:"path"`
	// Protocol is one of the Protocol constants.
	Protocol string `json:"protocol"`
	// Remote is the viewer's address as mediagw saw it (ip:port).
	Remote string `json:"remote"`
	// Node names the mediagw node (its advertised address).
	Node string `json:"node,omitempty"`
	// IssuedAt is the play token's issue time, sent for a user's token
	// (playtoken.Claims.Revocable): the console refuses the open
	// (ErrRevoked) when the user is disabled, gone, or had their tokens
	// revoked at or after it. Zero for service tokens and auth: off.
	IssuedAt time.Time `json:"issued_at,omitzero"`
}

// PathViewersCheck is the route mediagw posts a ViewersCheck to, with the
// service token, for the users whose play tokens its live viewers hold. The
// console answers 200 with a ViewersRevoked; mediagw closes the viewers of
// the revoked ones and refuses their tokens from then on.
const PathViewersCheck = "/internal/v1/viewers/check"

// MaxViewers bounds the viewers of one ViewersCheck, so that a body of the
// longest users stays under the console's 64 KiB; mediagw sends more in
// several calls.
const MaxViewers = 200

// CodeRevoked is the machine code of ErrRevoked.
const CodeRevoked = "viewer_revoked"

// ErrRevoked is the console's answer (403) to a media open whose play token
// is revoked: the user is disabled or deleted, or their tokens were revoked
// after the token was issued. mediagw refuses the viewer whatever its
// audit.fail_closed says.
var ErrRevoked = svcapi.NewCode(http.StatusForbidden, CodeRevoked, "play token revoked")

// Viewer names one play token by what the console decides its revocation
// from: the user (the token's subject) and the time it was issued.
type Viewer struct {
	// User is the console username.
	User string `json:"user"`
	// IssuedAt is the token's issue time (whole seconds).
	IssuedAt time.Time `json:"issued_at"`
}

// ViewersCheck is the body of PathViewersCheck.
type ViewersCheck struct {
	Viewers []Viewer `json:"viewers"`
}

// ViewersRevoked is the answer of PathViewersCheck: the viewers of the
// request whose tokens are revoked, in the request's order.
type ViewersRevoked struct {
	Revoked []Viewer `json:"revoked"`
}

// Errors of Validate.
var (
	ErrNoPath       = errors.New("auditapi: path is required")
	ErrBadProto     = errors.New("auditapi: protocol must be whep, hls, rtsp or feed")
	ErrNoTime       = errors.New("auditapi: at is required")
	ErrFieldTooLong = errors.New("auditapi: field longer than 256 bytes")
	ErrNoViewers    = errors.New("auditapi: viewers are required")
	ErrTooMany      = fmt.Errorf("auditapi: more than %d viewers", MaxViewers)
	ErrNoUser       = errors.New("auditapi: a viewer needs a user and issued_at")
)

// maxField bounds every string field: a row is a few hundred bytes.
const maxField = 256

// Validate checks what the console needs to store the row.
func (m MediaOpen) Validate() error {
	switch {
	case m.Path == "":
		return ErrNoPath
	case !slices.Contains([]string{ProtocolWHEP, ProtocolHLS, ProtocolRTSP, ProtocolFeed, ProtocolCascade}, m.Protocol):
		return ErrBadProto
	case m.At.IsZero():
		return ErrNoTime
	}
	for _, f := range []string{m.User, m.Path, m.Remote, m.Node} {
		if len(f) > maxField {
			return ErrFieldTooLong
		}
	}
	return nil
}

// Validate checks a ViewersCheck: 1 to MaxViewers viewers, each with a user
// of at most 256 bytes and an issue time.
func (c ViewersCheck) Validate() error {
	switch {
	case len(c.Viewers) == 0:
		return ErrNoViewers
	case len(c.Viewers) > MaxViewers:
		return ErrTooMany
	}
	for i, v := range c.Viewers {
		if v.User == "" || v.IssuedAt.IsZero() {
			return fmt.Errorf("viewer %d: %w", i, ErrNoUser)
		}
		if len(v.User) > maxField {
			return fmt.Errorf("viewer %d: %w", i, ErrFieldTooLong)
		}
	}
	return nil
}
