// Package playtoken issues and checks the signed, short-lived tokens that
// give a viewer access to a stream path: the console issues one per play
// call, mediagw checks it on every WHEP, HLS and RTSP request. A token is
// "v1.<payload>.<signature>": the payload is base64url JSON of Claims, the
// signature base64url HMAC-SHA256 of "v1.<payload>" under a secret shared by
// the two services. It cannot be forged or widened without the secret, and
// it expires on its own, so a leaked URL is worth minutes, not forever.
//
// Both parts are decoded strictly (unpadded base64url whose unused trailing
// bits are zero), so a token has exactly one valid spelling: a token that
// differs from an issued one in any character is refused, and a token can
// be recognised (in logs, in a revocation list) by its text.
package playtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
)

// MinSecretLen is the shortest accepted secret, in bytes.
const MinSecretLen = 32

// maxTokenLen bounds what Verify parses; real tokens are a few hundred bytes.
const maxTokenLen = 4096

// encoding is the one spelling of both parts of a token. Strict refuses
// non-zero padding bits in the last character: without it, "…A" and "…B"
// could decode to the same bytes and one token would have several texts.
var encoding = base64.RawURLEncoding.Strict()

// Rights a token can grant. A path's kind decides which one it needs: see
// RightFor.
const (
	RightLive     = "live"
	RightPlayback = "playback"
	RightDownload = "download"
)

// Sentinel errors of Verify.
var (
	ErrMalformed = errors.New("playtoken: malformed token")
	ErrSignature = errors.New("playtoken: bad signature")
	ErrExpired   = errors.New("playtoken: expired")
	ErrPath      = errors.New("playtoken: not valid for this path")
	ErrRight     = errors.New("playtoken: right not granted")
	ErrSecret    = errors.New("playtoken: secret too short")
)

// Claims is what a token says.
type Claims struct {
	// Subject names the viewer (user or system) for the audit log.
	Subject string `json:"sub,omitempty"`
	// Paths are the stream paths the token opens. An entry ending in "/*"
	// opens every path under it ("live/*").
	Paths []string `json:"paths"`
	// Rights are the granted rights (RightLive, ...).
	Rights []string `json:"rights"`
	// Expires is the Unix time after which the token is refused.
	Expires int64 `json:"exp"`
	// IssuedAt is the Unix time of issue. With Subject it names the token
	// for revocation: the console refuses the tokens of a user issued at or
	// before the user's revocation time (disabled, deleted, role or
	// department changed, sessions revoked), so a username deleted and
	// created again does not inherit the old account's tokens.
	IssuedAt int64 `json:"iat,omitempty"`
	// Service marks a token issued to a service (mediagw's play-token API,
	// the recorder) rather than to a console user: its Subject names no
	// account, so it is never checked for revocation.
	Service bool `json:"svc,omitempty"`
}

// Revocable reports whether the console decides on the token's revocation:
// it names a user (Subject) and is not a service token.
func (c Claims) Revocable() bool { return c.Subject != "" && !c.Service }

// Signer issues and verifies tokens with one secret.
type Signer struct {
	secret []byte
	// Leeway tolerates clock skew between the issuing and checking hosts.
	Leeway time.Duration
}

// NewSigner returns a Signer; the secret must have at least MinSecretLen bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("new play token signer: %w (%d bytes, need %d)", ErrSecret, len(secret), MinSecretLen)
	}
	return &Signer{secret: slices.Clone(secret), Leeway: 30 * time.Second}, nil
}

// Issue returns a token for c.
func (s *Signer) Issue(c Claims) (string, error) {
	if len(c.Paths) == 0 || len(c.Rights) == 0 || c.Expires == 0 {
		return "", fmt.Errorf("issue play token: %w: paths, rights and expiry are required", ErrMalformed)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issue play token: %w", err)
	}
	head := "v1." + encoding.EncodeToString(payload)
	return head + "." + encoding.EncodeToString(s.mac(head)), nil
}

func (s *Signer) mac(head string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(head))
	return m.Sum(nil)
}

// Parse checks the signature and expiry of token and returns its claims.
func (s *Signer) Parse(token string, now time.Time) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(token))
	}
	rest, ok := strings.CutPrefix(token, "v1.")
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown version", ErrMalformed)
	}
	// The decoder skips CR and LF even when strict: refuse every byte
	// outside the alphabet first, so that no other spelling gets through.
	if i := strings.IndexFunc(rest, func(r rune) bool { return !isTokenChar(r) }); i >= 0 {
		return Claims{}, fmt.Errorf("%w: character %q at %d", ErrMalformed, rest[i], i+3)
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	got, err := encoding.DecodeString(sig)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if !hmac.Equal(got, s.mac("v1."+payload)) {
		return Claims{}, ErrSignature
	}
	raw, err := encoding.DecodeString(payload)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if now.After(time.Unix(c.Expires, 0).Add(s.Leeway)) {
		return c, fmt.Errorf("%w at %s", ErrExpired, time.Unix(c.Expires, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// isTokenChar reports whether r may appear after "v1.": the base64url
// alphabet and the dot between the parts.
func isTokenChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// Verify parses token and checks that it opens path.
func (s *Signer) Verify(token, path string, now time.Time) (Claims, error) {
	c, err := s.Parse(token, now)
	if err != nil {
		return c, err
	}
	if !c.Allows(path) {
		return c, fmt.Errorf("%w: %s", ErrPath, path)
	}
	if need := RightFor(path); !slices.Contains(c.Rights, need) {
		return c, fmt.Errorf("%w: %s needs %q", ErrRight, path, need)
	}
	return c, nil
}

// Allows reports whether one of c.Paths matches path.
func (c Claims) Allows(path string) bool {
	for _, p := range c.Paths {
		if prefix, ok := strings.CutSuffix(p, "/*"); ok {
			if strings.HasPrefix(path, prefix+"/") {
				return true
			}
		} else if p == path {
			return true
		}
	}
	return false
}

// RightFor returns the right a stream path needs: playback/ and recording/
// paths (a device's and the platform's recordings) need RightPlayback,
// download/ paths RightDownload, everything else RightLive.
func RightFor(path string) string {
	switch streampath.KindOf(path) {
	case streampath.KindPlayback, streampath.KindRecording:
		return RightPlayback
	case streampath.KindDownload:
		return RightDownload
	}
	return RightLive
}
