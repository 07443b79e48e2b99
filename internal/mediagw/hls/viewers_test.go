package hls

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestViewerSessions: an HLS viewer (token, IP, path) is audited once when
// its session starts, however many requests it makes from however many
// connections; a new token, another IP or another path is another viewer;
// a viewer idle for IdleTimeout starts a new session; a failed audit
// starts none.
func TestViewerSessions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	src := &mediatest.AuditingSource{}
	s := &Server{Source: src, IdleTimeout: 30 * time.Second, Now: clock}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := func(token, remote, path string) access.Request {
		return access.Request{Path: path, Token: token, Protocol: access.ProtocolHLS, Remote: remote}
	}
	steps := []struct {
		name  string
		req   access.Request
		after time.Duration
		want  int // Opened calls so far
	}{
		{"first playlist", req("t1", "192.0.2.7:5000", "live/1"), 0, 1},
		{"next playlist, new connection", req("t1", "192.0.2.7:5001", "live/1"), time.Second, 1},
		{"segment", req("t1", "192.0.2.7:5001", "live/1"), 20 * time.Second, 1},
		{"within the idle timeout of the last request", req("t1", "192.0.2.7:5002", "live/1"), 29 * time.Second, 1},
		{"another token (a new play)", req("t2", "192.0.2.7:5002", "live/1"), 0, 2},
		{"another IP", req("t1", "198.51.100.9:5000", "live/1"), 0, 3},
		{"another path", req("t1", "192.0.2.7:5000", "live/2"), 0, 4},
		{"back after the idle timeout", req("t2", "192.0.2.7:5003", "live/1"), 31 * time.Second, 5},
		{"IPv6 viewer", req("t1", "[2001:db8::1]:5000", "live/1"), 0, 6},
		{"IPv6 viewer, other port", req("t1", "[2001:db8::1]:6000", "live/1"), 0, 6},
	}
	for _, st := range steps {
		advance(st.after)
		if err := s.admit(context.Background(), st.req); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := len(src.Opens()); got != st.want {
			t.Fatalf("%s: %d opens, want %d", st.name, got, st.want)
		}
	}
	// Live: t2 on live/1 (just back) and the IPv6 viewer; the others have
	// been idle for more than IdleTimeout.
	if n := liveSessions(s); n != 2 {
		t.Fatalf("%d viewer sessions, want 2", n)
	}

	// A failed audit refuses the request and starts no session.
	src.Fail(access.ErrUnavailable)
	if err := s.admit(context.Background(), req("t3", "192.0.2.7:5000", "live/1")); !errors.Is(err, access.ErrUnavailable) {
		t.Fatalf("failed audit: %v", err)
	}
	src.Fail(nil)
	if err := s.admit(context.Background(), req("t3", "192.0.2.7:5000", "live/1")); err != nil || len(src.Opens()) != 7 {
		t.Fatalf("after the failure: %v, %d opens", err, len(src.Opens()))
	}
	// Ended sessions are forgotten when a new one starts.
	advance(time.Hour)
	if err := s.admit(context.Background(), req("t4", "192.0.2.7:5000", "live/1")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	kept := len(s.viewers)
	s.mu.Unlock()
	if kept != 1 {
		t.Fatalf("%d viewer sessions kept, want 1", kept)
	}
}

// liveSessions counts the viewer sessions that have not ended.
func liveSessions(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	n := 0
	for _, v := range s.viewers {
		if now.Sub(v.last) < s.IdleTimeout {
			n++
		}
	}
	return n
}

// TestViewerSessionSharedAudit: the concurrent first requests of a viewer
// share one audit (the ones that come while it runs wait for it). The
// audit is released only once the three others wait for it, so none of
// them can find a session whose audit already finished.
func TestViewerSessionSharedAudit(t *testing.T) {
	src := &blockingOpen{release: make(chan struct{}), started: make(chan struct{})}
	s := &Server{Source: src}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := access.Request{Path: "live/1", Token: "t", Protocol: access.ProtocolHLS, Remote: "192.0.2.7:5000"}
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.admit(context.Background(), r) }()
	}
	<-src.started
	key := viewerKey{token: r.Token, ip: hostOf(r.Remote), path: r.Path}
	joined := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		if v := s.viewers[key]; v != nil {
			return v.joined
		}
		return 0
	}
	release := sync.OnceFunc(func() { close(src.release) })
	defer release() // on failure too: the requests end with the test
	// A request waits for its content at most requestWait.
	testsupport.Eventually(t, requestWait, "3 requests joined to the audit in flight", func() bool { return joined() >= 3 })
	release()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("shared outcome: %v", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d audits, want 1", n)
	}
}

// blockingOpen is a Source whose audit waits for release.
type blockingOpen struct {
	mediatest.AuditingSource
	release chan struct{}
	started chan struct{}
	once    sync.Once
	calls   atomic.Int64
}

func (b *blockingOpen) Opened(context.Context, access.Request) error {
	b.calls.Add(1)
	b.once.Do(func() { close(b.started) })
	<-b.release
	return nil
}
