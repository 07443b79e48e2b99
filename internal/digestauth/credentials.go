package digestauth

import (
	"crypto/md5" //nolint:gosec // SIP digest is MD5 by definition (RFC 3261 §22.4)
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// Credentials are the parameters of an `Authorization: Digest …` header.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	// QOP is "auth" or "" (the RFC 2069 form, without cnonce and nc).
	QOP    string
	NC     string
	CNonce string
	Opaque string
}

// maxHeader bounds what ParseAuthorization reads; real headers are ~300 bytes.
const maxHeader = 4096

// ParseAuthorization parses the value of an Authorization (or
// Proxy-Authorization) header with the Digest scheme.
func ParseAuthorization(h string) (Credentials, error) {
	var c Credentials
	if len(h) > maxHeader {
		return c, fmt.Errorf("%w: header of %d bytes", ErrMalformed, len(h))
	}
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("%w: scheme %q", ErrUnsupported, scheme)
	}
	for rest = strings.TrimSpace(rest); rest != ""; {
		var key, val string
		var err error
		key, val, rest, err = nextParam(rest)
		if err != nil {
			return c, err
		}
		switch strings.ToLower(key) {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = val
		case "algorithm":
			c.Algorithm = val
		case "qop":
			c.QOP = val
		case "nc":
			c.NC = val
		case "cnonce":
			c.CNonce = val
		case "opaque":
			c.Opaque = val
		}
	}
	return c, c.validate()
}

// nextParam splits `key=value` or `key="quoted value"` off s, followed by an
// optional comma.
func nextParam(s string) (key, val, rest string, err error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return "", "", "", fmt.Errorf("%w: parameter without value near %q", ErrMalformed, excerpt(s))
	}
	key = strings.TrimSpace(s[:eq])
	s = strings.TrimLeft(s[eq+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", "", fmt.Errorf("%w: unterminated quote in %s", ErrMalformed, key)
		}
		val, s = s[1:1+end], s[2+end:]
	} else {
		end := strings.IndexByte(s, ',')
		if end < 0 {
			end = len(s)
		}
		val, s = strings.TrimSpace(s[:end]), s[end:]
	}
	s = strings.TrimLeft(s, " \t")
	if s != "" {
		if s[0] != ',' {
			return "", "", "", fmt.Errorf("%w: expected ',' after %s", ErrMalformed, key)
		}
		s = strings.TrimLeft(s[1:], " \t")
	}
	return key, val, s, nil
}

func excerpt(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func (c Credentials) validate() error {
	switch {
	case c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "":
		return fmt.Errorf("%w: username, nonce, uri and response are required", ErrMalformed)
	case c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5"):
		return fmt.Errorf("%w: algorithm %q", ErrUnsupported, c.Algorithm)
	case c.QOP != "" && !strings.EqualFold(c.QOP, "auth"):
		return fmt.Errorf("%w: qop %q", ErrUnsupported, c.QOP)
	case c.QOP != "" && (c.NC == "" || c.CNonce == ""):
		return fmt.Errorf("%w: qop=auth without nc or cnonce", ErrMalformed)
	}
	return nil
}

// Verify reports whether the response matches password for a request with
// method, hashing the uri, nc and qop exactly as the client sent them.
func (c Credentials) Verify(method, password string) bool {
	ha1 := md5hex(c.Username + ":" + c.Realm + ":" + password)
	ha2 := md5hex(method + ":" + c.URI)
	var want string
	if c.QOP == "" {
		want = md5hex(ha1 + ":" + c.Nonce + ":" + ha2)
	} else {
		want = md5hex(ha1 + ":" + c.Nonce + ":" + c.NC + ":" + c.CNonce + ":" + c.QOP + ":" + ha2)
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// Challenge returns the value of a WWW-Authenticate header offering qop=auth
// with MD5; stale tells the client its credentials were right but the nonce
// expired, so it may retry without asking the user.
func Challenge(realm, nonce string, stale bool) string {
	s := `Digest realm="` + realm + `",nonce="` + nonce + `",qop="auth",algorithm=MD5`
	if stale {
		s += ",stale=true"
	}
	return s
}
