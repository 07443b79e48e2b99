// Package sender sends one hub stream to a superior platform the way a
// GB/T 28181 camera would: each access unit muxed into a PS pack (system
// header and PSM before every key frame), cut into RTP packets of the
// superior's SSRC, over UDP, or over TCP framed by RFC 4571 on a connection
// we open (the superior listens) or accept (it connects). Nothing is
// re-encoded: H.265 goes up as H.265.
package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// Transports of a sender.
const (
	// TransportUDP sends datagrams to Dest.
	TransportUDP = "udp"
	// TransportTCPConnect connects to Dest (the superior's a=setup:passive).
	TransportTCPConnect = "tcp-connect"
	// TransportTCPListen waits for the superior to connect (a=setup:active).
	TransportTCPListen = "tcp-listen"
)

// Errors of a sender.
var (
	// ErrConfig is a sender that cannot start as configured.
	ErrConfig = errors.New("sender: bad configuration")
	// ErrNoPeer is a TCP peer that never connected or could not be reached.
	ErrNoPeer = errors.New("sender: no TCP peer")
)

// Source is where the units come from: a hub reader.
type Source interface {
	Next(ctx context.Context) (hub.Unit, error)
	Close()
}

// Sender sends one stream to one destination.
type Sender struct {
	Source Source
	// SSRC of the RTP packets: the y= of the superior's SDP.
	SSRC uint32
	// Transport is TransportUDP, TransportTCPConnect or TransportTCPListen.
	Transport string
	// Dest is the superior's host:port (UDP and TCP connect).
	Dest string
	// LocalIP is the address we send from (and listen on).
	LocalIP string
	// AllowIPs, for TransportTCPListen, are the addresses that may connect:
	// a connection from elsewhere is closed and the wait goes on.
	AllowIPs []netip.Addr
	// ConnectTimeout bounds the TCP connect or the wait for the superior's
	// connection (default 10 s).
	ConnectTimeout time.Duration
	// RefusedTimeout ends a UDP sender whose packets the superior's host
	// has refused (ICMP port unreachable) all along for this long: its
	// port is closed, the session gone on its side (default 30 s).
	RefusedTimeout time.Duration
	Log            *slog.Logger
	// OnEnd is called once, on the sender's goroutine, when sending ended
	// by itself (the stream ended, the peer hung up); not after Close.
	OnEnd func(err error)

	udp *net.UDPConn
	ln  net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	closed atomic.Bool

	mu   sync.Mutex
	conn net.Conn

	packets, bytes, units atomic.Uint64
	writeErrors           atomic.Uint64

	// refusedSince and refusedLast bound the current run of refusals (the
	// sender's goroutine only).
	refusedSince, refusedLast time.Time
}

// refusedGap is how long without a refusal ends a run of them: the kernel
// reports one refusal per ICMP, so writes in between succeed even while
// the port stays closed.
const refusedGap = 2 * time.Second

// Initialize opens the socket (UDP) or the listener (TCP listen) and starts
// sending.
func (s *Sender) Initialize() error {
	if s.Source == nil {
		return fmt.Errorf("%w: no source", ErrConfig)
	}
	if s.ConnectTimeout <= 0 {
		s.ConnectTimeout = 10 * time.Second
	}
	if s.RefusedTimeout <= 0 {
		s.RefusedTimeout = 30 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	local := net.ParseIP(s.LocalIP)
	switch s.Transport {
	case TransportUDP:
		dst, err := net.ResolveUDPAddr("udp", s.Dest)
		if err != nil {
			return fmt.Errorf("%w: dest %q: %w", ErrConfig, s.Dest, err)
		}
		if s.udp, err = net.DialUDP("udp", &net.UDPAddr{IP: local}, dst); err != nil {
			return fmt.Errorf("sender: UDP to %s: %w", s.Dest, err)
		}
	case TransportTCPConnect:
		if _, _, err := net.SplitHostPort(s.Dest); err != nil {
			return fmt.Errorf("%w: dest %q: %w", ErrConfig, s.Dest, err)
		}
	case TransportTCPListen:
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: local})
		if err != nil {
			return fmt.Errorf("sender: listen: %w", err)
		}
		s.ln = ln
	default:
		return fmt.Errorf("%w: transport %q", ErrConfig, s.Transport)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	go s.run()
	return nil
}

// LocalAddr is where the packets come from (UDP), the port the superior
// connects to (TCP listen), or nil (TCP connect, before it connected).
func (s *Sender) LocalAddr() net.Addr {
	switch {
	case s.udp != nil:
		return s.udp.LocalAddr()
	case s.ln != nil:
		return s.ln.Addr()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return s.conn.LocalAddr()
	}
	return nil
}

