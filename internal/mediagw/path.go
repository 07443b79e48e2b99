package mediagw

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
)

// pathState is where a stream path is in its life. Only the path's own loop
// changes it, in setState, along the edges of transitions.
type pathState int

// The states of a path.
const (
	// stateNew: created for its first request, not handled yet.
	stateNew pathState = iota
	// stateNeeded: readers wait for the stream; sipserver is being asked to
	// start it, or said yes and its receiver has not come yet.
	stateNeeded
	// statePublishing: a receiver publishes the stream.
	statePublishing
	// stateIdle: the receiver still publishes, and sipserver was told that
	// nobody watched the stream for the idle timeout (it will end it).
	stateIdle
	// stateHeld: a download's receiver ended; its stream waits for its
	// reader (Gateway.DownloadHold) and the path stays taken meanwhile.
	stateHeld
	// stateClosed: nothing is left; the loop ends and the path is forgotten.
	stateClosed
)

func (s pathState) String() string {
	switch s {
	case stateNew:
		return "new"
	case stateNeeded:
		return "needed"
	case statePublishing:
		return "publishing"
	case stateIdle:
		return "idle"
	case stateHeld:
		return "held"
	case stateClosed:
		return "closed"
	}
	return fmt.Sprintf("pathState(%d)", int(s))
}

// transitions are the only moves a path makes.
var transitions = map[pathState][]pathState{
	stateNew:        {stateNeeded, statePublishing, stateClosed},
	stateNeeded:     {statePublishing, stateClosed},
	statePublishing: {stateIdle, stateHeld, stateClosed},
	stateIdle:       {stateHeld, stateClosed},
	stateHeld:       {stateClosed},
	stateClosed:     {},
}

// wantResult answers a reader waiting for a path's stream.
type wantResult struct {
	stream *hub.Stream
	err    error
}

// publishReq hands an open receiver to its path.
type publishReq struct {
	r     *receiver
	reply chan error
}

// path owns one stream path: its receiver, the readers waiting for it to be
// started on demand, the stream-needed call, the on-demand and download-hold
// timers and the idle report. Everything about the path happens in its one
// loop (run), so a callback about a stream the path no longer has (an idle
// report of a stream closed since) is recognised by the stream's identity,
// not guessed.
type path struct {
	name string
	gw   *Gateway

	want     chan chan<- wantResult
	publish  chan publishReq
	idle     chan *hub.Stream
	inspect  chan chan<- pathState
	neededCh chan error // the stream-needed call's answer; buffered
	done     chan struct{}

	// Owned by run; rcv is also read by others under gw.mu, so run writes
	// it under gw.mu.
	state    pathState
	rcv      *receiver
	waiters  []chan<- wantResult
	expire   timer // a started stream's receiver must come before it fires
	hold     timer // a held download's reader must come before it fires
	ready    <-chan struct{}
	attached <-chan struct{}
	shutdown bool
}

func newPath(g *Gateway, name string) *path {
	return &path{
		name: name, gw: g,
		want:     make(chan chan<- wantResult),
		publish:  make(chan publishReq),
		idle:     make(chan *hub.Stream),
		inspect:  make(chan chan<- pathState),
		neededCh: make(chan error, 1),
		done:     make(chan struct{}),
	}
}

// run is the path's loop; it ends once the path is closed.
func (p *path) run() {
	defer p.gw.wg.Done()
	for p.state != stateClosed {
		var rcvDone, streamDone, ctxDone <-chan struct{}
		switch p.state {
		case statePublishing, stateIdle:
			rcvDone = p.rcv.rcv.Done()
		case stateHeld:
			streamDone = p.rcv.stream.Done()
		}
		if !p.shutdown {
			ctxDone = p.gw.ctx.Done()
		}
		select {
		case reply := <-p.want:
			p.onWant(reply)
		case req := <-p.publish:
			p.onPublish(req)
		case s := <-p.idle:
			p.onIdle(s)
		case err := <-p.neededCh:
			p.onNeeded(err)
		case <-timerC(p.expire):
			p.onExpired()
		case <-p.ready:
			p.onReady()
		case <-rcvDone:
			p.onReceiverEnded()
		case <-p.attached:
			p.attached = nil
			stopTimer(&p.hold) // the reader takes it from here
		case <-timerC(p.hold):
			p.hold = nil
			p.gw.Log.Info("download dropped: no reader within the hold time", "path", p.name, "hold", p.gw.DownloadHold)
			p.rcv.stream.Close()
		case <-streamDone:
			p.onHoldDone()
		case <-ctxDone:
			p.onShutdown()
		case reply := <-p.inspect:
			reply <- p.state
		}
	}
	stopTimer(&p.expire)
	stopTimer(&p.hold)
	p.gw.forget(p)
	close(p.done)
}

