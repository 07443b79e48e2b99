package revocation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

var t0 = time.Unix(1_800_000_000, 0)

// claims is a user's token issued at t0+iat seconds, valid for an hour.
func claims(user string, iat int64) playtoken.Claims {
	return playtoken.Claims{Subject: user, IssuedAt: t0.Unix() + iat, Expires: t0.Unix() + iat + 3600}
}

// fakeConsole answers like the console: the viewers whose user is in
// revoked (any issue time), or err.
type fakeConsole struct {
	mu      sync.Mutex
	revoked map[string]bool
	extra   []auditapi.Viewer // answered besides, asked or not
	err     error
	calls   [][]auditapi.Viewer
}

func (f *fakeConsole) CheckViewers(_ context.Context, vs []auditapi.Viewer) ([]auditapi.Viewer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(vs))
	if f.err != nil {
		return nil, f.err
	}
	out := slices.Clone(f.extra)
	for _, v := range vs {
		if f.revoked[v.User] {
			out = append(out, v)
		}
	}
	return out, nil
}

// asked returns the users asked about in call i, sorted.
func (f *fakeConsole) asked(i int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.calls) {
		return nil
	}
	var users []string
	for _, v := range f.calls[i] {
		users = append(users, fmt.Sprintf("%s@%d", v.User, v.IssuedAt.Unix()-t0.Unix()))
	}
	slices.Sort(users)
	return users
}

func (f *fakeConsole) ncalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// env is one test's watch, console and stream.
type env struct {
	t       *testing.T
	w       *Watch
	console *fakeConsole
	stream  *hub.Stream
	now     time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	h := &hub.Hub{}
	if err := h.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	st, err := h.Publish("live/1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, console: &fakeConsole{revoked: map[string]bool{}}, stream: st, now: t0}
	// The rounds are run by the test (round); the ticker never fires.
	e.w = &Watch{Checker: e.console, Tick: make(chan time.Time), Now: func() time.Time { return e.now }}
	if err := e.w.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.w.Close)
	return e
}

