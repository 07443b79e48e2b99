package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of UDPPoller.
const (
	// DefaultPollInterval is how often a UDPPoller reads its sockets: the
	// most a datagram waits in the socket before it is read.
	DefaultPollInterval = 3 * time.Millisecond
	// DefaultPollBatch is the number of datagrams one read takes.
	DefaultPollBatch = 64
	// maxBatchesPerSocket bounds one socket's share of a pass, so that a
	// flood on one port delays the others by a bounded amount.
	maxBatchesPerSocket = 256
	// idleAfter is how long a shard ticks without reading anything before
	// it sleeps until a datagram arrives.
	idleAfter = 25 * time.Millisecond
	// MinPollInterval is the shortest Interval: shorter, a busy shard spins.
	MinPollInterval = time.Millisecond
	// packSockets is how many sockets a shard takes before the next shard
	// is used: every ticking shard costs its wake-ups, so a few streams are
	// read by one.
	packSockets = 256
)

// errNoSleep: the system has no readiness notification the poller uses.
var errNoSleep = errors.New("ingest: no readiness notification")

// udpSink takes what a UDPPoller reads from one socket.
type udpSink interface {
	// datagram handles one datagram; b is reused after the call.
	datagram(b []byte, from netip.AddrPort)
	// failed reports a read error; the socket is not read again.
	failed(err error)
}

// UDPPoller reads many UDP sockets from a few goroutines ("shards", one per
// core by default). Every Interval a shard asks which of its sockets have
// datagrams waiting (a level-triggered epoll set on Linux, without
// blocking) and takes them with batched non-blocking reads (recvmmsg). A
// shard that read nothing for a while sleeps until a datagram arrives, and
// a shard takes packSockets sockets before the next one is used: each
// ticking shard costs its wake-ups.
//
// Why not a goroutine per socket blocked in a read: a camera sends about 200
// datagrams a second, and a blocked reader costs a thread wake-up and a
// system call for nearly every one of them; with hundreds of streams the
// wake-ups were the largest part of mediagw's CPU. Polling turns them into
// at most one wake-up per shard and interval and one system call per busy
// socket and interval, at the price of at most Interval of added latency. The kernel's
// socket buffer holds what arrives in between.
type UDPPoller struct {
	// Interval is how often each socket is read; 0 means
	// DefaultPollInterval.
	Interval time.Duration
	// Shards is the number of reading goroutines; 0 means GOMAXPROCS.
	Shards int
	// Batch is the number of datagrams one read takes; 0 means
	// DefaultPollBatch.
	Batch int
	// Log receives the poller's one warning; nil means slog.Default().
	Log *slog.Logger

	shards    []*pollShard
	capped    atomic.Bool // the buffer warning was logged
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// pollShard is one reading goroutine and the sockets it reads.
type pollShard struct {
	p     *UDPPoller
	batch *udpBatch
	wake  chan struct{}

	mu      sync.Mutex // held for a whole pass, so remove waits it out
	closed  bool       // the poller closed ready: add refuses, remove skips it
	entries []*udpEntry
	ready   *readySet
	sleeps  atomic.Int64 // times the shard went to sleep, for tests
}

// udpEntry is one socket read by a shard.
type udpEntry struct {
	shard  *pollShard
	sock   *udpSocket
	sink   udpSink
	failed bool // guarded by shard.mu
}

// Initialize starts the shards.
func (p *UDPPoller) Initialize() error {
	if p.Interval < 0 || (p.Interval > 0 && p.Interval < MinPollInterval) || p.Shards < 0 || p.Batch < 0 {
		return fmt.Errorf("udp poller: %w: interval %s, shards %d, batch %d", ErrInvalidConfig, p.Interval, p.Shards, p.Batch)
	}
	if p.Interval == 0 {
		p.Interval = DefaultPollInterval
	}
	if p.Shards == 0 {
		p.Shards = runtime.GOMAXPROCS(0)
	}
	if p.Batch == 0 {
		p.Batch = DefaultPollBatch
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	p.closing = make(chan struct{})
	for range p.Shards {
		ready, err := newReadySet()
		if err != nil {
			p.Close()
			return fmt.Errorf("udp poller: %w", err)
		}
		s := &pollShard{p: p, batch: newUDPBatch(p.Batch), wake: make(chan struct{}, 1), ready: ready}
		p.shards = append(p.shards, s)
		p.wg.Add(1)
		go s.run()
	}
	return nil
}

// Close stops the shards. The sockets are their owners' to close.
func (p *UDPPoller) Close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		for _, s := range p.shards {
			s.ready.interrupt()
		}
		p.wg.Wait()
		for _, s := range p.shards {
			s.mu.Lock()
			s.closed = true
			s.ready.close()
			s.mu.Unlock()
		}
	})
}

