package mediagw

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// scriptedSip is sipserver as the state machine tests drive it: each
// stream-needed call waits for the test's answer; the other calls are
// recorded.
type scriptedSip struct {
	needed chan chan<- error
	mu     sync.Mutex
	calls  []string
}

func (s *scriptedSip) StreamNeeded(ctx context.Context, path string) error {
	s.record("needed " + path)
	reply := make(chan error, 1)
	s.needed <- reply
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *scriptedSip) StreamIdle(_ context.Context, path string) error {
	s.record("idle " + path)
	return nil
}

func (s *scriptedSip) StreamEnded(_ context.Context, path, reason string) error {
	s.record("ended " + path + " " + reason)
	return nil
}

func (s *scriptedSip) record(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func (s *scriptedSip) recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// manualTimer fires when the test says so.
type manualTimer struct {
	d time.Duration
	c chan time.Time
}

func (m *manualTimer) C() <-chan time.Time { return m.c }
func (m *manualTimer) Stop()               {}
func (m *manualTimer) fire()               { m.c <- time.Time{} }

// pathRig is a gateway whose paths are driven step by step: sipserver
// scripted, timers manual, every transition seen.
type pathRig struct {
	t      *testing.T
	g      *Gateway
	sip    *scriptedSip
	timers chan *manualTimer
	moves  chan string
}

func newPathRig(t *testing.T) *pathRig {
	t.Helper()
	rig := &pathRig{
		t: t, sip: &scriptedSip{needed: make(chan chan<- error, 4)},
		timers: make(chan *manualTimer, 4), moves: make(chan string, 64),
	}
	rig.g = &Gateway{
		Hub: mediatest.NewHub(t, nil), Ports: &ingest.PortAllocator{Min: 46100, Max: 46199}, ListenIP: "127.0.0.1",
		AuthOff: true, Signalling: rig.sip, OnDemandWait: time.Hour, DownloadHold: time.Hour, Log: mediatest.Log(t),
		newTimer: func(d time.Duration) timer {
			m := &manualTimer{d: d, c: make(chan time.Time, 1)}
			rig.timers <- m
			return m
		},
		onTransition: func(path string, from, to pathState) { rig.moves <- fmt.Sprintf("%s %s>%s", path, from, to) },
	}
	if err := rig.g.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rig.g.Close)
	return rig
}

// expect checks the next transitions, in order.
func (r *pathRig) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := <-r.moves; got != w {
			r.t.Fatalf("transition %q, want %q", got, w)
		}
	}
}

// state asks the path's loop where it is: once it answers, every event
// sent to the path before has been handled. A path gone is closed.
func (r *pathRig) state(name string) pathState {
	r.g.mu.Lock()
	p, ok := r.g.paths[name]
	r.g.mu.Unlock()
	if !ok {
		return stateClosed
	}
	reply := make(chan pathState, 1)
	select {
	case p.inspect <- reply:
		return <-reply
	case <-p.done:
		return stateClosed
	}
}

// read starts a reader waiting for name; its result arrives on the channel.
func (r *pathRig) read(name string) <-chan wantResult {
	res := make(chan wantResult, 1)
	go func() {
		st, err := r.g.stream(context.Background(), name)
		res <- wantResult{st, err}
	}()
	return res
}

func (r *pathRig) open(name string) mediaapi.Receiver {
	r.t.Helper()
	ri, err := r.g.Open(mediaapi.OpenRequest{Path: name, Transport: mediaapi.TransportUDP})
	if err != nil {
		r.t.Fatal(err)
	}
	return ri
}

func (r *pathRig) streamOf(id string) *hub.Stream {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	return r.g.receivers[id].stream
}

const livePath = "live/" + chanH264

