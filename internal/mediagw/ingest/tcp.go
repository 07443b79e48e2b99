package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// DefaultDialTimeout bounds TCPActive's connection attempt when DialTimeout
// is 0.
const DefaultDialTimeout = 5 * time.Second

// DefaultHoldTimeout bounds how long TCPPassive holds a connection from an
// IP not allowed yet when HoldTimeout is 0.
const DefaultHoldTimeout = 5 * time.Second

// TCPPassive receives one stream over TCP on a port of its own (SDP
// "a=setup:passive" in our offer): it listens on a port from Ports, accepts
// the device's connection and reads RFC 4571 frames. When the connection
// drops, the port waits ReconnectGrace for the device to connect again
// (cameras do after a network blip), then ends the Receiver with
// ErrDisconnected; a device that never connects ends it with ErrTimeout.
//
// Only a connection from one of the Receiver's allowed IPs feeds the
// stream; others are closed and counted as foreign sources. One exception
// covers a device whose media IP is not its signalling IP: it may connect
// (on the 200 or the ACK) before sipserver adds the c= IP of its SDP answer
// to the allowed set. While the set given at open has not been replaced,
// one connection from another IP is held, unread, for at most HoldTimeout;
// the first SetAllowIPs decides on it (fed if its IP is then allowed, else
// closed and counted). A device connecting from an allowed IP meanwhile
// wins, and any other connection is closed at once.
type TCPPassive struct {
	// Receiver is the stream's receiver, initialized by the caller.
	Receiver *Receiver
	// Ports is the range to take the port from.
	Ports *PortAllocator
	// IP is the address to listen on; "" means all.
	IP string
	// ReconnectGrace is how long a dropped device may take to reconnect;
	// 0 ends the Receiver at the first drop.
	ReconnectGrace time.Duration
	// HoldTimeout bounds how long a connection from an IP not allowed yet
	// waits for the allowed set to be updated; 0 means DefaultHoldTimeout.
	HoldTimeout time.Duration
	// Log receives transport events; nil means slog.Default().
	Log *slog.Logger

	ln        net.Listener
	port      int
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// accepted is one result of the listener.
type accepted struct {
	conn net.Conn
	err  error
}

// errNoReconnect ends the wait for a dropped device after ReconnectGrace.
var errNoReconnect = errors.New("no reconnect")

// Initialize binds a port and waits for the device in the background.
func (t *TCPPassive) Initialize() error {
	ln, port, err := bind(t.Ports, func(port int) (net.Listener, error) {
		return net.Listen("tcp", net.JoinHostPort(t.IP, strconv.Itoa(port)))
	})
	if err != nil {
		return fmt.Errorf("tcp passive receiver %s: %w", t.Receiver.Path, err)
	}
	if t.HoldTimeout <= 0 {
		t.HoldTimeout = DefaultHoldTimeout
	}
	t.ln, t.port = ln, port
	t.wg.Add(1)
	go t.run()
	return nil
}

// Port returns the listening port, to put in the SDP.
func (t *TCPPassive) Port() int {
	return t.port
}

// Close stops the transport, ends the Receiver with ErrTransportClosed if
// it is still running and releases the port.
func (t *TCPPassive) Close() {
	t.closeOnce.Do(func() {
		t.Receiver.end(fmt.Errorf("tcp port %d: %w", t.port, ErrTransportClosed))
		t.ln.Close()
		t.wg.Wait()
		t.Ports.Release(t.port)
	})
}

func (t *TCPPassive) run() {
	defer t.wg.Done()
	// The listener is read by a goroutine of its own, so that waiting for
	// a connection can also wait for the allowed set and the timers.
	conns := make(chan accepted)
	stop := make(chan struct{})
	t.wg.Add(1)
	go t.acceptLoop(conns, stop)
	defer func() {
		close(stop)
		t.ln.Close() // ends the accept loop
	}()
	log := logger(t.Log)
	for n := 0; ; n++ {
		if n > 0 && t.ReconnectGrace <= 0 {
			return
		}
		// Only a reconnect is waited for with a deadline; the first
		// connection is bounded by the Receiver's timeout.
		conn, err := t.next(conns, n > 0)
		if err != nil {
			switch {
			case errors.Is(err, net.ErrClosed) || t.Receiver.ctx.Err() != nil:
			case errors.Is(err, errNoReconnect):
				t.Receiver.end(fmt.Errorf("tcp port %d: %w: no reconnect within %s", t.port, ErrDisconnected, t.ReconnectGrace))
			default:
				t.Receiver.end(fmt.Errorf("tcp port %d: accept: %w", t.port, err))
			}
			return
		}
		if n > 0 {
			t.Receiver.reconnected()
			log.Info("device reconnected", "path", t.Receiver.Path, "remote", conn.RemoteAddr().String())
		} else {
			log.Debug("device connected", "path", t.Receiver.Path, "remote", conn.RemoteAddr().String())
		}
		err = readRFC4571(t.Receiver, conn)
		if err == nil {
			return // the receiver ended
		}
		if t.ReconnectGrace <= 0 {
			t.Receiver.end(err)
			return
		}
		log.Warn("device connection lost, waiting for a reconnect", "path", t.Receiver.Path, "grace", t.ReconnectGrace, "error", err)
	}
}

// acceptLoop hands the listener's connections to run until the listener
// closes; one arriving after run stopped is closed.
func (t *TCPPassive) acceptLoop(out chan<- accepted, stop <-chan struct{}) {
	defer t.wg.Done()
	for {
		conn, err := t.ln.Accept()
		select {
		case out <- accepted{conn, err}:
		case <-stop:
			if conn != nil {
				conn.Close()
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// next returns the device's connection: the next one from an allowed IP,
// or the held one (see TCPPassive) once the allowed set admits it. Others
// are closed and counted without touching the stream, and none of them
// extends the wait: a reconnect is waited for ReconnectGrace, the first
// connection as long as the Receiver runs.
func (t *TCPPassive) next(conns <-chan accepted, reconnect bool) (net.Conn, error) {
	var grace <-chan time.Time
	if reconnect {
		timer := time.NewTimer(t.ReconnectGrace)
		defer timer.Stop()
		grace = timer.C
	}
	var (
		held     net.Conn
		decided  <-chan struct{}
		holdDone <-chan time.Time
		holdTmr  *time.Timer
	)
	// drop closes the held connection, counted as a foreign source.
	drop := func(why string) {
		t.Receiver.refuseConn(remoteAddrPort(held), why)
		held.Close()
		holdTmr.Stop()
		held, decided, holdDone = nil, nil, nil
	}
	defer func() {
		if held != nil {
			held.Close() // the receiver ended while it was held
			holdTmr.Stop()
		}
	}()
	for {
		select {
		case a := <-conns:
			if a.err != nil {
				return nil, a.err
			}
			switch v, ch := t.Receiver.admitConn(remoteAddrPort(a.conn), held == nil); v {
			case connAccepted:
				if held != nil {
					drop("the device connected from an allowed IP")
				}
				return a.conn, nil
			case connHeld:
				held, decided = a.conn, ch
				holdTmr = time.NewTimer(t.HoldTimeout)
				holdDone = holdTmr.C
			default:
				a.conn.Close()
			}
		case <-decided:
			c := held
			holdTmr.Stop()
			held, decided, holdDone = nil, nil, nil
			// The set was replaced: accepted now, or refused for good
			// (and counted).
			if v, _ := t.Receiver.admitConn(remoteAddrPort(c), false); v == connAccepted {
				return c, nil
			}
			c.Close()
		case <-holdDone:
			drop(fmt.Sprintf("the allowed set was not updated within %s", t.HoldTimeout))
		case <-grace:
			return nil, errNoReconnect
		case <-t.Receiver.ctx.Done():
			return nil, net.ErrClosed
		}
	}
}

// TCPActive receives one stream over TCP from a device that listens (SDP
// "a=setup:passive" in the device's answer): it connects to Address and
// reads RFC 4571 frames. When the connection drops it redials for
// ReconnectGrace; a failed first dial or a drop without a reconnect ends the
// Receiver with an error wrapping ErrDisconnected.
type TCPActive struct {
	// Receiver is the stream's receiver, initialized by the caller.
	Receiver *Receiver
	// Address is the device's ip:port from its SDP answer.
	Address string
	// DialTimeout bounds the connection attempt; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ReconnectGrace is how long to keep redialing after a drop; 0 ends
	// the Receiver at the first drop.
	ReconnectGrace time.Duration
	// Log receives transport events; nil means slog.Default().
	Log *slog.Logger

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Initialize starts connecting in the background, so that a slow device
// does not hold up the caller (usually the SIP dialog).
func (t *TCPActive) Initialize() error {
	t.wg.Add(1)
	go t.run()
	return nil
}

// Close stops the transport and ends the Receiver with ErrTransportClosed
// if it is still running.
func (t *TCPActive) Close() {
	t.closeOnce.Do(func() {
		t.Receiver.end(fmt.Errorf("tcp %s: %w", t.Address, ErrTransportClosed))
		t.wg.Wait()
	})
}

func (t *TCPActive) run() {
	defer t.wg.Done()
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	log := logger(t.Log)
	var dropped time.Time // zero until the first drop
	for {
		ctx, cancel := context.WithTimeout(t.Receiver.ctx, timeout)
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", t.Address)
		cancel()
		if err != nil {
			if t.Receiver.ctx.Err() != nil {
				return
			}
			if dropped.IsZero() || time.Since(dropped) >= t.ReconnectGrace {
				t.Receiver.end(fmt.Errorf("tcp %s: dial: %w: %w", t.Address, ErrDisconnected, err))
				return
			}
			select { // redial at most every 200 ms
			case <-time.After(200 * time.Millisecond):
			case <-t.Receiver.ctx.Done():
				return
			}
			continue
		}
		if !dropped.IsZero() {
			t.Receiver.reconnected()
			log.Info("reconnected to device", "path", t.Receiver.Path, "remote", t.Address)
		} else {
			log.Debug("connected to device", "path", t.Receiver.Path, "remote", t.Address)
		}
		err = readRFC4571(t.Receiver, conn)
		if err == nil {
			return
		}
		if t.ReconnectGrace <= 0 {
			t.Receiver.end(err)
			return
		}
		log.Warn("device connection lost, redialing", "path", t.Receiver.Path, "grace", t.ReconnectGrace, "error", err)
		dropped = time.Now()
	}
}

// readRFC4571 feeds r from conn until either ends. It returns nil when the
// receiver ended, else the connection's error wrapping ErrDisconnected.
func readRFC4571(r *Receiver, conn net.Conn) error {
	defer conn.Close()
	stop := context.AfterFunc(r.ctx, func() { conn.Close() })
	defer stop()
	remote := conn.RemoteAddr().String()
	rd := rtptcp.NewReader(conn)
	var skipped uint64
	for {
		pkt, err := rd.ReadPacket()
		if s := rd.Stats().SkippedBytes; s != skipped {
			r.addSkipped(s-skipped, remote)
			skipped = s
		}
		if err != nil {
			if r.ctx.Err() != nil {
				return nil // closed because the receiver ended
			}
			return fmt.Errorf("tcp %s: %w: %w", remote, ErrDisconnected, err)
		}
		r.WritePacket(pkt)
	}
}

// remoteAddrPort returns a connection's remote address; an invalid one when
// it is not TCP/UDP (then only an empty allowed set accepts it).
func remoteAddrPort(c net.Conn) netip.AddrPort {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
