package sipguard

import (
	"net"
	"sync"
	"time"
)

// DefaultMessageSize is the Listener's bytes per message when MessageSize is not set:
// a keepalive MESSAGE is about 500 bytes, a catalog page 1-3 KiB.
const DefaultMessageSize = 2 << 10

// sleep waits before a throttled read; replaced by tests.
var sleep = time.Sleep

// Listener wraps the TCP listener handed to sipgo's ServeTCP. Each accepted
// connection gets its own byte budget of Rate×MessageSize bytes per second
// (bursts of Burst×MessageSize); when a connection has read more, its next
// Read first sleeps until the budget is repaid.
//
// Delaying reads rather than dropping data or closing keeps a busy but
// legitimate peer (a platform pushing a large catalog) connected and loses
// nothing: while sipgo's reader for that connection sleeps, the kernel's
// receive window fills and TCP flow control slows the sender down. Only the
// goroutine of that connection waits, so other connections are unaffected,
// and the parsing cost one peer can cause is bounded.
type Listener struct {
	// Listener is the TCP listener.
	Listener net.Listener
	// Rate is the sustained messages per second per connection; ≤ 0 means no limit.
	Rate float64
	// Burst is the number of messages a connection may send at once; less than 1 means 1.
	Burst int
	// MessageSize is the bytes counted as one message; 0 means DefaultMessageSize.
	MessageSize int
}

// Accept waits for a connection and returns it wrapped in its budget.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || l.Rate <= 0 {
		return c, err
	}
	size := l.MessageSize
	if size <= 0 {
		size = DefaultMessageSize
	}
	burst := float64(max(l.Burst, 1) * size)
	return &throttledConn{Conn: c, rate: l.Rate * float64(size), burst: burst, tokens: burst, last: timeNow()}, nil
}

// Close closes the listener.
func (l *Listener) Close() error { return l.Listener.Close() }

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.Listener.Addr() }

// throttledConn is a connection with a token bucket of bytes.
type throttledConn struct {
	net.Conn

	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64 // negative after a read over budget
	last   time.Time
}

// Read sleeps while the connection is over its budget, then reads.
func (c *throttledConn) Read(b []byte) (int, error) {
	if wait := c.refill(); wait > 0 {
		sleep(wait)
		c.refill()
	}
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.tokens -= float64(n)
	c.mu.Unlock()
	return n, err
}

// refill adds the tokens earned since the last call and returns how long
// to wait until the balance is back to zero.
func (c *throttledConn) refill() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := timeNow()
	if d := now.Sub(c.last); d > 0 {
		c.tokens = min(c.burst, c.tokens+d.Seconds()*c.rate)
	}
	c.last = now
	if c.tokens >= 0 {
		return 0
	}
	return time.Duration(-c.tokens / c.rate * float64(time.Second))
}
