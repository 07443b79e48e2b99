package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
type UDPMux struct {
	// Address is the UDP address to listen on, e.g. ":5004".
	Address string
	// Log receives transport events; nil means slog.Default().
	Log *slog.Logger

	conn      *net.UDPConn
	log       *slog.Logger
	mu        sync.RWMutex
	receivers map[uint32]*Receiver
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	packets, unknown, invalid atomic.Uint64

	warns warnLimiter // used by run only
}

// Initialize opens the port and starts reading.
func (m *UDPMux) Initialize() error {
	m.log = m.Log
	if m.log == nil {
		m.log = slog.Default()
	}
	addr, err := net.ResolveUDPAddr("udp", m.Address)
	if err != nil {
		return fmt.Errorf("udp mux %s: %w", m.Address, err)
	}
	m.conn, err = net.ListenUDP("udp", addr)
	if err != nil {
		return fmt.Errorf("udp mux %s: %w", m.Address, err)
	}
	// Every stream's bursts (a keyframe is dozens of packets) share this
	// socket: a large buffer rides them out (the kernel caps it at
	// net.core.rmem_max).
	_ = m.conn.SetReadBuffer(muxReadBuffer)
	m.log = m.log.With("listen", m.conn.LocalAddr().String())
	m.receivers = make(map[uint32]*Receiver)
	m.closing = make(chan struct{})
	m.wg.Add(1)
	go m.run()
	return nil
}

// Addr returns the address the mux listens on.
func (m *UDPMux) Addr() *net.UDPAddr {
	return m.conn.LocalAddr().(*net.UDPAddr)
}

// Close stops reading and ends every registered Receiver with
// ErrTransportClosed.
func (m *UDPMux) Close() {
	m.closeOnce.Do(func() {
		close(m.closing)
		m.conn.Close()
		m.wg.Wait()
		m.mu.Lock()
		defer m.mu.Unlock()
		for ssrc, r := range m.receivers {
			r.end(fmt.Errorf("udp mux %s: %w", m.conn.LocalAddr(), ErrTransportClosed))
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

func (m *UDPMux) run() {
	defer m.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				m.log.Error("udp mux read failed", "error", err)
			}
			return
		}
		pkt := buf[:n]
		if n < 12 || pkt[0]>>6 != 2 {
			m.invalid.Add(1)
			if m.warns.due(time.Now()) {
				m.warns.warn(m.log, "dropping non-RTP datagrams", "remote", from.String(), "size", n)
			}
			continue
		}
		ssrc := binary.BigEndian.Uint32(pkt[8:12])
		m.mu.RLock()
		r := m.receivers[ssrc]
		m.mu.RUnlock()
		if r == nil {
			m.unknown.Add(1)
			if m.warns.due(time.Now()) {
				m.warns.warn(m.log, "dropping packets of an unknown SSRC", "remote", from.String(), "ssrc", ssrc)
			}
			continue
		}
		m.packets.Add(1)
		r.WritePacketFrom(pkt, from)
	}
}
