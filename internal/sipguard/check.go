package sipguard

import (
	"bytes"
	"fmt"
)

// maxCSeq bounds a CSeq number (RFC 3261 8.1.1.5: less than 2**31).
const maxCSeq = 1<<31 - 1

// headerKind is a header Check or Reply looks at.
type headerKind int

const (
	hOther headerKind = iota
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	hContentLength
	numKinds
	hNone // before the first header
)

var kindNames = [numKinds]string{"", "Via", "From", "To", "Call-ID", "CSeq", "Content-Length"}

// kindOf matches a header name, long or compact form, in any case.
func kindOf(name []byte) headerKind {
	switch len(name) {
	case 1:
		switch name[0] | 0x20 {
		case 'v':
			return hVia
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'i':
			return hCallID
		case 'l':
			return hContentLength
		}
	case 2:
		if bytes.EqualFold(name, []byte("to")) {
			return hTo
		}
	case 3:
		if bytes.EqualFold(name, []byte("via")) {
			return hVia
		}
	case 4:
		if bytes.EqualFold(name, []byte("from")) {
			return hFrom
		}
		if bytes.EqualFold(name, []byte("cseq")) {
			return hCSeq
		}
	case 7:
		if bytes.EqualFold(name, []byte("call-id")) {
			return hCallID
		}
	case 14:
		if bytes.EqualFold(name, []byte("content-length")) {
			return hContentLength
		}
	}
	return hOther
}

// Check validates the structure of one whole SIP message (a UDP datagram)
// cheaply, without parsing it: a request or status line, headers ending
// with an empty line (CRLF or bare LF), Via, From, To, Call-ID and CSeq
// present (compact forms too), a CSeq method equal to the request method,
// and a Content-Length (when present) equal to the body length. Padding
// of CR, LF and NUL after the body is allowed. Errors wrap ErrMalformed, or
// ErrTooLarge when the message or its declared body is longer than maxSize
// bytes; maxSize ≤ 0 means no limit.
func Check(msg []byte, maxSize int) error {
	if maxSize > 0 && len(msg) > maxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(msg), maxSize)
	}
	line, rest, ok := nextLine(msg)
	if !ok {
		return fmt.Errorf("%w: no line end", ErrMalformed)
	}
	method, err := checkStartLine(line)
	if err != nil {
		return err
	}

	var (
		seen     [numKinds]int
		cur      = hNone // header whose (possibly folded) value is being read
		nonEmpty bool
		cseq     []byte
		length   = -1
	)
	for {
		line, rest, ok = nextLine(rest)
		if !ok {
			return fmt.Errorf("%w: header section does not end with an empty line", ErrMalformed)
		}
		if !validLine(line) {
			return fmt.Errorf("%w: control character in header %q", ErrMalformed, excerpt(line))
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			switch cur {
			case hNone:
				return fmt.Errorf("%w: continuation line before the first header", ErrMalformed)
			case hCSeq, hContentLength:
				return fmt.Errorf("%w: folded %s", ErrMalformed, kindNames[cur])
			}
			nonEmpty = nonEmpty || len(trimWS(line)) > 0
			continue
		}
		if cur != hOther && cur != hNone && !nonEmpty {
			return fmt.Errorf("%w: empty %s", ErrMalformed, kindNames[cur])
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return fmt.Errorf("%w: bad header line %q", ErrMalformed, excerpt(line))
		}
		cur, nonEmpty = kindOf(name), len(value) > 0
		seen[cur]++
		if cur != hOther && cur != hVia && seen[cur] > 1 {
			return fmt.Errorf("%w: repeated %s", ErrMalformed, kindNames[cur])
		}
		switch cur {
		case hCSeq:
			cseq = value
		case hContentLength:
			if length, err = parseContentLength(value, maxSize); err != nil {
				return err
			}
		}
	}
	for k := hVia; k <= hCSeq; k++ {
		if seen[k] == 0 {
			return fmt.Errorf("%w: no %s", ErrMalformed, kindNames[k])
		}
	}
	cseqMethod, ok := parseCSeq(cseq)
	if !ok {
		return fmt.Errorf("%w: bad CSeq %q", ErrMalformed, excerpt(cseq))
	}
	if method != nil && !bytes.EqualFold(method, cseqMethod) {
		return fmt.Errorf("%w: CSeq method %q differs from %q", ErrMalformed, cseqMethod, method)
	}
	if length < 0 {
		return nil // UDP: the body is the rest of the datagram (RFC 3261 18.3)
	}
	if len(rest) < length {
		return fmt.Errorf("%w: body of %d bytes, Content-Length %d", ErrMalformed, len(rest), length)
	}
	if len(bytes.Trim(rest[length:], "\r\n\x00")) > 0 {
		return fmt.Errorf("%w: %d bytes after the body of Content-Length %d", ErrMalformed, len(rest)-length, length)
	}
	return nil
}

