package capture

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

// Minter mints play tokens: mediagw's internal API (*mediaapi.Client).
type Minter interface {
	PlayToken(ctx context.Context, req mediaapi.PlayTokenRequest) (mediaapi.PlayToken, error)
}

// Defaults of Tokens.
const (
	// DefaultTokenTTL is the lifetime asked for; a token is only checked
	// when a session opens, so one token serves many reconnects.
	DefaultTokenTTL = 30 * time.Minute
	// tokenMargin renews a token this long before it expires, so that a
	// reconnect never presents one that expires on the way.
	tokenMargin = time.Minute
)

// Tokens hands out the node's play token for live/* (subject
// recorder:<node>, right live), minting a new one before the old expires.
// Every Channel of a node shares one Tokens; safe for concurrent use.
type Tokens struct {
	// Minter mints the tokens.
	Minter Minter
	// Node names the recorder in the token's subject (audit rows).
	Node string
	// TTL is the lifetime asked for; 0 means DefaultTokenTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token returns a token valid for at least another minute.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	ttl := t.TTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && now().Add(tokenMargin).Before(t.expires) {
		return t.token, nil
	}
	pt, err := t.Minter.PlayToken(ctx, mediaapi.PlayTokenRequest{
		Paths:   []string{"live/*"},
		Rights:  []string{playtoken.RightLive},
		Subject: "recorder:" + t.Node,
		TTL:     ttl.String(),
	})
	if err != nil {
		return "", fmt.Errorf("play token: %w", err)
	}
	t.token, t.expires = pt.Token, pt.Expires
	return t.token, nil
}
