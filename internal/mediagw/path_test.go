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
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
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

func (s *scriptedSip) SenderEnded(_ context.Context, id, reason string) error {
	s.record("sender ended " + id + " " + reason)
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
// scripted, timers manual, every transition seen, and a path's loop parked
// on a transition when the test says so.
type pathRig struct {
	t      *testing.T
	g      *Gateway
	sip    *scriptedSip
	timers chan *manualTimer
	moves  chan string

	mu   sync.Mutex
	park *parking
}

// parking stops a path's loop on its move to a state until released.
type parking struct {
	path    string
	to      pathState
	parked  chan struct{}
	release chan struct{}
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
		RTPTimeout: ingest.DefaultTimeout,
		newTimer: func(d time.Duration) timer {
			m := &manualTimer{d: d, c: make(chan time.Time, 1)}
			rig.timers <- m
			return m
		},
		onTransition: rig.moved,
	}
	if err := rig.g.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rig.g.Close)
	return rig
}

// moved is the gateway's onTransition: it records the move, then parks
// the loop there if the test asked for it.
func (r *pathRig) moved(path string, from, to pathState) {
	r.moves <- fmt.Sprintf("%s %s>%s", path, from, to)
	r.mu.Lock()
	pk := r.park
	if pk != nil && pk.path == path && pk.to == to {
		r.park = nil
	} else {
		pk = nil
	}
	r.mu.Unlock()
	if pk != nil {
		close(pk.parked)
		<-pk.release
	}
}

// parkAt makes the next move of path to state `to` stop its loop, with the
// path in its new state, until release is called. parked is closed once
// the loop stands there.
func (r *pathRig) parkAt(path string, to pathState) (parked <-chan struct{}, release func()) {
	pk := &parking{path: path, to: to, parked: make(chan struct{}), release: make(chan struct{})}
	r.mu.Lock()
	r.park = pk
	r.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(pk.release) }) }
	r.t.Cleanup(release) // a failed test must not leave the loop parked
	return pk.parked, release
}

// moveWait bounds every wait of these tests. Each move of a rig path
// follows a step of the test at once (its timers fire only when told):
// the longest a path may take to move is its receiver's RTP timeout, so a
// move not seen by then will not come.
func (r *pathRig) moveWait() time.Duration { return r.g.RTPTimeout }

// await receives from ch, failing the test (naming what) when nothing
// comes within moveWait.
func await[T any](r *pathRig, ch <-chan T, what string) T {
	r.t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(r.moveWait()):
		r.t.Fatalf("no %s within %s", what, r.moveWait())
		var zero T
		return zero
	}
}

