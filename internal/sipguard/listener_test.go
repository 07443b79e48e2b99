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

// dialAndSend connects to l, writes n bytes and closes, and returns the
// server side of the connection.
func dialAndSend(t *testing.T, l *Listener, n int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
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

// TestListenerThrottles checks a connection over its budget is made to
// wait exactly for the excess, and another connection is not.
func TestListenerThrottles(t *testing.T) {
	clock := useFakeClock(t)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: tl, Rate: 10, Burst: 2, MessageSize: 100} // 1000 B/s, bursts of 200 B
	defer l.Close()

	fast := dialAndSend(t, l, 5000)
	calm := dialAndSend(t, l, 150)

	// The calm connection reads while the fast one is over budget.
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