// Stats returns the units, RTP packets and bytes sent.
func (s *Sender) Stats() (units, packets, bytes uint64) {
	return s.units.Load(), s.packets.Load(), s.bytes.Load()
}

// Close stops sending, closes the source and the connection.
func (s *Sender) Close() {
	s.closed.Store(true)
	s.cancel()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
	<-s.done
}

func (s *Sender) run() {
	defer close(s.done)
	err := s.send()
	s.Source.Close()
	if s.udp != nil {
		s.udp.Close()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	s.Log.Info("upward stream ended", "dest", s.Dest, "ssrc", s.SSRC, "err", err)
	if s.OnEnd != nil {
		s.OnEnd(err)
	}
}

// connect returns the function that writes one RTP packet.
func (s *Sender) connect() (func([]byte) error, error) {
	if s.udp != nil {
		return func(p []byte) error {
			_, err := s.udp.Write(p)
			// Nobody listening yet (ICMP port unreachable) is not the end:
			// the superior may open its port after its 200. Refused for
			// RefusedTimeout on end is: its session is gone.
			if errors.Is(err, syscall.ECONNREFUSED) {
				s.writeErrors.Add(1)
				now := time.Now()
				if s.refusedSince.IsZero() || now.Sub(s.refusedLast) > refusedGap {
					s.refusedSince = now
				}
				s.refusedLast = now
				if now.Sub(s.refusedSince) >= s.RefusedTimeout {
					return fmt.Errorf("%w: %s refused the packets for %s", ErrNoPeer, s.Dest, s.RefusedTimeout)
				}
				return nil
			}
			return err
		}, nil
	}
	var conn net.Conn
	var err error
	if s.ln != nil {
		stop := context.AfterFunc(s.ctx, func() { s.ln.Close() })
		_ = s.ln.(*net.TCPListener).SetDeadline(time.Now().Add(s.ConnectTimeout))
		for {
			conn, err = s.ln.Accept()
			if err != nil || s.allowed(conn.RemoteAddr()) {
				break
			}
			s.Log.Warn("connection from elsewhere than the superior refused", "remote", conn.RemoteAddr())
			conn.Close()
		}
		stop()
		s.ln.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: no connection within %s: %w", ErrNoPeer, s.ConnectTimeout, err)
		}
	} else {
		d := net.Dialer{Timeout: s.ConnectTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(s.LocalIP)}}
		if conn, err = d.DialContext(s.ctx, "tcp", s.Dest); err != nil {
			return nil, fmt.Errorf("%w: connect %s: %w", ErrNoPeer, s.Dest, err)
		}
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		return nil, s.ctx.Err()
	}
	w := rtptcp.NewWriter(conn)
	return w.WritePacket, nil
}

// send muxes and sends units until the source or the connection ends.
func (s *Sender) send() error {
	write, err := s.connect()
	if err != nil {
		return err
	}
	mux := &ps.Muxer{}
	pk := &ps.Packetizer{SSRC: s.SSRC}
	var buf, pkt []byte
	out := func(p *rtp.Packet) error {
		n := p.MarshalSize()
		if cap(pkt) < n {
			pkt = make([]byte, n)
		}
		pkt = pkt[:n]
		if _, err := p.MarshalTo(pkt); err != nil {
			return err
		}
		if err := write(pkt); err != nil {
			return err
		}
		s.packets.Add(1)
		s.bytes.Add(uint64(n))
		return nil
	}
	started := false
	for {
		u, err := s.Source.Next(s.ctx)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		switch {
		case u.Codec.IsVideo():
			if !started && !u.Keyframe {
				continue // a decoder needs a key frame (and its PSM) first
			}
			started = true
			mux.VideoCodec = u.Codec
			buf, err = mux.AppendVideo(buf[:0], u.PTS, u.DTS, u.Keyframe, u.Payload)
		case u.Codec.IsAudio() && started:
			mux.AudioCodec = u.Codec
			buf, err = mux.AppendAudio(buf[:0], u.PTS, u.Payload)
		default:
			continue
		}
		if err != nil {
			s.Log.Debug("unit not muxed", "codec", u.Codec, "err", err)
			continue
		}
		if err := pk.Visit(buf, uint32(u.PTS), out); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		s.units.Add(1)
	}
}

// allowed reports whether a connection from addr may take the stream.
func (s *Sender) allowed(addr net.Addr) bool {
	if len(s.AllowIPs) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && slices.Contains(s.AllowIPs, ap.Addr().Unmap())
}