// reader attaches a reader holding c and tracks it.
func (e *env) reader(c playtoken.Claims) *hub.Reader {
	e.t.Helper()
	r, err := e.stream.AddReader("whep test")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.w.Track(r, c); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func closed(r *hub.Reader) bool { return errors.Is(r.Err(), hub.ErrReaderClosed) }

func TestRound(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"no viewer asks nothing", func(t *testing.T, e *env) {
			e.w.round()
			if n := e.console.ncalls(); n != 0 {
				t.Fatalf("%d calls without viewers", n)
			}
		}},
		{"revoked readers close, the others play on", func(t *testing.T, e *env) {
			alice, alice2, bob := e.reader(claims("alice", 1)), e.reader(claims("alice", 1)), e.reader(claims("bob", 1))
			svc := claims("recorder", 1)
			svc.Service = true
			sys := e.reader(svc)
			anon := e.reader(playtoken.Claims{Expires: t0.Unix() + 60}) // auth off: no subject
			e.console.revoked["alice"] = true
			e.w.round()
			if got := e.console.asked(0); !slices.Equal(got, []string{"alice@1", "bob@1"}) {
				t.Fatalf("asked %v: one question per token, users' tokens only", got)
			}
			if !closed(alice) || !closed(alice2) || closed(bob) || closed(sys) || closed(anon) {
				t.Fatalf("closed: alice %v %v, bob %v, service %v, anonymous %v", closed(alice), closed(alice2), closed(bob), closed(sys), closed(anon))
			}
			if err := e.w.Admit(claims("alice", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("the revoked token admitted: %v", err)
			}
			if err := e.w.Admit(claims("alice", 2)); err != nil {
				t.Fatalf("a newer token of alice refused: %v", err)
			}
			// Only bob's reader is watched: the others hold no user's token.
			if s := e.w.Stats(); s.Checks != 1 || s.Failed != 0 || s.Revoked != 1 || s.Closed != 2 || s.Tracked != 1 {
				t.Fatalf("stats %+v", s)
			}
		}},
		{"an unreachable console cuts nobody and is asked again", func(t *testing.T, e *env) {
			alice := e.reader(claims("alice", 1))
			if err := e.w.Admit(claims("carol", 1)); err != nil {
				t.Fatal(err)
			}
			e.console.revoked["alice"] = true
			e.console.err = errors.New("connection refused")
			e.w.round()
			if closed(alice) {
				t.Fatal("a viewer cut while the console is unreachable")
			}
			e.console.err = nil
			e.w.round()
			if got := e.console.asked(1); !slices.Equal(got, []string{"alice@1", "carol@1"}) {
				t.Fatalf("asked again %v", got)
			}
			if !closed(alice) {
				t.Fatal("the revoked viewer plays on once the console answers")
			}
			if s := e.w.Stats(); s.Checks != 2 || s.Failed != 1 {
				t.Fatalf("stats %+v", s)
			}
		}},
		{"tokens presented without a reader are asked once (HLS)", func(t *testing.T, e *env) {
			if err := e.w.Admit(claims("carol", 1)); err != nil {
				t.Fatal(err)
			}
			e.w.round()
			e.w.round() // not presented again: not asked again
			if n := e.console.ncalls(); n != 1 {
				t.Fatalf("%d calls, want 1", n)
			}
			if err := e.w.Admit(claims("carol", 1)); err != nil {
				t.Fatal(err)
			}
			e.console.revoked["carol"] = true
			e.w.round()
			if err := e.w.Admit(claims("carol", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("HLS request of a revoked token: %v", err)
			}
		}},
		{"ended readers are forgotten", func(t *testing.T, e *env) {
			r := e.reader(claims("alice", 1))
			r.Close()
			e.w.round()
			if n := e.console.ncalls(); n != 0 || e.w.Stats().Tracked != 0 {
				t.Fatalf("%d calls, %d tracked for an ended reader", n, e.w.Stats().Tracked)
			}
		}},
		{"answers about what was not asked are ignored", func(t *testing.T, e *env) {
			bob := e.reader(claims("bob", 1))
			e.console.extra = []auditapi.Viewer{{User: "bob", IssuedAt: t0.Add(2 * time.Second)}, {User: "mallory", IssuedAt: t0}}
			e.w.round()
			if closed(bob) || e.w.Stats().Revoked != 0 {
				t.Fatal("closed on an answer to another question")
			}
		}},
		{"many viewers are asked in batches", func(t *testing.T, e *env) {
			n := 2*auditapi.MaxViewers + 50
			for i := range n {
				if err := e.w.Admit(claims(fmt.Sprintf("u%d", i), 1)); err != nil {
					t.Fatal(err)
				}
			}
			e.w.round()
			total := 0
			for i := range e.console.ncalls() {
				k := len(e.console.asked(i))
				if k > auditapi.MaxViewers {
					t.Fatalf("call %d asks %d viewers", i, k)
				}
				total += k
			}
			if e.console.ncalls() != 3 || total != n {
				t.Fatalf("%d calls asking %d viewers, want 3 and %d", e.console.ncalls(), total, n)
			}
		}},
		{"a media open refused as revoked closes the token's readers", func(t *testing.T, e *env) {
			alice := e.reader(claims("alice", 1))
			e.w.Revoke(claims("alice", 1))
			if !closed(alice) {
				t.Fatal("reader still open")
			}
			r, err := e.stream.AddReader("rtsp test")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.w.Track(r, claims("alice", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("Track of a revoked token: %v", err)
			}
			r.Close()
		}},
		{"revocations are forgotten after their tokens expire", func(t *testing.T, e *env) {
			e.w.Revoke(claims("alice", 1))
			e.now = t0.Add(time.Hour + forgetAfter) // expiry at t0+1h+1s: still remembered
			e.w.round()
			if err := e.w.Admit(claims("alice", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("forgotten too early: %v", err)
			}
			e.now = e.now.Add(2 * time.Second)
			e.w.round()
			if err := e.w.Admit(claims("alice", 1)); err != nil {
				t.Fatalf("still remembered: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}

// TestRun: the rounds follow the ticks, and Close ends the goroutine.
func TestRun(t *testing.T) {
	h := &hub.Hub{}
	if err := h.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st, err := h.Publish("live/1")
	if err != nil {
		t.Fatal(err)
	}
	console := &fakeConsole{revoked: map[string]bool{"alice": true}}
	tick := make(chan time.Time)
	w := &Watch{Checker: console, Tick: tick}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	r, err := st.AddReader("whep test")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Track(r, claims("alice", 1)); err != nil {
		t.Fatal(err)
	}
	tick <- t0
	// The queue closes once the round has closed the reader.
	for range r.Units() {
	}
	w.Close()
	if !closed(r) {
		t.Fatalf("reader error %v", r.Err())
	}
	if err := (&Watch{}).Initialize(); err == nil {
		t.Fatal("a watch without a checker initialized")
	}
}
