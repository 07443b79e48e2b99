package digestauth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/icholy/digest"
)

// Answer is the client side: the last challenge of a server (a platform
// we register to), reused for refreshes with an increasing nonce count
// until the server challenges again.
type Answer struct {
	chal *digest.Challenge
	nc   int
}

// NewAnswer parses the value of a WWW-Authenticate or Proxy-Authenticate
// header. Challenges with qop=auth and RFC 2069 ones (no qop) are both
// answered.
func NewAnswer(header string) (*Answer, error) {
	chal, err := digest.ParseChallenge(header)
	if err != nil {
		return nil, fmt.Errorf("digest challenge: %w", err)
	}
	return &Answer{chal: chal}, nil
}

// Stale reports whether the server said the nonce, not the password, was
// wrong.
func (a *Answer) Stale() bool { return a.chal.Stale }

// Authorization computes the Authorization header value for method and uri
// (the Request-URI exactly as sent). Without qop in the challenge it is the
// RFC 2069 form: no qop, nc or cnonce.
func (a *Answer) Authorization(method, uri, username, password string) (string, error) {
	a.nc++
	var b [8]byte
	_, _ = rand.Read(b[:])
	cred, err := digest.Digest(a.chal, digest.Options{
		Method:   method,
		URI:      uri,
		Username: username,
		Password: password,
		Count:    a.nc,
		Cnonce:   hex.EncodeToString(b[:]),
	})
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return cred.String(), nil
}
