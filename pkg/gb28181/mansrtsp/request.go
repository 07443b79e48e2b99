package mansrtsp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Request is a MANSRTSP request carried in an INFO body.
type Request struct {
	// Method is PLAY, PAUSE or TEARDOWN.
	Method Method
	// URI is an optional request-URI between method and version; GB28181
	// bodies normally have none.
	URI string
	// Version is VersionRTSP or VersionMANSRTSP (kept as received).
	Version string
	// CSeq is the sequence number; it increases per INFO in the dialog.
	CSeq uint32
	// Range is the npt range of a PLAY; nil when absent.
	Range *Range
	// Scale is the playback speed of a PLAY (0.25 … 4, negative for
	// reverse); 0 when absent.
	Scale float64
	// CompactScale writes Scale with the fewest digits ("2.0") instead of
	// WVP's "%.6f" ("2.000000").
	CompactScale bool
	// PauseTime is the PauseTime header of a PAUSE ("now"); empty when
	// absent.
	PauseTime string
	// Headers holds every other header, and repeats of the typed ones,
	// in order.
	Headers []Header
}

// ParseRequest decodes a MANSRTSP request body. It returns
// ErrUnknownMethod (wrapped) for methods other than PLAY, PAUSE and
// TEARDOWN, and errors for a missing or malformed CSeq, a malformed Range
// or Scale, or input beyond MaxSize/MaxHeaders. Every request it returns
// marshals to a body it decodes to an equal request.
func ParseRequest(b []byte) (*Request, error) {
	start, headers, err := splitMessage(b)
	if err != nil {
		return nil, err
	}
	r := &Request{}
	f := strings.Fields(start)
	if len(f) != 2 && len(f) != 3 {
		return nil, fmt.Errorf("request line %q: %w", start, ErrBadStartLine)
	}
	m := Method(strings.ToUpper(f[0]))
	if m != MethodPlay && m != MethodPause && m != MethodTeardown {
		return nil, fmt.Errorf("method %q: %w", f[0], ErrUnknownMethod)
	}
	r.Method = m
	r.Version = f[len(f)-1]
	if len(f) == 3 {
		r.URI = f[1]
	}
	if !validVersion(r.Version) {
		return nil, fmt.Errorf("version %q: %w", r.Version, ErrBadVersion)
	}

	var seenCSeq bool
	for _, h := range headers {
		typed, err := r.header(h, seenCSeq)
		if err != nil {
			return nil, err
		}
		if !typed {
			r.Headers = append(r.Headers, h)
			continue
		}
		if strings.EqualFold(h.Name, "CSeq") {
			seenCSeq = true
		}
	}
	if !seenCSeq {
		return nil, ErrMissingCSeq
	}
	if l := len(r.Marshal()); l > MaxSize {
		return nil, fmt.Errorf("%d bytes once encoded: %w", l, ErrTooLarge)
	}
	return r, nil
}

// header stores a typed header and reports whether it did. Repeats of a
// typed header are left to Headers.
func (r *Request) header(h Header, seenCSeq bool) (bool, error) {
	switch strings.ToLower(h.Name) {
	case "cseq":
		if seenCSeq {
			return false, nil
		}
		n, ok := parseCSeq(h.Value)
		if !ok {
			return false, fmt.Errorf("CSeq %q: %w", h.Value, ErrBadCSeq)
		}
		r.CSeq = n
	case "range":
		if r.Range != nil {
			return false, nil
		}
		rg, err := ParseRange(h.Value)
		if err != nil {
			return false, err
		}
		r.Range = &rg
	case "scale":
		if r.Scale != 0 {
			return false, nil
		}
		v, err := parseScale(h.Value)
		if err != nil {
			return false, err
		}
		r.Scale = v
	case "pausetime":
		// An empty PauseTime would read as absent; keep it verbatim.
		if r.PauseTime != "" || h.Value == "" {
			return false, nil
		}
		r.PauseTime = h.Value
	default:
		return false, nil
	}
	return true, nil
}

// Marshal encodes the request with CRLF line endings and, like WVP, no
// trailing blank line. Values must be what the parser or Builder produce.
func (r *Request) Marshal() []byte {
	var b strings.Builder
	b.WriteString(string(r.Method))
	if r.URI != "" {
		b.WriteByte(' ')
		b.WriteString(r.URI)
	}
	b.WriteByte(' ')
	b.WriteString(r.Version)
	b.WriteString("\r\n")
	writeHeader(&b, "CSeq", strconv.FormatUint(uint64(r.CSeq), 10))
	if r.Range != nil {
		writeHeader(&b, "Range", r.Range.String())
	}
	if r.Scale != 0 {
		writeHeader(&b, "Scale", formatScale(r.Scale, r.CompactScale))
	}
	if r.PauseTime != "" {
		writeHeader(&b, "PauseTime", r.PauseTime)
	}
	for _, h := range r.Headers {
		writeHeader(&b, h.Name, h.Value)
	}
	return []byte(b.String())
}

// parseScale accepts an optionally signed decimal without exponent.
func parseScale(v string) (float64, error) {
	s := strings.TrimLeft(v, "+-")
	if len(v)-len(s) > 1 || s == "" || s == "." || strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 {
		return 0, fmt.Errorf("scale %q: %w", v, ErrBadScale)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("scale %q: %w", v, ErrBadScale)
	}
	return x, nil
}

// formatScale writes x as WVP does ("%.6f") unless that would lose
// precision, or with the fewest digits when compact is set.
func formatScale(x float64, compact bool) string {
	if !compact {
		s := strconv.FormatFloat(x, 'f', 6, 64)
		if y, err := strconv.ParseFloat(s, 64); err == nil && y == x {
			return s
		}
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
