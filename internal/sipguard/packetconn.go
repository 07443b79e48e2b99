package sipguard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxMessageSize is the PacketConn size limit when MaxMessageSize is not set.
const DefaultMaxMessageSize = 64 << 10

// timeNow is the clock, replaced by tests.
var timeNow = time.Now

// Drop reasons passed to OnDrop.
const (
	DropRate      = "rate"
	DropMalformed = "malformed"
	DropTooLarge  = "too_large"
)

// PacketConn wraps the UDP socket handed to sipgo's ServeUDP. Its ReadFrom
// returns only datagrams worth parsing: CRLF keepalives and messages that
// pass Check from sources within their rate. The rate is kept per source IP
// (per /64 for IPv6), not ip:port, so a flood from many ports of one host is
// throttled as one.
// A source over its rate is dropped silently (one warning per source IP
// and minute); a message failing
// Check gets a 400 or 413 from Reply when it is a request, and a warning
// with an excerpt (one per source and minute, the rest at debug level).
// Every drop is reported to OnDrop. Writes, deadlines and Close go straight
// to Conn, so one reader and any number of writers may use it at once.
//
// Set the fields before the first ReadFrom.
type PacketConn struct {
	// Conn is the socket.
	Conn net.PacketConn
	// MaxMessageSize is the largest datagram accepted; 0 means DefaultMaxMessageSize.
	// A datagram that fills the reader's buffer may have been cut and counts as too large.
	MaxMessageSize int
	// Rate and Burst limit the datagrams per second from one source IP; Rate ≤ 0 means no limit.
	Rate  float64
	Burst int
	// MaxSources bounds the number of source IPs whose rate is tracked;
	// 0 means DefaultMaxKeys.
	MaxSources int
	// Log receives the warnings; nil means slog.Default().
	Log *slog.Logger
	// OnDrop, if set, is called for every datagram dropped, with DropRate,
	// DropMalformed or DropTooLarge. It runs on the reading goroutine.
	OnDrop func(reason string)

	once     sync.Once
	maxSize  int
	log      *slog.Logger
	limiter  Limiter
	rateWarn Limiter // one warning per source and minute
	badWarn  Limiter
}

func (c *PacketConn) init() {
	c.limiter.Rate, c.limiter.Burst, c.limiter.MaxKeys = c.Rate, c.Burst, c.MaxSources
	c.rateWarn.Rate, c.rateWarn.Burst, c.rateWarn.MaxKeys = 1.0/60, 1, c.MaxSources
	c.badWarn.Rate, c.badWarn.Burst, c.badWarn.MaxKeys = 1.0/60, 1, c.MaxSources
	c.maxSize, c.log = c.MaxMessageSize, c.Log
	if c.maxSize <= 0 {
		c.maxSize = DefaultMaxMessageSize
	}
	if c.log == nil {
		c.log = slog.Default()
	}
}

// ReadFrom reads datagrams until one passes, and returns it.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.once.Do(c.init)
	for {
		n, addr, err := c.Conn.ReadFrom(b)
		if err != nil || c.pass(b, n, addr) {
			return n, addr, err
		}
	}
}

// pass decides about one datagram, answering or logging it if dropped.
func (c *PacketConn) pass(b []byte, n int, addr net.Addr) bool {
	now := timeNow()
	src := addr.String()
	ip := hostOf(addr)
	if !c.limiter.Allow(ip, now) {
		c.drop(DropRate)
		if c.rateWarn.Allow(ip, now) {
			c.log.Warn("SIP source over its rate, dropping its datagrams", "remote", src, "rate", c.Rate, "burst", c.Burst)
		}
		return false
	}
	msg := b[:n]
	if len(bytes.Trim(msg, "\r\n")) == 0 {
		return true // CRLF keepalive (RFC 5626 3.5.1), which sipgo skips
	}
	var err error
	if n == len(b) {
		err = fmt.Errorf("%w: datagram fills the %d-byte read buffer", ErrTooLarge, len(b))
	} else {
		err = Check(msg, c.maxSize)
	}
	if err == nil {
		return true
	}

	code, status, reason := 400, "Bad Request", DropMalformed
	if errors.Is(err, ErrTooLarge) {
		code, status, reason = 413, "Request Entity Too Large", DropTooLarge
	}
	answered := false
	if resp := Reply(msg, code, status); resp != nil {
		if _, werr := c.Conn.WriteTo(resp, addr); werr != nil {
			c.log.Debug("cannot answer bad SIP datagram", "remote", src, "err", werr)
		} else {
			answered = true
		}
	}
	c.drop(reason)
	level := slog.LevelDebug
	if c.badWarn.Allow(ip, now) {
		level = slog.LevelWarn
	}
	c.log.Log(context.Background(), level, "dropping bad SIP datagram", "remote", src, "reason", err,
		"answered", answered, "excerpt", escape(excerpt(msg)))
	return false
}

// Sources returns the number of source IPs whose rate is tracked.
func (c *PacketConn) Sources() int { return c.limiter.Len() }

// hostOf is the rate-limit key of a UDP or TCP address: its IPv4 address,
// or the /64 of an IPv6 one — a host gets a whole /64 and could otherwise
// rotate through it past the limit and churn the table.
func hostOf(addr net.Addr) string {
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		if h, _, err := net.SplitHostPort(addr.String()); err == nil {
			return h
		}
		return addr.String()
	}
	if v4 := ip.To4(); v4 != nil {
		return string(v4)
	}
	if len(ip) == net.IPv6len {
		return string(ip[:8])
	}
	return string(ip)
}

func (c *PacketConn) drop(reason string) {
	if c.OnDrop != nil {
		c.OnDrop(reason)
	}
}

// escape returns b as a Go string literal without the quotes: printable
// ASCII as is, everything else escaped, so a log line stays one line.
func escape(b []byte) string {
	q := strconv.QuoteToASCII(string(b))
	return q[1 : len(q)-1]
}

// WriteTo writes to Conn.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) { return c.Conn.WriteTo(b, addr) }

// Close closes Conn, which ends a pending ReadFrom.
func (c *PacketConn) Close() error { return c.Conn.Close() }

// LocalAddr returns Conn's local address.
func (c *PacketConn) LocalAddr() net.Addr { return c.Conn.LocalAddr() }

// SetDeadline sets Conn's read and write deadlines.
func (c *PacketConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(t) }

// SetReadDeadline sets Conn's read deadline.
func (c *PacketConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline sets Conn's write deadline.
func (c *PacketConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(t) }
