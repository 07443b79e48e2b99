// Package sipreg is the client side of a SIP registration, shared by
// gbsim's devices and our uplinks to superior platforms: the expiry a
// registrar granted, and the digest challenge of a 401 or 407.
package sipreg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/digestauth"
)

// ErrNoChallenge is a 401 or 407 without a usable challenge.
var ErrNoChallenge = errors.New("sipreg: no digest challenge")

// Granted is the expiry, in seconds, of a 2xx to REGISTER: its Expires
// header, overridden by the Contact's expires parameter, else asked.
func Granted(res *sip.Response, asked int) int {
	granted := asked
	if h := res.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && v >= 0 {
			granted = v
		}
	}
	if c := res.Contact(); c != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				granted = n
			}
		}
	}
	return granted
}

// Challenge returns the answer to the challenge of a 401 (WWW-Authenticate)
// or 407 (Proxy-Authenticate).
func Challenge(res *sip.Response) (*digestauth.Answer, error) {
	name := "WWW-Authenticate"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name = "Proxy-Authenticate"
	}
	h := res.GetHeader(name)
	if h == nil {
		return nil, fmt.Errorf("%w: %d without %s", ErrNoChallenge, res.StatusCode, name)
	}
	a, err := digestauth.NewAnswer(h.Value())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChallenge, err)
	}
	return a, nil
}
