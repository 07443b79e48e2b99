package sipguard

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeClock replaces timeNow and sleep: time moves only when a throttled
// read sleeps, so the sleeps add up exactly to the budget overrun.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
	naps  int
}

func useFakeClock(t *testing.T) *fakeClock {
	c := &fakeClock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	timeNow = func() time.Time {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.now
	}
	sleep = func(d time.Duration) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.now = c.now.Add(d)
		c.slept += d
		c.naps++
	}
	t.Cleanup(func() { timeNow, sleep = time.Now, time.Sleep })
	return c
}

func (c *fakeClock) total() (time.Duration, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept, c.naps
}

// dialAndSend connects to l from 127.0.0.1, writes n bytes and closes, and
// returns the server side of the connection.
func dialAndSend(t *testing.T, l *Listener, n int) net.Conn {
	t.Helper()
	return dialFromAndSend(t, l, "127.0.0.1", n)
}

// dialFromAndSend is dialAndSend from the loopback address ip.
func dialFromAndSend(t *testing.T, l *Listener, ip string, n int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer c.Close()
		_, _ = c.Write(make([]byte, n))
	}()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestListenerThrottles checks a host over its budget is made to wait
// exactly for the excess, and another host is not.
func TestListenerThrottles(t *testing.T) {
	clock := useFakeClock(t)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: tl, Rate: 10, Burst: 2, MessageSize: 100} // 1000 B/s, bursts of 200 B
	defer l.Close()

	fast := dialAndSend(t, l, 5000)
	calm := dialFromAndSend(t, l, "127.0.0.2", 150)

	// The calm host reads while the fast one is over budget.
	if _, err := io.ReadFull(fast, make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	slept, naps := clock.total()
	if b, err := io.ReadAll(calm); err != nil || len(b) != 150 {
		t.Fatalf("calm: %d bytes, %v", len(b), err)
	}
	if s, n := clock.total(); s != slept || n != naps {
		t.Fatalf("calm connection waited %v", s-slept)
	}

	if b, err := io.ReadAll(fast); err != nil || len(b) != 2000 {
		t.Fatalf("fast: %d bytes, %v", len(b), err)
	}
	// 5000 bytes with 200 free cost 4.8 s at 1000 B/s.
	if s, _ := clock.total(); s < 4800*time.Millisecond-time.Microsecond || s > 4800*time.Millisecond+time.Microsecond {
		t.Fatalf("waited %v in all, want 4.8s", s)
	}
}

// TestListenerBudgetPerIP: many connections from one host share one
// budget, and the table forgets a host with its last connection.
func TestListenerBudgetPerIP(t *testing.T) {
	clock := useFakeClock(t)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: tl, Rate: 10, Burst: 2, MessageSize: 100} // 1000 B/s, bursts of 200 B
	defer l.Close()
	var conns []net.Conn
	for range 10 {
		conns = append(conns, dialAndSend(t, l, 200))
	}
	other := dialFromAndSend(t, l, "127.0.0.3", 10)
	if n := l.Sources(); n != 2 {
		t.Fatalf("%d sources, want 2", n)
	}
	for _, c := range conns {
		if b, err := io.ReadAll(c); err != nil || len(b) != 200 {
			t.Fatalf("%d bytes, %v", len(b), err)
		}
	}
	// 2000 bytes from one host with 200 free cost 1.8 s at 1000 B/s: ten
	// connections bought nothing over one.
	if s, _ := clock.total(); s < 1800*time.Millisecond-time.Microsecond {
		t.Fatalf("ten connections of one host waited %v in all, want ≥ 1.8s", s)
	}
	for _, c := range conns {
		c.Close()
		c.Close() // twice: released once
	}
	if n := l.Sources(); n != 1 {
		t.Fatalf("%d sources after the host closed its connections, want 1", n)
	}
	other.Close()
	if n := l.Sources(); n != 0 {
		t.Fatalf("%d sources, want 0", n)
	}
}

func TestListenerUnlimited(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: tl}
	defer l.Close()
	c := dialAndSend(t, l, 10)
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("Rate 0 wraps the connection: %T", c)
	}
}
