// Package auditapi is the contract of the console's internal audit API:
// mediagw reports every media open (WHEP, HLS session start, RTSP PLAY) so
// that it becomes a row of the console's audit_log, the one table of who
// watched what. mediagw posts, the console writes; both import this package.
package auditapi

import (
	"errors"
	"time"
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
}

// Errors of Validate.
var (
	ErrNoPath       = errors.New("auditapi: path is required")
	ErrBadProto     = errors.New("auditapi: protocol must be whep, hls or rtsp")
	ErrNoTime       = errors.New("auditapi: at is required")
	ErrFieldTooLong = errors.New("auditapi: field longer than 256 bytes")
)

// maxField bounds every string field: a row is a few hundred bytes.
const maxField = 256

// Validate checks what the console needs to store the row.
func (m MediaOpen) Validate() error {
	switch {
	case m.Path == "":
		return ErrNoPath
	case m.Protocol != ProtocolWHEP && m.Protocol != ProtocolHLS && m.Protocol != ProtocolRTSP:
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
