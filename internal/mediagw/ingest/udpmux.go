package ingest

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// MuxStats are the counters of a UDPMux.
type MuxStats struct {
	// Packets is the number of datagrams routed to a receiver.
	Packets uint64
	// UnknownSSRC is the number of RTP packets of no registered SSRC.
	UnknownSSRC uint64
	// Invalid is the number of datagrams that were not RTP.
	Invalid uint64
}

// muxReadBuffer and portReadBuffer are the socket receive buffers asked for.
const (
	muxReadBuffer  = 16 << 20
	portReadBuffer = 1 << 20
)

// UDPMux receives many streams on one shared UDP port and routes packets to
// receivers by SSRC. Register a Receiver (with its SSRC set) before the
// device starts sending; packets of unknown SSRCs are counted and dropped.
// The Receiver checks the sender of each packet (its allowed IPs, then the
// source it latched onto), so a known SSRC sent from elsewhere is dropped
// there.
// A Receiver is unregistered when it ends; closing the mux ends all of them.
//
// On Linux the port is a group of SO_REUSEPORT sockets, one per poller
// shard: the kernel spreads the senders over them by address and keeps each
// sender on one socket, so the streams are read on every core and each
// stream's packets stay in order.
type UDPMux struct {
	// Address is the UDP address to listen on, e.g. ":5004".
	Address string
	// Poller reads the sockets; nil means a poller of the mux's own.
	Poller *UDPPoller
	// Sockets is the number of sockets sharing the port (Linux only); 0
	// means one per poller shard.
	Sockets int
	// Log receives transport events; nil means slog.Default().
	Log *slog.Logger

	addr      netip.AddrPort // the port's, kept after Close
	socks     []*udpSocket
	entries   []*udpEntry
	poller    *UDPPoller
	own       bool
	log       *slog.Logger
	mu        sync.RWMutex
	receivers map[uint32]*Receiver
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	packets, unknown, invalid atomic.Uint64
}

// Initialize opens the port and starts reading.
func (m *UDPMux) Initialize() error {
	m.log = m.Log
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.Sockets < 0 {
		return fmt.Errorf("udp mux %s: %w: sockets %d", m.Address, ErrInvalidConfig, m.Sockets)
	}
	m.poller = m.Poller
	if m.poller == nil {
		m.poller, m.own = &UDPPoller{}, true
		if err := m.poller.Initialize(); err != nil {
			return fmt.Errorf("udp mux %s: %w", m.Address, err)
		}
	}
	n := m.Sockets
	if n == 0 {
		n = len(m.poller.shards)
	}
	if err := m.listen(n); err != nil {
		m.release()
		return fmt.Errorf("udp mux %s: %w", m.Address, err)
	}
	m.addr = m.socks[0].localAddr()
	m.log = m.log.With("listen", m.Addr().String())
	m.receivers = make(map[uint32]*Receiver)
	m.closing = make(chan struct{})
	for i, sock := range m.socks {
		e, err := m.poller.addTo(i, sock, &muxSink{m: m, socket: i}) // a socket per shard
		if err != nil {
			m.release()
			return fmt.Errorf("udp mux %s: %w", m.Address, err)
		}
		m.entries = append(m.entries, e)
	}
	return nil
}

// listen binds n sockets to the port (one where SO_REUSEPORT is not
// available). Every stream's bursts (a key frame is dozens of packets) share
// these sockets: a large buffer rides them out.
//
// A socket without SO_REUSEPORT is bound first and closed again: it picks
// the port when Address gives none, and it makes a port already in use an
// error — a group would silently take in another process's sockets of the
// same user (a second mediagw started on the same port) and split the
// traffic with it.
func (m *UDPMux) listen(n int) error {
	if !reusePortSupported {
		n = 1
	}
	addr := m.Address
	if n > 1 {
		probe, err := listenUDP(addr, false, 0)
		if err != nil {
			return err
		}
		// The probe's address, not the host again: a name with several
		// addresses could bind the group's sockets to different ones.
		addr = probe.localAddr().String()
		probe.close()
	}
	for range n {
		sock, err := listenUDP(addr, n > 1, muxReadBuffer)
		if err != nil {
			return err
		}
		m.socks = append(m.socks, sock)
	}
	return nil
}