// TestPathStates walks each life of a path through its state machine.
func TestPathStates(t *testing.T) {
	cases := []struct {
		name  string
		run   func(r *pathRig)
		calls []string // to sipserver, in order
	}{
		{"on demand, idle, closed by sipserver", func(r *pathRig) {
			res := r.read(livePath)
			r.expect(livePath + " new>needed")
			answer := <-r.sip.needed
			ri := r.open(livePath) // sipserver opens the receiver, then answers
			r.expect(livePath + " needed>publishing")
			answer <- nil
			if got := <-res; got.err != nil || got.stream != r.streamOf(ri.ID) {
				r.t.Fatalf("reader got %+v", got)
			}
			r.g.OnIdle(r.streamOf(ri.ID))
			r.expect(livePath + " publishing>idle")
			if err := r.g.CloseReceiver(ri.ID); err != nil {
				r.t.Fatal(err)
			}
			r.expect(livePath + " idle>closed")
		}, []string{"needed " + livePath, "idle " + livePath}},

		{"stream-needed refused", func(r *pathRig) {
			res := r.read(livePath)
			r.expect(livePath + " new>needed")
			(<-r.sip.needed) <- fmt.Errorf("offline: %w", access.ErrUnavailable)
			r.expect(livePath + " needed>closed")
			if got := <-res; !errors.Is(got.err, access.ErrUnavailable) {
				r.t.Fatalf("reader got %+v", got)
			}
		}, []string{"needed " + livePath}},

		{"started but no receiver came", func(r *pathRig) {
			res := r.read(livePath)
			r.expect(livePath + " new>needed")
			(<-r.sip.needed) <- nil
			tm := <-r.timers
			if tm.d != r.g.OnDemandWait {
				r.t.Fatalf("on-demand timer of %s, want %s", tm.d, r.g.OnDemandWait)
			}
			tm.fire()
			r.expect(livePath + " needed>closed")
			if got := <-res; !errors.Is(got.err, access.ErrUnavailable) {
				r.t.Fatalf("reader got %+v", got)
			}
		}, []string{"needed " + livePath}},

		{"receiver ends by itself", func(r *pathRig) {
			ri := r.open("live/self")
			r.expect("live/self new>publishing")
			r.g.mu.Lock()
			rc := r.g.receivers[ri.ID]
			r.g.mu.Unlock()
			rc.rcv.Close()
			r.expect("live/self publishing>closed")
		}, []string{"ended live/self closed"}},

		{"download held, no reader", func(r *pathRig) {
			ri := r.open("download/d1")
			r.expect("download/d1 new>publishing")
			// Media to hold (an empty download closes at once).
			if err := r.streamOf(ri.ID).WriteUnit(hub.Unit{Codec: ps.CodecG711A, Keyframe: true, Payload: []byte{0xd5}}); err != nil {
				r.t.Fatal(err)
			}
			if err := r.g.CloseReceiver(ri.ID); err != nil {
				r.t.Fatal(err)
			}
			r.expect("download/d1 publishing>held")
			// Still taken while held.
			if _, err := r.g.Open(mediaapi.OpenRequest{Path: "download/d1", Transport: mediaapi.TransportUDP}); !errors.Is(err, mediaapi.ErrPathBusy) {
				r.t.Fatalf("open of a held path: %v", err)
			}
			(<-r.timers).fire()
			r.expect("download/d1 held>closed")
			r.open("download/d1")
			r.expect("download/d1 new>publishing")
		}, nil},

		// The idle report of a stream the path no longer has is ignored by
		// construction (the stream is compared, not the receiver's age):
		// the path was closed and opened again since the hub looked.
		{"stale idle report", func(r *pathRig) {
			first := r.open("live/again")
			r.expect("live/again new>publishing")
			old := r.streamOf(first.ID)
			if err := r.g.CloseReceiver(first.ID); err != nil {
				r.t.Fatal(err)
			}
			r.expect("live/again publishing>closed")
			second := r.open("live/again")
			r.expect("live/again new>publishing")
			r.g.OnIdle(old)
			if s := r.state("live/again"); s != statePublishing {
				r.t.Fatalf("after a stale idle report: %s", s)
			}
			r.g.OnIdle(r.streamOf(second.ID))
			r.expect("live/again publishing>idle")
		}, []string{"idle live/again"}},

		{"idle report of a path with none", func(r *pathRig) {
			ri := r.open("live/gone")
			r.expect("live/gone new>publishing")
			st := r.streamOf(ri.ID)
			if err := r.g.CloseReceiver(ri.ID); err != nil {
				r.t.Fatal(err)
			}
			r.expect("live/gone publishing>closed")
			r.g.OnIdle(st)
			if s := r.state("live/gone"); s != stateClosed {
				r.t.Fatalf("state %s", s)
			}
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newPathRig(t)
			c.run(r)
			select {
			case m := <-r.moves:
				t.Fatalf("unexpected transition %q", m)
			default:
			}
			r.g.Close() // waits for the background calls
			if got := r.sip.recorded(); !slices.Equal(got, c.calls) {
				t.Fatalf("sipserver calls %q, want %q", got, c.calls)
			}
		})
	}
}

// TestPathTransitionsTable: the transitions are the documented ones, and
// closed is the end.
func TestPathTransitionsTable(t *testing.T) {
	cases := []struct {
		from, to pathState
		ok       bool
	}{
		{stateNew, stateNeeded, true},
		{stateNew, statePublishing, true},
		{stateNeeded, statePublishing, true},
		{stateNeeded, stateClosed, true},
		{stateNeeded, stateIdle, false},
		{statePublishing, stateIdle, true},
		{statePublishing, stateHeld, true},
		{statePublishing, stateNeeded, false},
		{stateIdle, statePublishing, false},
		{stateIdle, stateClosed, true},
		{stateHeld, stateClosed, true},
		{stateHeld, statePublishing, false},
		{stateClosed, stateNew, false},
		{stateClosed, statePublishing, false},
	}
	for _, c := range cases {
		if got := canMove(c.from, c.to); got != c.ok {
			t.Errorf("%s > %s allowed %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}
