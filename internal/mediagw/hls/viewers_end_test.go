package hls

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
)

// TestViewers: the running viewer sessions are listed with their tokens
// (not the idle ones, nor one whose audit failed); ending one forgets it,
// so that its next request starts a new, audited session.
func TestViewers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	src := &mediatest.AuditingSource{}
	s := &Server{Source: src, IdleTimeout: 30 * time.Second, Now: func() time.Time { return now }}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admit := func(token string) {
		t.Helper()
		if err := s.admit(context.Background(), access.Request{Path: "live/1", Token: token, Protocol: access.ProtocolHLS, Remote: "192.0.2.7:5000"}); err != nil {
			t.Fatal(err)
		}
	}
	tokens := func() []string {
		var out []string
		for _, v := range s.Viewers() {
			out = append(out, v.Token)
		}
		slices.Sort(out)
		return out
	}
	admit("old")
	now = now.Add(time.Minute) // old is idle now
	admit("t1")
	admit("t2")
	src.Fail(access.ErrUnavailable)
	_ = s.admit(context.Background(), access.Request{Path: "live/1", Token: "refused", Protocol: access.ProtocolHLS, Remote: "192.0.2.7:5000"})
	src.Fail(nil)
	if got := tokens(); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Fatalf("viewers %v", got)
	}
	for _, v := range s.Viewers() {
		if v.Token == "t1" {
			v.End()
			v.End()
		}
	}
	if got := tokens(); !slices.Equal(got, []string{"t2"}) {
		t.Fatalf("after ending t1: %v", got)
	}
	opens := len(src.Opens())
	admit("t1")
	if len(src.Opens()) != opens+1 {
		t.Fatal("the ended viewer's next request started no new audited session")
	}
}
