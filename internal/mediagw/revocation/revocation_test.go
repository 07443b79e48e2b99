package revocation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

var (
	t0     = time.Unix(1_800_000_000, 0)
	signer = func() *playtoken.Signer {
		s, err := playtoken.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			panic(err)
		}
		return s
	}()
)

// claims is a user's token issued at t0+iat seconds, valid for an hour.
func claims(user string, iat int64) playtoken.Claims {
	return playtoken.Claims{
		Subject: user, Paths: []string{"live/*"}, Rights: []string{playtoken.RightLive},
		IssuedAt: t0.Unix() + iat, Expires: t0.Unix() + iat + 3600,
	}
}

func token(t *testing.T, c playtoken.Claims) string {
	t.Helper()
	tok, err := signer.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
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

// asked returns the viewers asked about in call i as user@iat, sorted.
func (f *fakeConsole) asked(i int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
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

// session is a fake viewer session; ended counts End calls.
type session struct {
	token string
	ended atomic.Int32
}

// output is a fake output with sessions.
type output struct {
	mu       sync.Mutex
	sessions []*session
}

func (o *output) add(tok string) *session {
	s := &session{token: tok}
	o.mu.Lock()
	o.sessions = append(o.sessions, s)
	o.mu.Unlock()
	return s
}

func (o *output) Viewers() []access.Viewer {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]access.Viewer, 0, len(o.sessions))
	for _, s := range o.sessions {
		if s.ended.Load() == 0 {
			out = append(out, access.Viewer{Token: s.token, End: func() { s.ended.Add(1) }})
		}
	}
	return out
}

// env is one test's watch, console and two outputs.
type env struct {
	t         *testing.T
	w         *Watch
	console   *fakeConsole
	whep, hls *output
	now       time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, console: &fakeConsole{revoked: map[string]bool{}}, whep: &output{}, hls: &output{}, now: t0}
	// The rounds are run by the test (round); the ticker never fires.
	e.w = &Watch{
		Checker: e.console, Signer: signer, Outputs: []Output{e.whep, e.hls},
		Tick: make(chan time.Time), Now: func() time.Time { return e.now },
	}
	if err := e.w.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.w.Close)
	return e
}

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
		{"the revoked users' sessions end, the others play on", func(t *testing.T, e *env) {
			aliceTok := token(t, claims("alice", 1))
			alice, alice2 := e.whep.add(aliceTok), e.hls.add(aliceTok)
			bob := e.whep.add(token(t, claims("bob", 1)))
			svc := claims("recorder", 1)
			svc.Service = true
			sys := e.hls.add(token(t, svc))
			anon := e.whep.add("")                // auth off
			forged := e.whep.add("v1.forged.sig") // not ours: never asked
			e.console.revoked["alice"] = true
			e.w.round()
			if got := e.console.asked(0); !slices.Equal(got, []string{"alice@1", "bob@1"}) {
				t.Fatalf("asked %v: one question per token, users' tokens only", got)
			}
			for name, c := range map[string]struct {
				s    *session
				want int32
			}{"alice whep": {alice, 1}, "alice hls": {alice2, 1}, "bob": {bob, 0}, "service": {sys, 0}, "anonymous": {anon, 0}, "forged": {forged, 0}} {
				if got := c.s.ended.Load(); got != c.want {
					t.Errorf("%s ended %d times, want %d", name, got, c.want)
				}
			}
			if err := e.w.Admit(claims("alice", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("the revoked token admitted: %v", err)
			}
			if err := e.w.Admit(claims("alice", 2)); err != nil {
				t.Fatalf("a newer token of alice refused: %v", err)
			}
			if s := e.w.Stats(); s != (Stats{Checks: 1, Revoked: 1, Ended: 2}) {
				t.Fatalf("stats %+v", s)
			}
		}},
		{"an expired token's viewer is still revocable", func(t *testing.T, e *env) {
			old := claims("alice", 1)
			e.now = t0.Add(2 * time.Hour)
			s := e.whep.add(token(t, old))
			e.console.revoked["alice"] = true
			e.w.round()
			if s.ended.Load() != 1 {
				t.Fatal("the viewer of an expired, revoked token plays on")
			}
		}},
		{"an unreachable console cuts nobody and is asked again", func(t *testing.T, e *env) {
			alice := e.whep.add(token(t, claims("alice", 1)))
			e.console.revoked["alice"] = true
			e.console.err = errors.New("connection refused")
			e.w.round()
			if alice.ended.Load() != 0 {
				t.Fatal("a viewer cut while the console is unreachable")
			}
			e.console.err = nil
			e.w.round()
			if alice.ended.Load() != 1 {
				t.Fatal("the revoked viewer plays on once the console answers")
			}
			if s := e.w.Stats(); s.Checks != 2 || s.Failed != 1 {
				t.Fatalf("stats %+v", s)
			}
		}},
		{"answers about what was not asked are ignored", func(t *testing.T, e *env) {
			bob := e.whep.add(token(t, claims("bob", 1)))
			e.console.extra = []auditapi.Viewer{{User: "bob", IssuedAt: t0.Add(2 * time.Second)}, {User: "mallory", IssuedAt: t0}}
			e.w.round()
			if bob.ended.Load() != 0 || e.w.Stats().Revoked != 0 {
				t.Fatal("ended on an answer to another question")
			}
		}},
		{"many viewers are asked in batches", func(t *testing.T, e *env) {
			n := 2*auditapi.MaxViewers + 50
			for i := range n {
				e.hls.add(token(t, claims(fmt.Sprintf("u%d", i), 1)))
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
		{"a media open refused as revoked ends the token's sessions", func(t *testing.T, e *env) {
			alice := e.whep.add(token(t, claims("alice", 1)))
			e.w.Revoke(claims("alice", 1)) // the console said so; it says nothing more
			if err := e.w.Admit(claims("alice", 1)); !errors.Is(err, ErrRevoked) {
				t.Fatalf("Admit of a revoked token: %v", err)
			}
			e.w.round()
			if alice.ended.Load() != 1 {
				t.Fatal("session still running")
			}
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
	console := &fakeConsole{revoked: map[string]bool{"alice": true}}
	out := &output{}
	s := out.add(token(t, claims("alice", 1)))
	tick := make(chan time.Time)
	w := &Watch{Checker: console, Signer: signer, Outputs: []Output{out}, Tick: tick}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	tick <- t0
	tick <- t0 // taken once the first round is over
	w.Close()
	if s.ended.Load() != 1 {
		t.Fatalf("ended %d times", s.ended.Load())
	}
	if err := (&Watch{Signer: signer}).Initialize(); !errors.Is(err, ErrInvalid) {
		t.Fatal("a watch without a checker initialized")
	}
}