// add reads sock into sink until remove, from the first shard with fewer
// than packSockets sockets, or else the least busy one.
func (p *UDPPoller) add(sock *udpSocket, sink udpSink) (*udpEntry, error) {
	return p.addTo(-1, sock, sink)
}

// addTo is add on shard i (modulo the shards); -1 picks as add does.
func (p *UDPPoller) addTo(i int, sock *udpSocket, sink udpSink) (*udpEntry, error) {
	select {
	case <-p.closing:
		return nil, fmt.Errorf("udp poller: %w", ErrTransportClosed)
	default:
	}
	var s *pollShard
	if i >= 0 {
		s = p.shards[i%len(p.shards)]
	} else {
		least := -1
		for _, c := range p.shards {
			c.mu.Lock()
			n := len(c.entries)
			c.mu.Unlock()
			if n < packSockets {
				s = c
				break
			}
			if least < 0 || n < least {
				s, least = c, n
			}
		}
	}
	if asked, got := sock.readBuffer(); got < asked && !p.capped.Swap(true) {
		// Between two polls a socket holds what arrived: a key frame's
		// burst may not fit.
		p.Log.Warn("UDP receive buffers are smaller than asked: a large camera's key frames may be lost between two polls; "+
			"raise net.core.rmem_max (sysctl -w net.core.rmem_max=16777216) or give mediagw CAP_NET_ADMIN",
			"asked", asked, "got", got)
	}
	e := &udpEntry{shard: s, sock: sock, sink: sink}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("udp poller: %w", ErrTransportClosed)
	}
	if err := s.ready.add(e); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("udp poller: %w", err)
	}
	s.entries = append(s.entries, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return e, nil
}

// remove stops reading e's socket: once it returns, e's sink is not called
// again and the socket may be closed.
func (p *UDPPoller) remove(e *udpEntry) {
	s := e.shard
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.ready.remove(e)
	}
	for i, x := range s.entries {
		if x == e {
			s.entries = append(s.entries[:i], s.entries[i+1:]...)
			return
		}
	}
}

func (s *pollShard) run() {
	defer s.p.wg.Done()
	timer := time.NewTimer(s.p.Interval)
	defer timer.Stop()
	idlePasses := max(1, int(idleAfter/s.p.Interval))
	empty, canSleep := 0, true
	for {
		s.mu.Lock()
		none := len(s.entries) == 0
		s.mu.Unlock()
		switch {
		case none:
			// No socket: no wake-ups until one is added.
			select {
			case <-s.wake:
			case <-s.p.closing:
				return
			}
			empty = 0
		case empty >= idlePasses && canSleep:
			// Nothing arrived for a while: no ticks until something does.
			s.sleeps.Add(1)
			if err := s.ready.sleep(); errors.Is(err, errNoSleep) {
				canSleep = false // no readiness notification here: tick
			} else if err != nil {
				// Out of descriptors, say: tick for now, try again at the
				// next idle spell.
				s.p.Log.Warn("udp poller cannot sleep", "error", err)
			}
			empty = 0
		}
		timer.Reset(s.p.Interval)
		select {
		case <-timer.C:
		case <-s.p.closing:
			return
		}
		if s.pass() {
			empty = 0
		} else {
			empty++
		}
	}
}

// pass reads every socket of the shard that has datagrams waiting until it
// has none, and reports whether it read any.
func (s *pollShard) pass() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	ready, err := s.ready.ready()
	if err != nil {
		ready = s.entries // cannot happen with a valid epoll set; read them all
	}
	for _, e := range ready {
		if e.failed {
			continue
		}
		for range maxBatchesPerSocket {
			n, err := s.batch.read(e.sock)
			if err != nil {
				e.failed = true
				s.ready.remove(e) // an error keeps it ready: stop asking
				e.sink.failed(err)
				break
			}
			found = found || n > 0
			for i := range n {
				e.sink.datagram(s.batch.datagram(i))
			}
			if n < len(s.batch.slots) {
				break
			}
		}
	}
	return found
}