// expect checks the next transitions, in order.
func (r *pathRig) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := await(r, r.moves, "transition "+w); got != w {
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

// openResult is what an Open started in the background returned.
type openResult struct {
	ri  mediaapi.Receiver
	err error
}

func (r *pathRig) openAsync(name string) <-chan openResult {
	res := make(chan openResult, 1)
	go func() {
		ri, err := r.g.Open(mediaapi.OpenRequest{Path: name, Transport: mediaapi.TransportUDP})
		res <- openResult{ri, err}
	}()
	return res
}

// registered reports whether n receivers are registered: an Open
// registers its receiver just before it hands it to the path's loop.
func (r *pathRig) registered(n int) func() bool {
	return func() bool {
		r.g.mu.Lock()
		defer r.g.mu.Unlock()
		return len(r.g.receivers) == n
	}
}

// TestPathReopenAsHeldStreamCloses: a download path opened again just
// after its held stream closed, before the path's loop saw the close. The
// loop, released with both the publish request and the closed stream
// before it, takes either first (select chooses at random); either way the
// Open is answered and publishes on the path's successor. The rounds take
// both orders: the publish first used to leave Open waiting forever.
func TestPathReopenAsHeldStreamCloses(t *testing.T) {
	const name, rounds = "download/d1", 8
	r := newPathRig(t)
	ri := r.open(name)
	r.expect(name + " new>publishing")
	for range rounds {
		st := r.streamOf(ri.ID)
		// Media to hold (an empty download closes at once).
		if err := st.WriteUnit(hub.Unit{Codec: ps.CodecG711A, Keyframe: true, Payload: []byte{0xd5}}); err != nil {
			t.Fatal(err)
		}
		parked, release := r.parkAt(name, stateHeld)
		if err := r.g.CloseReceiver(ri.ID); err != nil {
			t.Fatal(err)
		}
		r.expect(name + " publishing>held")
		await(r, parked, "loop parked in held")
		await(r, r.timers, "hold timer") // never fires here
		st.Close()                       // its reader has it all
		res := r.openAsync(name)
		testsupport.Eventually(t, r.moveWait(), "the new receiver registered", r.registered(1))
		release()
		got := await(r, res, "answer to Open")
		if got.err != nil {
			t.Fatalf("open after the held stream closed: %v", got.err)
		}
		r.expect(name+" held>closed", name+" new>publishing")
		ri = got.ri
	}
}

// TestPathOpenDuringClose: an Open whose receiver reaches its path as the
// gateway closes fails (ErrClosed) and leaves no receiver behind, whichever
// of the publish request, the shutdown and sipserver's answer the released
// loop takes first; Close returns without waiting for an RTP timeout.
func TestPathOpenDuringClose(t *testing.T) {
	r := newPathRig(t)
	parked, release := r.parkAt(livePath, stateNeeded)
	read := r.read(livePath)
	r.expect(livePath + " new>needed")
	await(r, parked, "loop parked in needed")
	opened := r.openAsync(livePath)
	testsupport.Eventually(t, r.moveWait(), "the receiver registered", r.registered(1))
	closed := make(chan struct{})
	go func() {
		r.g.Close()
		close(closed)
	}()
	await(r, r.g.ctx.Done(), "shutdown begun")
	release()
	if got := await(r, opened, "answer to Open"); !errors.Is(got.err, ErrClosed) {
		t.Fatalf("open during close: %+v, want %v", got, ErrClosed)
	}
	if got := await(r, read, "answer to the reader"); !errors.Is(got.err, access.ErrUnavailable) {
		t.Fatalf("reader got %+v", got)
	}
	r.expect(livePath + " needed>closed")
	await(r, closed, "Close to return")
	if !r.registered(0)() {
		t.Fatal("a receiver is left after Close")
	}
}

// TestPathAnswersEveryPublish: the loop's handler answers a publish
// request in every state, so a publisher never waits for nothing.
func TestPathAnswersEveryPublish(t *testing.T) {
	cases := []struct {
		name       string
		state      pathState
		heldClosed bool // the held stream has closed
		closing    bool // the gateway's Close has begun
		want       error
		after      pathState
	}{
		{"new", stateNew, false, false, nil, statePublishing},
		{"needed", stateNeeded, false, false, nil, statePublishing},
		{"publishing", statePublishing, false, false, mediaapi.ErrPathBusy, statePublishing},
		{"idle", stateIdle, false, false, mediaapi.ErrPathBusy, stateIdle},
		{"held", stateHeld, false, false, mediaapi.ErrPathBusy, stateHeld},
		{"held stream closed", stateHeld, true, false, errPathEnded, stateClosed},
		{"new while closing", stateNew, false, true, ErrClosed, stateNew},
		{"needed while closing", stateNeeded, false, true, ErrClosed, stateNeeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newPathRig(t)
			// A path whose loop does not run: the test is its loop.
			p := newPath(r.g, "download/d1")
			p.state = c.state
			if c.state != stateNew && c.state != stateNeeded {
				old, err := r.g.Hub.Publish("download/d0")
				if err != nil {
					t.Fatal(err)
				}
				p.rcv = &receiver{id: "old", stream: old}
				if c.heldClosed {
					old.Close()
				}
			}
			if c.closing {
				r.g.cancel()
			}
			st, err := r.g.Hub.Publish(p.name)
			if err != nil {
				t.Fatal(err)
			}
			req := publishReq{r: &receiver{id: "new", stream: st}, reply: make(chan error, 1)}
			p.onPublish(req)
			select {
			case err := <-req.reply:
				if !errors.Is(err, c.want) {
					t.Fatalf("answer %v, want %v", err, c.want)
				}
			default:
				t.Fatal("no answer")
			}
			if p.state != c.after {
				t.Fatalf("state %s, want %s", p.state, c.after)
			}
		})
	}
}
