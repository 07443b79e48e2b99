package mansrtsp

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits applied by the parsers. Real bodies are under 100 bytes.
const (
	// MaxSize is the largest message the parsers accept, in bytes.
	MaxSize = 4096
	// MaxHeaders is the largest number of header lines the parsers accept.
	MaxHeaders = 32
)

// Protocol versions found in the start line.
const (
	// VersionRTSP is used by 2016 and 2022 implementations.
	VersionRTSP = "RTSP/1.0"
	// VersionMANSRTSP is used by 2011 devices.
	VersionMANSRTSP = "MANSRTSP/1.0"
)

// Method is a MANSRTSP request method.
type Method string

// Methods GB28181 playback control uses.
const (
	// MethodPlay resumes, seeks (Range) or changes speed (Scale).
	MethodPlay Method = "PLAY"
	// MethodPause pauses.
	MethodPause Method = "PAUSE"
	// MethodTeardown ends the playback.
	MethodTeardown Method = "TEARDOWN"
)

// Header is a header line kept as received (names keep their case).
type Header struct {
	// Name is the text before ':', trimmed.
	Name string
	// Value is the text after ':', trimmed.
	Value string
}

// writeHeader appends "name: value\r\n".
func writeHeader(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// validVersion reports whether v looks like RTSP/x or MANSRTSP/x.
func validVersion(v string) bool {
	u := strings.ToUpper(v)
	for _, p := range []string{"RTSP/", "MANSRTSP/"} {
		if rest, ok := strings.CutPrefix(u, p); ok {
			return rest != "" && strings.Trim(rest, "0123456789.") == ""
		}
	}
	return false
}

// parseCSeq decodes a CSeq value.
func parseCSeq(v string) (uint32, bool) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	return uint32(n), err == nil
}

// splitMessage returns the start line and the header lines of a message:
// it bounds the input, drops the NUL padding some SIP stacks add, accepts
// LF or CRLF endings and surrounding spaces, and stops at the first blank
// line after the start line.
func splitMessage(b []byte) (start string, headers []Header, err error) {
	if len(b) > MaxSize {
		return "", nil, fmt.Errorf("%d bytes: %w", len(b), ErrTooLarge)
	}
	rest := strings.TrimRight(string(b), "\x00")
	for rest != "" {
		var raw string
		raw, rest, _ = strings.Cut(rest, "\n")
		line := strings.TrimSpace(raw)
		if start == "" {
			start = line
			continue
		}
		if line == "" {
			break
		}
		if len(headers) == MaxHeaders {
			return "", nil, ErrTooManyHeaders
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return "", nil, fmt.Errorf("header %q: %w", line, ErrBadHeader)
		}
		headers = append(headers, Header{Name: name, Value: strings.TrimSpace(value)})
	}
	if start == "" {
		return "", nil, ErrEmpty
	}
	return start, headers, nil
}
