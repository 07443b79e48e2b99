package sipguard_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/sipguard"
)

// safetyTimeout only stops a broken test from hanging; no assertion depends on it.
const safetyTimeout = 10 * time.Second

type datagram struct {
	data []byte
	from string
}

// guarded is a PacketConn on 127.0.0.1 read by a goroutine like sipgo's,
// with what it passes, drops and logs recorded.
type guarded struct {
	pc     *sipguard.PacketConn
	passed chan datagram
	drops  chan string

	mu  sync.Mutex
	log bytes.Buffer
}

func (g *guarded) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.log.Write(p)
}

func (g *guarded) logged() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.log.String()
}

func newGuarded(t *testing.T, bufSize int, configure func(*sipguard.PacketConn)) *guarded {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &guarded{passed: make(chan datagram, 1000), drops: make(chan string, 1000)}
	g.pc = &sipguard.PacketConn{
		Conn:   conn,
		Log:    slog.New(slog.NewTextHandler(g, nil)),
		OnDrop: func(reason string) { g.drops <- reason },
	}
	configure(g.pc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, bufSize)
		for {
			n, addr, err := g.pc.ReadFrom(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Error(err)
				}
				return
			}
			g.passed <- datagram{bytes.Clone(buf[:n]), addr.String()}
		}
	}()
	t.Cleanup(func() {
		g.pc.Close()
		<-done
	})
	return g
}

func client(t *testing.T) net.PacketConn {
	t.Helper()
	return clientAt(t, "127.0.0.1")
}

// clientAt is a UDP socket on the loopback address ip (any of 127/8).
func clientAt(t *testing.T, ip string) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(safetyTimeout)); err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, c net.PacketConn, to net.Addr, msg string) {
	t.Helper()
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
}

func receive(t *testing.T, c net.PacketConn) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func next[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safetyTimeout):
		t.Fatal("nothing received")
		panic("unreachable")
	}
}

// TestPacketConnBadInput checks bad requests are answered and dropped, and
// good messages and keepalives pass unchanged, in order.
func TestPacketConnBadInput(t *testing.T) {
	g := newGuarded(t, 4096, func(pc *sipguard.PacketConn) { pc.MaxMessageSize = 2048 })
	c := client(t)
	to := g.pc.LocalAddr()

	good := message()
	bad := message("CSeq: 20 INVITE")
	big := message("+X-Pad: " + strings.Repeat("x", 2000))
	huge := message("+X-Pad: " + strings.Repeat("x", 5000)) // cut to the 4096-byte buffer
	for _, m := range []string{bad, big, huge, good, "\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", good} {
		send(t, c, to, m)
	}

	for _, want := range []string{"SIP/2.0 400 Bad Request\r\n", "SIP/2.0 413 Request Entity Too Large\r\n", "SIP/2.0 413 "} {
		resp := receive(t, c)
		if !bytes.HasPrefix(resp, []byte(want)) || !bytes.Contains(resp, []byte("\r\nCall-ID: 1873316839@192.168.1.64\r\n")) {
			t.Fatalf("got %q, want %q", resp, want)
		}
		if err := sipguard.Check(resp, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{good, "\r\n\r\n", good} {
		if d := next(t, g.passed); string(d.data) != want || d.from != c.LocalAddr().String() {
			t.Fatalf("passed %q from %s, want %q", d.data, d.from, want)
		}
	}
	for _, want := range []string{sipguard.DropMalformed, sipguard.DropTooLarge, sipguard.DropTooLarge, sipguard.DropMalformed} {
		if got := next(t, g.drops); got != want {
			t.Fatalf("drop %q, want %q", got, want)
		}
	}
	// One warning with an excerpt for the source; the rest at debug level, not shown.
	if log := g.logged(); strings.Count(log, "level=WARN") != 1 || !strings.Contains(log, `excerpt="MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\\r\\nVia:`) ||
		!strings.Contains(log, "remote="+c.LocalAddr().String()) || !strings.Contains(log, "CSeq method") {
		t.Fatalf("log:\n%s", log)
	}
}

// TestPacketConnFlood checks a flooding host is cut to its burst, however
// many ports it sends from, while another host is unaffected. The rate is so
// low that no token comes back during the test, so the counts do not depend
// on timing.
func TestPacketConnFlood(t *testing.T) {
	g := newGuarded(t, 4096, func(pc *sipguard.PacketConn) { pc.Rate, pc.Burst = 1e-6, 5 })
	flooder, flooder2, other := client(t), client(t), clientAt(t, "127.0.0.2")
	to := g.pc.LocalAddr()
	msg := message()
	for i := range 50 {
		if i%2 == 0 {
			send(t, flooder, to, msg)
		} else {
			send(t, flooder2, to, msg)
		}
	}
	for range 5 {
		send(t, other, to, msg)
	}

	passed := map[string]int{}
	for range 10 {
		d := next(t, g.passed)
		if string(d.data) != msg {
			t.Fatalf("passed %q", d.data)
		}
		passed[d.from]++
	}
	for range 45 {
		if r := next(t, g.drops); r != sipguard.DropRate {
			t.Fatalf("drop %q", r)
		}
	}
	if passed[flooder.LocalAddr().String()]+passed[flooder2.LocalAddr().String()] != 5 || passed[other.LocalAddr().String()] != 5 {
		t.Fatalf("passed %v", passed)
	}
	if n := g.pc.Sources(); n != 2 {
		t.Fatalf("%d sources tracked, want 2 (one per IP)", n)
	}
	// A last datagram from a third host shows nothing else is queued.
	send(t, clientAt(t, "127.0.0.3"), to, "\r\n")
	if d := next(t, g.passed); string(d.data) != "\r\n" {
		t.Fatalf("passed %q", d.data)
	}
	select {
	case r := <-g.drops:
		t.Fatalf("extra drop %q", r)
	default:
	}
	if log := g.logged(); strings.Count(log, "over its rate") != 1 || !strings.Contains(log, "remote=127.0.0.1:") {
		t.Fatalf("log:\n%s", log)
	}
}
