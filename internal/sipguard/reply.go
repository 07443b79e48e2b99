package sipguard

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
)

// RetryAfter is the Retry-After value, in seconds, Reply puts in a 503.
const RetryAfter = 10

// Reply builds a minimal stateless response with the given status to a
// request, even one that fails Check: "SIP/2.0 code reason", every Via,
// From, To (with a tag added if it has none), Call-ID and CSeq, a
// Retry-After for 503 and Content-Length: 0. It returns nil for a response,
// an ACK (which is never answered), a start line that is not a request or a
// request lacking one of those headers, so the caller just drops it.
// Control characters in reason are left out.
func Reply(msg []byte, code int, reason string) []byte {
	if code < 100 || code > 699 {
		return nil
	}
	line, rest, ok := nextLine(msg)
	if !ok {
		return nil
	}
	method, err := checkStartLine(line)
	if err != nil || method == nil || bytes.EqualFold(method, []byte("ACK")) {
		return nil
	}

	var (
		vias  [][]byte
		first [numKinds][]byte // the first From, To, Call-ID and CSeq
		cur   *[]byte          // value being unfolded, nil for headers not copied
	)
	for len(rest) > 0 {
		if line, rest, ok = nextLine(rest); !ok {
			line, rest = rest, nil // a truncated message: use its last line too
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil {
				*cur = append(append(*cur, ' '), trimWS(line)...)
			}
			continue
		}
		cur = nil
		name, value, ok := splitHeader(line)
		if !ok {
			continue
		}
		switch k := kindOf(name); k {
		case hVia:
			vias = append(vias, bytes.Clone(value))
			cur = &vias[len(vias)-1]
		case hFrom, hTo, hCallID, hCSeq:
			if first[k] == nil {
				first[k] = bytes.Clone(value)
				cur = &first[k]
			}
		}
	}
	if len(vias) == 0 {
		return nil
	}
	for _, v := range vias {
		if !validValue(v) {
			return nil
		}
	}
	for k := hFrom; k <= hCSeq; k++ {
		if !validValue(first[k]) {
			return nil
		}
	}
	if _, ok := parseCSeq(first[hCSeq]); !ok {
		return nil
	}

	out := make([]byte, 0, 256)
	out = append(out, "SIP/2.0 "...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, ' ')
	for _, c := range []byte(reason) {
		if c >= 0x20 && c != 0x7f || c == '\t' {
			out = append(out, c)
		}
	}
	out = append(out, "\r\n"...)
	for _, v := range vias {
		out = appendHeader(out, "Via", v)
	}
	out = appendHeader(out, "From", first[hFrom])
	to := first[hTo]
	if !hasTag(to) {
		var tag [8]byte
		for i := range tag {
			tag[i] = byte(rand.Uint32())
		}
		to = append(append(to, ";tag="...), hex.EncodeToString(tag[:])...)
	}
	out = appendHeader(out, "To", to)
	out = appendHeader(out, "Call-ID", first[hCallID])
	out = appendHeader(out, "CSeq", first[hCSeq])
	if code == 503 {
		out = appendHeader(out, "Retry-After", strconv.AppendInt(nil, RetryAfter, 10))
	}
	return append(out, "Content-Length: 0\r\n\r\n"...)
}

// validValue reports whether a copied header value passes Check: not
// empty once trimmed (an empty value folded onto a blank line is one space).
func validValue(v []byte) bool {
	return len(trimWS(v)) > 0 && validLine(v)
}

func appendHeader(out []byte, name string, value []byte) []byte {
	out = append(out, name...)
	out = append(out, ": "...)
	out = append(out, value...)
	return append(out, "\r\n"...)
}

// hasTag reports whether a From or To value has a tag parameter. The
// parameters follow the '>' of a name-addr, or the URI of a bare addr-spec
// (where URI parameters count as header parameters, RFC 3261 20.10).
func hasTag(v []byte) bool {
	if i := bytes.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	}
	params := bytes.Split(v, []byte(";"))
	for _, p := range params[1:] {
		name, _, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(trimWS(name), []byte("tag")) {
			return true
		}
	}
	return false
}