// release stops reading and closes the sockets.
func (m *UDPMux) release() {
	for _, e := range m.entries {
		m.poller.remove(e)
	}
	if m.own {
		m.poller.Close()
	}
	for _, sock := range m.socks {
		sock.close()
	}
	m.entries, m.socks = nil, nil
}

// Addr returns the address the mux listens on.
func (m *UDPMux) Addr() *net.UDPAddr {
	return net.UDPAddrFromAddrPort(m.addr)
}

// Close stops reading and ends every registered Receiver with
// ErrTransportClosed.
func (m *UDPMux) Close() {
	m.closeOnce.Do(func() {
		close(m.closing)
		m.release()
		m.wg.Wait()
		m.mu.Lock()
		defer m.mu.Unlock()
		for ssrc, r := range m.receivers {
			r.end(fmt.Errorf("udp mux %s: %w", m.Addr(), ErrTransportClosed))
			delete(m.receivers, ssrc)
		}
	})
}

// Register routes the packets of r.SSRC to r until r ends or Unregister.
func (m *UDPMux) Register(r *Receiver) error {
	if r.SSRC == 0 {
		return fmt.Errorf("register %s: %w", r.Path, ErrSSRCRequired)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.closing:
		return fmt.Errorf("register %s: %w", r.Path, ErrTransportClosed)
	default:
	}
	if _, ok := m.receivers[r.SSRC]; ok {
		return fmt.Errorf("register %s ssrc %d: %w", r.Path, r.SSRC, ErrSSRCInUse)
	}
	m.receivers[r.SSRC] = r
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-r.Done():
			m.Unregister(r)
		case <-m.closing:
		}
	}()
	return nil
}

// SetSSRC routes ssrc to r instead of its current SSRC, for a device that
// answered the session with another SSRC than offered.
func (m *UDPMux) SetSSRC(r *Receiver, ssrc uint32) error {
	if ssrc == 0 {
		return fmt.Errorf("set ssrc of %s: %w", r.Path, ErrSSRCRequired)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.closed.Load() {
		// Its unregistering goroutine is gone: a new entry would stay forever.
		return fmt.Errorf("set ssrc of %s: %w", r.Path, ErrTransportClosed)
	}
	if other, ok := m.receivers[ssrc]; ok && other != r {
		return fmt.Errorf("set ssrc of %s to %d: %w", r.Path, ssrc, ErrSSRCInUse)
	}
	if m.receivers[r.SSRC] == r {
		delete(m.receivers, r.SSRC)
	}
	r.SetSSRC(ssrc)
	m.receivers[ssrc] = r
	return nil
}

// Unregister stops routing packets to r.
func (m *UDPMux) Unregister(r *Receiver) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.receivers[r.SSRC] == r {
		delete(m.receivers, r.SSRC)
	}
}

// Stats returns the counters.
func (m *UDPMux) Stats() MuxStats {
	return MuxStats{Packets: m.packets.Load(), UnknownSSRC: m.unknown.Load(), Invalid: m.invalid.Load()}
}

// muxSink routes one socket's datagrams by SSRC.
type muxSink struct {
	m      *UDPMux
	socket int
	warns  warnLimiter // a shard reads one socket at a time
}

func (s *muxSink) datagram(pkt []byte, from netip.AddrPort) {
	m := s.m
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		m.invalid.Add(1)
		if s.warns.due(time.Now()) {
			s.warns.warn(m.log, "dropping non-RTP datagrams", "remote", from.String(), "size", len(pkt))
		}
		return
	}
	ssrc := binary.BigEndian.Uint32(pkt[8:12])
	m.mu.RLock()
	r := m.receivers[ssrc]
	m.mu.RUnlock()
	if r == nil {
		m.unknown.Add(1)
		if s.warns.due(time.Now()) {
			s.warns.warn(m.log, "dropping packets of an unknown SSRC", "remote", from.String(), "ssrc", ssrc)
		}
		return
	}
	m.packets.Add(1)
	r.WritePacketFrom(pkt, from)
}

func (s *muxSink) failed(err error) {
	s.m.log.Error("udp mux read failed; this socket of the port is no longer read", "socket", s.socket, "error", err)
}
