// Package input checks what clients send before the console uses it. Text
// must be UTF-8 without NUL bytes: PostgreSQL text holds neither, no name,
// identifier or time has them, and letting them through turns a bad request
// into a database error (a 500) or a silently altered value. Query strings
// must decode, and JSON bodies must be one strict value (no unknown fields)
// whose strings obey the same rule, escapes included (\u0000, an unpaired
// surrogate). Every refusal wraps svcapi.ErrBadRequest, which the APIs
// answer with 400 (the public one with the code bad_request).
package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// headers are the request headers the console reads; Request checks them.
// The Cookie header is not among them: a browser sends the cookies of every
// application on the host, and a foreign one in a legacy encoding must not
// lock users out; net/http drops malformed cookie values itself.
var headers = []string{
	"Authorization", "Content-Type", "X-CSRF-Token", "X-Forwarded-For", "X-Forwarded-Proto", "Range", "If-Range",
}

func bad(format string, args ...any) error { return svcapi.BadRequest(format, args...) }

// text returns an error naming what when s is not valid UTF-8 or has a NUL byte.
func text(what, s string) error {
	if !utf8.ValidString(s) {
		return bad("%s is not valid UTF-8", what)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return bad("%s contains a NUL character", what)
	}
	return nil
}

// Request checks r's path, query string and the headers it carries.
func Request(r *http.Request) error {
	if err := text("the path", r.URL.Path); err != nil {
		return err
	}
	if err := query(r.URL.RawQuery); err != nil {
		return err
	}
	for _, name := range headers {
		for _, v := range r.Header.Values(name) {
			if err := text("header "+name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// query checks a raw query string: it must decode (url.ParseQuery refuses
// bad %-escapes and semicolons, which r.URL.Query would silently drop), and
// every key and value must be text.
func query(raw string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return bad("query: %v", err)
	}
	for k, vs := range q {
		if err := text("a query parameter name", k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := text(fmt.Sprintf("query parameter %q", strings.ToValidUTF8(k, "?")), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckJSON checks the text of a JSON document: valid UTF-8, no NUL byte,
// and no escape that decodes to NUL or to half a surrogate pair (which
// encoding/json would silently turn into U+FFFD). It does not check the
// structure.
func CheckJSON(raw []byte) error {
	if !utf8.Valid(raw) {
		return bad("body is not valid UTF-8")
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == 0 {
			return bad("body contains a NUL character")
		}
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(raw) {
				return nil // truncated: the structure check refuses it
			}
			i++
			if raw[i] != 'u' {
				continue
			}
			r, ok := hex4(raw, i+1)
			if !ok {
				return nil // not an escape: the structure check refuses it
			}
			i += 4
			switch {
			case r == 0:
				return bad("body contains an escaped NUL character (\\u0000)")
			case r >= 0xDC00 && r <= 0xDFFF:
				return bad("body contains an unpaired UTF-16 surrogate escape")
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := -1, i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u'
				if ok {
					var v rune
					v, ok = hex4(raw, i+3)
					lo = int(v)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return bad("body contains an unpaired UTF-16 surrogate escape")
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 decodes the four hex digits at raw[i:i+4].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unmarshal decodes raw, one JSON value, into v, refusing unknown fields
// and trailing data. It does not check the text (see CheckJSON).
func unmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bad("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("invalid JSON body: data after the value")
	}
	return nil
}

// DecodeJSON decodes raw into v, one strict JSON value, and checks its text
// (CheckJSON). The text is checked after decoding: v holds what the body
// said even when its text is refused, so that the login can audit the
// username of a refused body.
func DecodeJSON(raw []byte, v any) error {
	if err := unmarshal(raw, v); err != nil {
		return err
	}
	return CheckJSON(raw)
}

// ReadJSON reads a body and decodes it with DecodeJSON. optional accepts
// an empty (or blank) body, leaving v as it is. The reader should be bounded
// (http.MaxBytesReader): its *http.MaxBytesError is returned unwrapped.
func ReadJSON(r io.Reader, v any, optional bool) error {
	raw, err := ReadAll(r)
	if err != nil {
		return err
	}
	if optional && len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	return DecodeJSON(raw, v)
}

// ReadAll reads a body; a *http.MaxBytesError is returned as it is, other
// read errors (the client went away) wrap svcapi.ErrBadRequest.
func ReadAll(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(r)
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return raw, nil
	case errors.As(err, &maxErr):
		return nil, err
	}
	return nil, bad("read body: %v", err)
}