// nextLine splits off a line ended by LF or CRLF, without the line end.
func nextLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, b, false
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, b[i+1:], true
}

// validLine reports whether a line has no control characters but tabs.
// Bytes from 0x80 are allowed: display names may be UTF-8 or GB2312.
func validLine(line []byte) bool {
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkStartLine validates a request line ("METHOD sip:uri SIP/2.0") or a
// status line ("SIP/2.0 NNN reason") and returns the method of a request,
// nil for a response.
func checkStartLine(line []byte) ([]byte, error) {
	if !validLine(line) {
		return nil, fmt.Errorf("%w: control character in start line", ErrMalformed)
	}
	if hasPrefixFold(line, "SIP/2.0 ") {
		s := line[len("SIP/2.0 "):]
		if len(s) < 4 || s[0] < '1' || s[0] > '6' || !isDigit(s[1]) || !isDigit(s[2]) || s[3] != ' ' {
			return nil, fmt.Errorf("%w: bad status line %q", ErrMalformed, excerpt(line))
		}
		return nil, nil
	}
	method, rest, _ := bytes.Cut(line, []byte(" "))
	uri, version, _ := bytes.Cut(rest, []byte(" "))
	switch {
	case !isToken(method):
		return nil, fmt.Errorf("%w: bad start line %q", ErrMalformed, excerpt(line))
	case !isSIPURI(uri):
		return nil, fmt.Errorf("%w: bad Request-URI %q", ErrMalformed, excerpt(uri))
	case !bytes.EqualFold(version, []byte("SIP/2.0")):
		return nil, fmt.Errorf("%w: bad SIP version in %q", ErrMalformed, excerpt(line))
	}
	return method, nil
}

// splitHeader splits "Name : value" into the name and the trimmed value.
func splitHeader(line []byte) (name, value []byte, ok bool) {
	i := 0
	for i < len(line) && tokenChars[line[i]] {
		i++
	}
	name = line[:i]
	rest := trimWS(line[i:])
	if len(name) == 0 || len(rest) == 0 || rest[0] != ':' {
		return nil, nil, false
	}
	return name, trimWS(rest[1:]), true
}

// parseCSeq validates "number method" and returns the method.
func parseCSeq(v []byte) ([]byte, bool) {
	i, n := 0, 0
	for i < len(v) && isDigit(v[i]) {
		n = n*10 + int(v[i]-'0')
		if n > maxCSeq {
			return nil, false
		}
		i++
	}
	method := trimWS(v[i:])
	if i == 0 || len(method) == len(v[i:]) || !isToken(method) {
		return nil, false
	}
	return method, true
}

func parseContentLength(v []byte, maxSize int) (int, error) {
	if len(v) == 0 {
		return 0, fmt.Errorf("%w: empty Content-Length", ErrMalformed)
	}
	n := 0
	for _, c := range v {
		if !isDigit(c) {
			return 0, fmt.Errorf("%w: bad Content-Length %q", ErrMalformed, excerpt(v))
		}
		n = n*10 + int(c-'0')
		if n > 1<<30 { // no SIP message comes close; also keeps n from overflowing
			return 0, fmt.Errorf("%w: Content-Length %s", ErrTooLarge, excerpt(v))
		}
	}
	if maxSize > 0 && n > maxSize {
		return 0, fmt.Errorf("%w: Content-Length %d, limit %d", ErrTooLarge, n, maxSize)
	}
	return n, nil
}

// tokenChars are the characters of an RFC 3261 token (method and header names).
var tokenChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for _, c := range []byte("-.!%*_+`'~") {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return len(b) > 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimWS(b []byte) []byte { return bytes.Trim(b, " \t") }

// isSIPURI reports whether uri is a sip: or sips: URI with something after the scheme.
func isSIPURI(uri []byte) bool {
	return hasPrefixFold(uri, "sip:") && len(uri) > len("sip:") ||
		hasPrefixFold(uri, "sips:") && len(uri) > len("sips:")
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// excerpt returns at most 64 bytes of b, for error messages and logs.
func excerpt(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
