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

// Listener wraps the TCP listener handed to sipgo's ServeTCP. The
// connections of one source IP (IPv6: one /64) share one byte budget of Rate×MessageSize
// bytes per second (bursts of Burst×MessageSize), so opening many
// connections buys a host no more than one; when they have read more, the
// next Read of any of them first sleeps until the budget is repaid.
//
// Delaying reads rather than dropping data or closing keeps a busy but
// legitimate peer (a platform pushing a large catalog) connected and loses
// nothing: while sipgo's reader for that connection sleeps, the kernel's
// receive window fills and TCP flow control slows the sender down. Only the
// goroutines of that host wait, so other hosts are unaffected, and the
// parsing cost one host can cause is bounded.
type Listener struct {
	// Listener is the TCP listener.
	Listener net.Listener
	// Rate is the sustained messages per second per source IP; ≤ 0 means no limit.
	Rate float64
	// Burst is the number of messages a source IP may send at once; less than 1 means 1.
	Burst int
	// MessageSize is the bytes counted as one message; 0 means DefaultMessageSize.
	MessageSize int

	mu      sync.Mutex
	budgets map[string]*budget // by source IP, while it has connections
}

// Accept waits for a connection and returns it wrapped in its host's budget.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || l.Rate <= 0 {
		return c, err
	}
	size := l.MessageSize
	if size <= 0 {
		size = DefaultMessageSize
	}
	key := hostOf(c.RemoteAddr())
	l.mu.Lock()
	if l.budgets == nil {
		l.budgets = map[string]*budget{}
	}
	b := l.budgets[key]
	if b == nil {
		burst := float64(max(l.Burst, 1) * size)
		b = &budget{rate: l.Rate * float64(size), burst: burst, tokens: burst, last: timeNow()}
		l.budgets[key] = b
	}
	b.conns++
	l.mu.Unlock()
	return &throttledConn{Conn: c, l: l, key: key, b: b}, nil
}

// release drops a closed connection from its host's budget, forgetting
// the budget with the host's last connection: the table holds only hosts
// that are connected.
func (l *Listener) release(key string, b *budget) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b.conns--; b.conns == 0 && l.budgets[key] == b {
		delete(l.budgets, key)
	}
}

// Sources returns the number of source IPs with open connections.
func (l *Listener) Sources() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.budgets)
}

// Close closes the listener.
func (l *Listener) Close() error { return l.Listener.Close() }

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.Listener.Addr() }

// budget is a token bucket of bytes shared by the connections of one host.
type budget struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64 // negative after a read over budget
	last   time.Time
	conns  int // guarded by Listener.mu
}

// throttledConn is a connection drawing on its host's budget.
type throttledConn struct {
	net.Conn
	l    *Listener
	key  string
	b    *budget
	once sync.Once
}

// Read sleeps while the host is over its budget, then reads.
func (c *throttledConn) Read(p []byte) (int, error) {
	if wait := c.b.refill(); wait > 0 {
		sleep(wait)
		c.b.refill()
	}
	n, err := c.Conn.Read(p)
	c.b.mu.Lock()
	c.b.tokens -= float64(n)
	c.b.mu.Unlock()
	return n, err
}

// Close closes the connection and leaves the host's budget.
func (c *throttledConn) Close() error {
	c.once.Do(func() { c.l.release(c.key, c.b) })
	return c.Conn.Close()
}

// refill adds the tokens earned since the last call and returns how long
// to wait until the balance is back to zero.
func (b *budget) refill() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := timeNow()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
