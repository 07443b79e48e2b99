package ingest

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
)

// maxDatagram is a read slot of a UDP socket: the largest datagram.
const maxDatagram = 65536

// UDPPort receives one stream on a UDP port of its own, allocated from
// Ports; the port is released on Close. Packets of other SSRCs, or from a
// source the Receiver does not accept, are counted by the Receiver and
// dropped.
type UDPPort struct {
	// Receiver is the stream's receiver, initialized by the caller.
	Receiver *Receiver
	// Ports is the range to take the port from.
	Ports *PortAllocator
	// IP is the address to listen on; "" means all.
	IP string
	// Poller reads the port; nil means a poller of the port's own.
	Poller *UDPPoller

	sock      *udpSocket
	port      int
	poller    *UDPPoller
	own       bool
	entry     *udpEntry
	closeOnce sync.Once
}

// Initialize binds a port and starts reading.
func (u *UDPPort) Initialize() error {
	// A key frame's burst must fit in the socket between two polls.
	sock, port, err := bind(u.Ports, func(port int) (*udpSocket, error) {
		return listenUDP(net.JoinHostPort(u.IP, strconv.Itoa(port)), false, portReadBuffer)
	})
	if err != nil {
		return fmt.Errorf("udp receiver %s: %w", u.Receiver.Path, err)
	}
	u.sock, u.port = sock, port
	u.poller = u.Poller
	if u.poller == nil {
		u.poller, u.own = &UDPPoller{Shards: 1}, true
		if err := u.poller.Initialize(); err != nil {
			u.release()
			return fmt.Errorf("udp receiver %s: %w", u.Receiver.Path, err)
		}
	}
	u.entry, err = u.poller.add(sock, portSink{u})
	if err != nil {
		u.release()
		return fmt.Errorf("udp receiver %s: %w", u.Receiver.Path, err)
	}
	return nil
}

// Port returns the bound port, to put in the SDP.
func (u *UDPPort) Port() int {
	return u.port
}

// Close stops reading, ends the Receiver with ErrTransportClosed if it is
// still running and releases the port.
func (u *UDPPort) Close() {
	u.closeOnce.Do(func() {
		if u.entry == nil {
			return // Initialize failed and released everything
		}
		u.Receiver.end(fmt.Errorf("udp port %d: %w", u.port, ErrTransportClosed))
		u.poller.remove(u.entry)
		u.release()
	})
}

func (u *UDPPort) release() {
	if u.own {
		u.poller.Close()
	}
	u.sock.close()
	u.Ports.Release(u.port)
}

// portSink hands a port's datagrams to its Receiver.
type portSink struct{ u *UDPPort }

func (s portSink) datagram(b []byte, from netip.AddrPort) {
	s.u.Receiver.WritePacketFrom(b, from)
}

func (s portSink) failed(err error) {
	s.u.Receiver.end(fmt.Errorf("udp port %d: %w", s.u.port, err))
}
