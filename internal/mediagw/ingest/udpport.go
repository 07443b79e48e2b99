package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// maxDatagram is the read buffer of a UDP socket: the largest datagram.
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

	conn      *net.UDPConn
	port      int
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Initialize binds a port and starts reading.
func (u *UDPPort) Initialize() error {
	conn, port, err := bind(u.Ports, func(port int) (*net.UDPConn, error) {
		addr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(u.IP, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		c, err := net.ListenUDP("udp", addr)
		if err == nil {
			_ = c.SetReadBuffer(portReadBuffer) // a keyframe burst must fit
		}
		return c, err
	})
	if err != nil {
		return fmt.Errorf("udp receiver %s: %w", u.Receiver.Path, err)
	}
	u.conn, u.port = conn, port
	u.wg.Add(1)
	go u.run()
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
		u.Receiver.end(fmt.Errorf("udp port %d: %w", u.port, ErrTransportClosed))
		u.wg.Wait()
		u.Ports.Release(u.port)
	})
}

func (u *UDPPort) run() {
	defer u.wg.Done()
	defer u.conn.Close()
	stop := context.AfterFunc(u.Receiver.ctx, func() { u.conn.Close() })
	defer stop()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				u.Receiver.end(fmt.Errorf("udp port %d: %w", u.port, err))
			}
			return
		}
		u.Receiver.WritePacketFrom(buf[:n], from)
	}
}