// setState moves the path along one of its transitions.
func (p *path) setState(to pathState, why string) {
	from := p.state
	if !canMove(from, to) {
		// Not reachable by construction; said loudly if it ever is.
		p.gw.Log.Error("path state: transition not allowed", "path", p.name, "from", from, "to", to, "why", why)
	}
	p.state = to
	p.gw.Log.Debug("path state", "path", p.name, "from", from, "to", to, "why", why)
	if p.gw.onTransition != nil {
		p.gw.onTransition(p.name, from, to)
	}
}

func canMove(from, to pathState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// onWant: a reader waits for the stream (Gateway.stream found none).
func (p *path) onWant(reply chan<- wantResult) {
	switch p.state {
	case stateNew:
		p.waiters = append(p.waiters, reply)
		p.setState(stateNeeded, "a reader came")
		p.gw.callNeeded(p)
	case stateNeeded:
		p.waiters = append(p.waiters, reply)
	default: // publishing, idle, held: the stream is there
		reply <- wantResult{stream: p.rcv.stream}
	}
}

// onNeeded: sipserver answered the stream-needed call.
func (p *path) onNeeded(err error) {
	if p.state != stateNeeded {
		return // the receiver came before the answer
	}
	if err != nil {
		p.answer(wantResult{err: err})
		p.setState(stateClosed, "sipserver could not start it")
		return
	}
	// The receiver is open unless sipserver only accepted the call: the
	// readers wait for it, as long as a start may take.
	p.expire = p.gw.newTimer(p.gw.OnDemandWait)
}

// onExpired: sipserver started the stream but no receiver came.
func (p *path) onExpired() {
	p.expire = nil
	p.answer(wantResult{err: fmt.Errorf("%w: %s did not start (or closed as it started)", access.ErrUnavailable, p.name)})
	p.setState(stateClosed, "no receiver within the on-demand wait")
}

// onPublish: an open receiver publishes the path. Every request gets its
// answer here, whatever the state: the publisher waits for nothing else.
func (p *path) onPublish(req publishReq) {
	if p.gw.ctx.Err() != nil {
		// The gateway is closing (this loop may not have seen it yet): no
		// receiver opens during shutdown, as none would a moment later.
		req.reply <- fmt.Errorf("open receiver %s: %w", p.name, ErrClosed)
		return
	}
	switch p.state {
	case stateNew, stateNeeded:
	case stateHeld:
		if isClosed(p.rcv.stream.Done()) {
			// The held stream closed, which freed the path in the hub for
			// this receiver, and the loop took the request first: the
			// path ends now and the publisher asks its successor.
			p.onHoldDone()
			req.reply <- errPathEnded
			return
		}
		fallthrough
	default:
		req.reply <- fmt.Errorf("%w: %s (receiver %s)", mediaapi.ErrPathBusy, p.name, p.rcv.id)
		return
	}
	stopTimer(&p.expire)
	p.gw.mu.Lock()
	p.rcv = req.r
	p.gw.mu.Unlock()
	p.ready = req.r.stream.Ready()
	req.reply <- nil
	p.answer(wantResult{stream: req.r.stream})
	p.setState(statePublishing, "receiver "+req.r.id+" opened")
}

// onReady: the first keyframe (or enough audio) arrived.
func (p *path) onReady() {
	p.ready = nil
	st := p.rcv.stream.Stats()
	p.gw.Log.Info("stream ready", "path", p.name, "receiver", p.rcv.id, "codec", st.VideoCodec.String(),
		"width", st.Width, "height", st.Height)
	p.gw.emit(Event{
		Type: "stream.ready", Path: p.name, Receiver: p.rcv.id, VideoCodec: codecName(st.VideoCodec),
		Width: st.Width, Height: st.Height,
	})
}

// onIdle: the hub saw no reader on s for the idle timeout.
func (p *path) onIdle(s *hub.Stream) {
	if (p.state != statePublishing && p.state != stateIdle) || p.rcv.stream != s {
		// The idle stream is not this path's any more (it closed and the
		// path was opened again since the hub looked): nothing to say.
		p.gw.Log.Debug("stale idle report ignored", "path", p.name, "state", p.state)
		return
	}
	p.gw.emit(Event{Type: "stream.idle", Path: p.name})
	p.gw.signal(p.name, "idle", "", func(ctx context.Context, sig Signalling) error { return sig.StreamIdle(ctx, p.name) })
	p.setState(stateIdle, "no reader for the idle timeout")
}

// onReceiverEnded tears the receiver down. A live stream closes with it; a
// download's stream is ended and held for its reader.
func (p *path) onReceiverEnded() {
	g, r := p.gw, p.rcv
	g.stopTransport(r)
	p.ready = nil
	r.stream.End()
	g.mu.Lock()
	delete(g.receivers, r.id)
	byAPI := r.byAPI
	g.ended.add(r.rcv.Stats())
	g.mu.Unlock()
	close(r.ended)
	err := r.rcv.Err()
	reason := reasonOf(err)
	g.Log.Info("receiver closed", "path", p.name, "receiver", r.id, "reason", reason, "error", err, "held", r.held)
	if !byAPI {
		g.signal(p.name, "ended", reason, func(ctx context.Context, sig Signalling) error {
			return sig.StreamEnded(ctx, p.name, reason)
		})
	}
	p.rcv.endReason = reason
	if !r.held {
		p.onHoldDone()
		return
	}
	p.attached = r.stream.Attached()
	p.hold = g.newTimer(g.DownloadHold)
	if p.shutdown {
		r.stream.Close()
	}
	p.setState(stateHeld, "download ended, waiting for its reader")
}

// onHoldDone: the stream has closed (a live one with its receiver, a held
// one given to its reader, dropped or shut down): the path is free.
func (p *path) onHoldDone() {
	g, r := p.gw, p.rcv
	stopTimer(&p.hold)
	g.mu.Lock()
	g.releaseHoldLocked(r)
	p.rcv = nil
	g.mu.Unlock()
	g.emit(Event{Type: "stream.closed", Path: p.name, Receiver: r.id, Reason: r.endReason})
	p.setState(stateClosed, "stream closed")
}

// onShutdown: the gateway is closing. Waiting readers are let go; a
// receiver ends as Gateway.Close closes it, a held stream is closed.
func (p *path) onShutdown() {
	p.shutdown = true
	p.answer(wantResult{err: fmt.Errorf("%w: shutting down", access.ErrUnavailable)})
	stopTimer(&p.expire)
	switch p.state {
	case stateNew, stateNeeded:
		p.setState(stateClosed, "shutdown")
	case stateHeld:
		p.rcv.stream.Close()
	}
}

// answer gives every waiting reader res.
func (p *path) answer(res wantResult) {
	for _, w := range p.waiters {
		w <- res // buffered: a reader that gave up is not waited for
	}
	p.waiters = nil
}

// timer is a one-shot timer; Gateway.newTimer makes them, tests fire their own.
type timer interface {
	C() <-chan time.Time
	Stop()
}

type realTimer struct{ t *time.Timer }

func newRealTimer(d time.Duration) timer { return realTimer{time.NewTimer(d)} }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop()               { t.t.Stop() }

// timerC is t's channel; nil (never ready) without a timer.
func timerC(t timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

func stopTimer(t *timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
