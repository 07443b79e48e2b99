package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordSink keeps what a poller hands it.
type recordSink struct {
	mu    sync.Mutex
	got   [][]byte
	from  []netip.AddrPort
	err   error
	after atomic.Bool // set once the entry is removed: no call may follow
	late  atomic.Int64
}

func (s *recordSink) datagram(b []byte, from netip.AddrPort) {
	if s.after.Load() {
		s.late.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, bytes.Clone(b))
	s.from = append(s.from, from)
}

func (s *recordSink) failed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *recordSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// waitCount waits until s has n datagrams; the limit, 5 000 poll
// intervals, only keeps a broken test from hanging.
func (s *recordSink) waitCount(t *testing.T, p *UDPPoller, n int) {
	t.Helper()
	deadline := time.Now().Add(5000 * p.Interval)
	for s.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d datagrams, want %d", s.count(), n)
		}
		time.Sleep(p.Interval)
	}
}

func newPoller(t *testing.T, shards int) *UDPPoller {
	t.Helper()
	p := &UDPPoller{Shards: shards, Batch: 4}
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// pollSocket binds a socket on 127.0.0.1, has p read it into a new
// recordSink, and returns the entry, the sink and a connection sending to
// the socket.
func pollSocket(t *testing.T, p *UDPPoller) (*udpEntry, *recordSink, *net.UDPConn) {
	t.Helper()
	sock, err := listenUDP("127.0.0.1:0", false, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sock.close)
	sink := &recordSink{}
	e, err := p.add(sock, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.remove(e) }) // before the socket closes
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(sock.localAddr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return e, sink, c
}

// TestUDPPollerSockets reads many sockets from two shards with small
// batches: every datagram reaches its socket's sink whole and in order, with
// its sender, the largest UDP datagram included.
func TestUDPPollerSockets(t *testing.T) {
	p := newPoller(t, 2)
	type socket struct {
		sock *udpSocket
		sink *recordSink
		from *net.UDPConn
		sent [][]byte
	}
	var socks []*socket
	addrs := []string{"127.0.0.1:0", ":0"} // IPv4 only, and dual stack
	if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err == nil {
		c.Close()
		addrs = append(addrs, "[::1]:0")
	}
	for i := range 12 {
		addr := addrs[i%len(addrs)]
		sock, err := listenUDP(addr, false, 1<<20)
		if err != nil {
			t.Fatalf("listen %s: %v", addr, err)
		}
		t.Cleanup(sock.close)
		s := &socket{sock: sock, sink: &recordSink{}}
		if _, err := p.add(sock, s.sink); err != nil {
			t.Fatal(err)
		}
		dst := sock.localAddr()
		if dst.Addr().IsUnspecified() {
			dst = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), dst.Port())
		}
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s.from = c
		socks = append(socks, s)
	}
	// More datagrams than a batch, so a socket is read several times a pass.
	for i, s := range socks {
		for j := range 10 {
			size := 20 + 100*j
			if i == 0 && j == 9 {
				size = 65507 // the largest IPv4 UDP payload
			}
			b := bytes.Repeat([]byte{byte(i), byte(j)}, size/2+1)[:size]
			s.sent = append(s.sent, b)
			if _, err := s.from.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, s := range socks {
		s.sink.waitCount(t, p, len(s.sent))
		s.sink.mu.Lock()
		for j, b := range s.sink.got {
			if !bytes.Equal(b, s.sent[j]) {
				t.Errorf("socket %d datagram %d: %d bytes, want %d", i, j, len(b), len(s.sent[j]))
			}
			want := s.from.LocalAddr().(*net.UDPAddr).AddrPort()
			if got := s.sink.from[j]; got.Addr().Unmap() != want.Addr().Unmap() || got.Port() != want.Port() {
				t.Errorf("socket %d datagram %d from %s, want %s", i, j, got, want)
			}
		}
		if s.sink.err != nil {
			t.Errorf("socket %d: %v", i, s.sink.err)
		}
		s.sink.mu.Unlock()
	}
	// A few sockets are read by one shard: each ticking shard costs its
	// wake-ups.
	for i, sh := range p.shards {
		sh.mu.Lock()
		n := len(sh.entries)
		sh.mu.Unlock()
		if want := []int{len(socks), 0}[i]; n != want {
			t.Errorf("shard %d reads %d sockets, want %d", i, n, want)
		}
	}
}

// TestUDPPollerSleep: a shard that read nothing for a while sleeps, and the
// next datagram wakes it.
func TestUDPPollerSleep(t *testing.T) {
	if !sleepSupported {
		t.Skip("no readiness notification here: an idle shard ticks")
	}
	p := newPoller(t, 1)
	_, sink, c := pollSocket(t, p)
	sh := p.shards[0]
	for i := range 3 {
		// The limit only keeps a broken test from hanging.
		deadline := time.Now().Add(1000 * idleAfter)
		for sh.sleeps.Load() <= int64(i) {
			if time.Now().After(deadline) {
				t.Fatalf("the shard did not sleep after %d datagrams", i)
			}
			time.Sleep(p.Interval)
		}
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		sink.waitCount(t, p, i+1)
	}
	// Asleep, the shard stays asleep: no tick, so no new idle spell.
	deadline := time.Now().Add(1000 * idleAfter)
	for sh.sleeps.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the shard did not sleep again")
		}
		time.Sleep(p.Interval)
	}
	time.Sleep(4 * idleAfter)
	if n := sh.sleeps.Load(); n != 4 {
		t.Fatalf("%d sleeps with nothing arriving, want 4: a sleep returned at once", n)
	}
}

