package mansrtsp

import (
	"fmt"
	"strconv"
	"strings"
)

// Status codes a device answers with.
const (
	// StatusOK: the request was carried out.
	StatusOK = 200
	// StatusBadRequest: the body could not be understood.
	StatusBadRequest = 400
	// StatusSessionNotFound: no such playback.
	StatusSessionNotFound = 454
	// StatusMethodNotValidInState: e.g. PAUSE while paused.
	StatusMethodNotValidInState = 455
	// StatusInvalidRange: the seek position is outside the recording.
	StatusInvalidRange = 457
	// StatusInternalServerError: the device failed.
	StatusInternalServerError = 500
	// StatusNotImplemented: e.g. an unsupported Scale.
	StatusNotImplemented = 501
)

// StatusText returns the RTSP reason phrase for code, or "" if unknown.
func StatusText(code int) string {
	switch code {
	case StatusOK:
		return "OK"
	case StatusBadRequest:
		return "Bad Request"
	case StatusSessionNotFound:
		return "Session Not Found"
	case StatusMethodNotValidInState:
		return "Method Not Valid in This State"
	case StatusInvalidRange:
		return "Invalid Range"
	case StatusInternalServerError:
		return "Internal Server Error"
	case StatusNotImplemented:
		return "Not Implemented"
	}
	return ""
}

// Response is the body a device may put in its 200 to an INFO, e.g.
// "RTSP/1.0 200 OK" + "CSeq: 2".
type Response struct {
	// Version is the protocol version, kept as received.
	Version string
	// StatusCode is the three-digit status.
	StatusCode int
	// Reason is the reason phrase; may be empty.
	Reason string
	// CSeq echoes the request's CSeq; meaningful when HasCSeq.
	CSeq uint32
	// HasCSeq is false for devices that omit CSeq.
	HasCSeq bool
	// Headers holds every other header (RTP-Info, Range …), in order.
	Headers []Header
}

// NewResponse returns an RTSP/1.0 response with the standard reason phrase.
func NewResponse(cseq uint32, code int) *Response {
	return &Response{Version: VersionRTSP, StatusCode: code, Reason: StatusText(code), CSeq: cseq, HasCSeq: true}
}

// ParseResponse decodes a response body. CSeq is optional because some
// devices leave it out. Every response it returns marshals to a body it
// decodes to an equal response.
func ParseResponse(b []byte) (*Response, error) {
	start, headers, err := splitMessage(b)
	if err != nil {
		return nil, err
	}
	version, rest, _ := strings.Cut(start, " ")
	code, reason, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if !validVersion(version) {
		return nil, fmt.Errorf("status line %q: %w", start, ErrBadVersion)
	}
	if len(code) != 3 || strings.Trim(code, "0123456789") != "" || code[0] == '0' {
		return nil, fmt.Errorf("status line %q: %w", start, ErrBadStatus)
	}
	r := &Response{Version: version, Reason: strings.TrimSpace(reason)}
	r.StatusCode, _ = strconv.Atoi(code)
	for _, h := range headers {
		if !r.HasCSeq && strings.EqualFold(h.Name, "CSeq") {
			n, ok := parseCSeq(h.Value)
			if !ok {
				return nil, fmt.Errorf("CSeq %q: %w", h.Value, ErrBadCSeq)
			}
			r.CSeq, r.HasCSeq = n, true
			continue
		}
		r.Headers = append(r.Headers, h)
	}
	if l := len(r.Marshal()); l > MaxSize {
		return nil, fmt.Errorf("%d bytes once encoded: %w", l, ErrTooLarge)
	}
	return r, nil
}

// Marshal encodes the response with CRLF line endings.
func (r *Response) Marshal() []byte {
	var b strings.Builder
	b.WriteString(r.Version)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(r.StatusCode))
	if r.Reason != "" {
		b.WriteByte(' ')
		b.WriteString(r.Reason)
	}
	b.WriteString("\r\n")
	if r.HasCSeq {
		writeHeader(&b, "CSeq", strconv.FormatUint(uint64(r.CSeq), 10))
	}
	for _, h := range r.Headers {
		writeHeader(&b, h.Name, h.Value)
	}
	return []byte(b.String())
}
