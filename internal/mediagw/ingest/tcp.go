package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// DefaultDialTimeout bounds TCPActive's connection attempt when DialTimeout
// is 0.
const DefaultDialTimeout = 5 * time.Second

// TCPPassive receives one stream over TCP on a port of its own (SDP
// "a=setup:passive" in our offer): it listens on a port from Ports, accepts
// the device's connection and reads RFC 4571 frames. The connection ending
// ends the Receiver with ErrDisconnected; a device that never connects ends
// it with ErrTimeout.
type TCPPassive struct {
	// Receiver is the stream's receiver, initialized by the caller.
	Receiver *Receiver
	// Ports is the range to take the port from.
	Ports *PortAllocator
	// IP is the address to listen on; "" means all.
	IP string
	// Log receives transport events; nil means slog.Default().
	Log *slog.Logger

	ln        net.Listener
	port      int
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Initialize binds a port and waits for the device in the background.
func (t *TCPPassive) Initialize() error {
	ln, port, err := bind(t.Ports, func(port int) (net.Listener, error) {
		return net.Listen("tcp", net.JoinHostPort(t.IP, strconv.Itoa(port)))
	})
	if err != nil {
		return fmt.Errorf("tcp passive receiver %s: %w", t.Receiver.Path, err)
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
	stop := context.AfterFunc(t.Receiver.ctx, func() { t.ln.Close() })
	defer stop()
	conn, err := t.ln.Accept()
	// One connection per stream (a=connection:new): stop listening.
	t.ln.Close()
	if err != nil {
		if !errors.Is(err, net.ErrClosed) {
			t.Receiver.end(fmt.Errorf("tcp port %d: accept: %w", t.port, err))
		}
		return
	}
	logger(t.Log).Debug("device connected", "path", t.Receiver.Path, "remote", conn.RemoteAddr().String())
	readRFC4571(t.Receiver, conn)
}

// TCPActive receives one stream over TCP from a device that listens (SDP
// "a=setup:passive" in the device's answer): it connects to Address and
// reads RFC 4571 frames. A failed dial or the connection ending ends the
// Receiver with an error wrapping ErrDisconnected.
type TCPActive struct {
	// Receiver is the stream's receiver, initialized by the caller.
	Receiver *Receiver
	// Address is the device's ip:port from its SDP answer.
	Address string
	// DialTimeout bounds the connection attempt; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
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
	ctx, cancel := context.WithTimeout(t.Receiver.ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.Address)
	if err != nil {
		t.Receiver.end(fmt.Errorf("tcp %s: dial: %w: %w", t.Address, ErrDisconnected, err))
		return
	}
	logger(t.Log).Debug("connected to device", "path", t.Receiver.Path, "remote", t.Address)
	readRFC4571(t.Receiver, conn)
}

// readRFC4571 feeds r from conn until either ends.
func readRFC4571(r *Receiver, conn net.Conn) {
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
			if errors.Is(err, net.ErrClosed) {
				return // closed because the receiver ended
			}
			r.end(fmt.Errorf("tcp %s: %w: %w", remote, ErrDisconnected, err))
			return
		}
		r.WritePacket(pkt)
	}
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