// TestUDPPollerRemove: once remove returns, the sink is never called again,
// even with datagrams arriving all along.
func TestUDPPollerRemove(t *testing.T) {
	p := newPoller(t, 1)
	e, sink, c := pollSocket(t, p)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = c.Write([]byte("datagram"))
			time.Sleep(p.Interval / 10)
		}
	})
	sink.waitCount(t, p, 5)
	p.remove(e)
	sink.after.Store(true)
	n := sink.count()
	// Several passes of the shard go by; none may read the socket.
	for range 5 {
		time.Sleep(p.Interval)
	}
	close(stop)
	wg.Wait()
	if late := sink.late.Load(); late != 0 || sink.count() != n {
		t.Fatalf("%d datagrams handed over after remove", sink.count()-n)
	}
}

// TestUDPPollerClosed: a closed poller refuses sockets, and a bad setting
// is refused.
func TestUDPPollerClosed(t *testing.T) {
	p := newPoller(t, 1)
	p.Close()
	sock, err := listenUDP("127.0.0.1:0", false, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.close()
	if _, err := p.add(sock, &recordSink{}); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("add to a closed poller: %v", err)
	}
	for _, bad := range []*UDPPoller{{Interval: -1}, {Shards: -1}, {Batch: -1}} {
		if err := bad.Initialize(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestUDPMuxSockets: a shared port made of several sockets (SO_REUSEPORT on
// Linux) delivers every sender's stream whole, whichever socket the kernel
// gives it to.
func TestUDPMuxSockets(t *testing.T) {
	p := newPoller(t, 2)
	m := &UDPMux{Address: "127.0.0.1:0", Poller: p, Sockets: 4, Log: quiet}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := 4
	if !reusePortSupported {
		want = 1
	}
	if len(m.socks) != want {
		t.Fatalf("%d sockets, want %d", len(m.socks), want)
	}
	for _, s := range m.socks {
		if s.localAddr() != m.socks[0].localAddr() {
			t.Fatalf("socket on %s, the port is %s", s.localAddr(), m.socks[0].localAddr())
		}
	}
	// A second mux on the same port fails instead of joining the group and
	// taking half of the traffic.
	m2 := &UDPMux{Address: m.Addr().String(), Poller: p, Sockets: 4, Log: quiet}
	if err := m2.Initialize(); err == nil {
		m2.Close()
		t.Fatal("a second mux bound the port in use")
	}
	const streams = 12
	var sinks []*sink
	var srcs []*stream
	for i := range streams {
		ssrc := uint32(1000 + i)
		src := makeStream(t, nil, ssrc, 12, uint64(i+1))
		s := newSink(12)
		r := newReceiver(t, &Receiver{Path: fmt.Sprint("cam", i), SSRC: ssrc, Sink: s})
		if err := m.Register(r); err != nil {
			t.Fatal(err)
		}
		sinks, srcs = append(sinks, s), append(srcs, src)
	}
	for i := range streams {
		c := dialUDP(t, m.Addr().String()) // a source port each
		send(t, c, srcs[i].packets...)
	}
	for i := range streams {
		sinks[i].wait(t)
		if checkFrames(t, sinks[i].snapshot(), srcs[i]) == 0 {
			t.Fatalf("stream %d: no keyframe", i)
		}
	}
	if st := m.Stats(); st.UnknownSSRC != 0 || st.Invalid != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestUDPPollerSmallBuffer: a socket whose receive buffer the kernel capped
// below the request (net.core.rmem_max, without CAP_NET_ADMIN) draws one
// warning saying how to raise it, not one per socket.
func TestUDPPollerSmallBuffer(t *testing.T) {
	var logged bytes.Buffer
	p := &UDPPoller{Shards: 1, Log: slog.New(slog.NewTextHandler(&logged, nil))}
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 3 {
		sock, err := listenUDP("127.0.0.1:0", false, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		defer sock.close()
		asked, got := sock.readBuffer()
		if got < asked {
			t.Fatalf("asked for a %d-byte buffer, got %d as root or under rmem_max", asked, got)
		}
		sock.asked = 2 * got // as if capped
		e, err := p.add(sock, &recordSink{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.remove(e)
	}
	if n := strings.Count(logged.String(), "UDP receive buffers are smaller than asked"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logged.String())
	}
}
