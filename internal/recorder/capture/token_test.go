package capture_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capture"
)

// minter counts the tokens it mints, each valid for the TTL asked.
type minter struct {
	now   func() time.Time
	calls int
	req   mediaapi.PlayTokenRequest
	err   error
}

func (m *minter) PlayToken(_ context.Context, req mediaapi.PlayTokenRequest) (mediaapi.PlayToken, error) {
	if m.err != nil {
		return mediaapi.PlayToken{}, m.err
	}
	m.calls++
	m.req = req
	ttl, _ := time.ParseDuration(req.TTL)
	return mediaapi.PlayToken{Token: "t" + string(rune('0'+m.calls)), Expires: m.now().Add(ttl)}, nil
}

// TestTokens: one token serves until a minute before it expires; the
// request names the node and opens every live path.
func TestTokens(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := &minter{now: clock}
	tok := &capture.Tokens{Minter: m, Node: "rec-1", TTL: 10 * time.Minute, Now: clock}
	ctx := context.Background()
	for _, tc := range []struct {
		after     time.Duration
		want      string
		wantCalls int
	}{
		{0, "t1", 1},
		{8 * time.Minute, "t1", 1},
		{time.Minute, "t2", 2}, // 9 minutes in: within the last minute
		{5 * time.Minute, "t2", 2},
	} {
		now = now.Add(tc.after)
		got, err := tok.Token(ctx)
		if err != nil || got != tc.want || m.calls != tc.wantCalls {
			t.Fatalf("after %v: %q %v (calls %d), want %q (calls %d)", tc.after, got, err, m.calls, tc.want, tc.wantCalls)
		}
	}
	if m.req.Subject != "recorder:rec-1" || len(m.req.Paths) != 1 || m.req.Paths[0] != "live/*" ||
		len(m.req.Rights) != 1 || m.req.Rights[0] != "live" || m.req.TTL != "10m0s" {
		t.Errorf("request %+v", m.req)
	}
	m.err = errors.New("mediagw down")
	now = now.Add(time.Hour)
	if _, err := tok.Token(ctx); !errors.Is(err, m.err) {
		t.Errorf("err = %v", err)
	}
}

func TestObjectKey(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_123_456, time.FixedZone("CST", 8*3600))
	if got := capture.ObjectKey("34020000001320000001", at); got != "34020000001320000001/2026/03/03/210607.890.mp4" {
		t.Errorf("key %s", got)
	}
}
