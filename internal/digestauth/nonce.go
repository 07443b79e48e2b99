package digestauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const (
	nonceTimeLen = 8
	nonceRandLen = 8
	nonceMACLen  = 12
	nonceRawLen  = nonceTimeLen + nonceRandLen + nonceMACLen
)

// Nonces issues and checks server nonces. A nonce carries its issue time and
// an HMAC under a per-process secret, so checking one needs no state, and a
// flood of unauthenticated REGISTERs costs no memory. Replays are caught by
// the guard, which only remembers nonces that have been used.
type Nonces struct {
	// TTL is how long a nonce is valid after it was issued.
	TTL time.Duration

	secret [32]byte

	mu   sync.Mutex
	used map[string]*nonceUse
	// sweepAt is when used is next cleaned of expired nonces.
	sweepAt time.Time
}

type nonceUse struct {
	lastNC  uint64
	expires time.Time
}

// Initialize draws the signing secret.
func (n *Nonces) Initialize() error {
	if _, err := rand.Read(n.secret[:]); err != nil {
		return fmt.Errorf("nonce secret: %w", err)
	}
	n.used = map[string]*nonceUse{}
	return nil
}

// Issue returns a new nonce valid for TTL from now.
func (n *Nonces) Issue(now time.Time) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTimeLen], uint64(now.UnixNano()))
	_, _ = rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceRandLen])
	copy(raw[nonceTimeLen+nonceRandLen:], n.mac(raw[:nonceTimeLen+nonceRandLen]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (n *Nonces) mac(b []byte) []byte {
	h := hmac.New(sha256.New, n.secret[:])
	h.Write(b)
	return h.Sum(nil)[:nonceMACLen]
}

// issued returns when the nonce was issued, or ErrBadNonce.
func (n *Nonces) issued(nonce string) (time.Time, error) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceRawLen {
		return time.Time{}, ErrBadNonce
	}
	if !hmac.Equal(raw[nonceTimeLen+nonceRandLen:], n.mac(raw[:nonceTimeLen+nonceRandLen])) {
		return time.Time{}, ErrBadNonce
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:nonceTimeLen]))), nil
}

// Use checks that c.Nonce was issued here and is not expired, and that its
// nonce count has not been seen before: with qop=auth nc must grow with
// every use (so a device may refresh with the same nonce and nc+1); without
// qop (RFC 2069) a nonce is good once. Call it only after the response
// verified, so a wrong password does not burn a count.
func (n *Nonces) Use(c Credentials, now time.Time) error {
	at, err := n.issued(c.Nonce)
	if err != nil {
		return err
	}
	expires := at.Add(n.TTL)
	if now.After(expires) {
		return ErrStaleNonce
	}
	var nc uint64 = 1
	if c.QOP != "" {
		if nc, err = strconv.ParseUint(c.NC, 16, 64); err != nil || nc == 0 {
			return fmt.Errorf("%w: nc %q", ErrMalformed, c.NC)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sweep(now)
	u := n.used[c.Nonce]
	if u == nil {
		n.used[c.Nonce] = &nonceUse{lastNC: nc, expires: expires}
		return nil
	}
	if nc <= u.lastNC {
		return ErrReplay
	}
	u.lastNC = nc
	return nil
}

// Check validates a nonce without using it: ErrBadNonce or ErrStaleNonce.
func (n *Nonces) Check(nonce string, now time.Time) error {
	at, err := n.issued(nonce)
	if err != nil {
		return err
	}
	if now.After(at.Add(n.TTL)) {
		return ErrStaleNonce
	}
	return nil
}

// sweep drops expired nonces, at most once per TTL/4, so the map stays the
// size of the nonces used within one TTL.
func (n *Nonces) sweep(now time.Time) {
	if now.Before(n.sweepAt) {
		return
	}
	for k, u := range n.used {
		if now.After(u.expires) {
			delete(n.used, k)
		}
	}
	n.sweepAt = now.Add(n.TTL / 4)
}

// Len returns the number of nonces remembered for replay detection.
func (n *Nonces) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.used)
}
