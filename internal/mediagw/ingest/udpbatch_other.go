//go:build unix && !linux

package ingest

import (
	"net"
	"net/netip"
	"os"
	"syscall"
)

// udpBatch reads the datagrams waiting on a socket one recvfrom each: the
// systems other than Linux have no recvmmsg this code uses.
type udpBatch struct {
	slots [][]byte
	lens  []int
	from  []netip.AddrPort
}

func newUDPBatch(n int) *udpBatch {
	b := &udpBatch{slots: make([][]byte, n), lens: make([]int, n), from: make([]netip.AddrPort, n)}
	buf := make([]byte, n*maxDatagram)
	for i := range n {
		b.slots[i] = buf[i*maxDatagram : (i+1)*maxDatagram : (i+1)*maxDatagram]
	}
	return b
}

// read takes the datagrams waiting on the socket without blocking: 0 when
// none waits.
func (b *udpBatch) read(sock *udpSocket) (int, error) {
	var n int
	var rerr error
	err := sock.rc.Read(func(fd uintptr) bool {
		for n < len(b.slots) {
			m, sa, err := syscall.Recvfrom(int(fd), b.slots[n], syscall.MSG_DONTWAIT)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if err != syscall.EAGAIN && err != syscall.EWOULDBLOCK {
					rerr = os.NewSyscallError("recvfrom", err)
				}
				return true // never park: the poller comes back on its next tick
			}
			b.lens[n], b.from[n] = m, sockaddrAddrPort(sa)
			n++
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		return n, nil // an error after datagrams comes back on the next read
	}
	return 0, rerr
}

// datagram returns the i-th datagram of the last read and its sender.
func (b *udpBatch) datagram(i int) ([]byte, netip.AddrPort) {
	return b.slots[i][:b.lens[i]], b.from[i]
}

func sockaddrAddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// reusePortSupported: elsewhere SO_REUSEPORT does not spread one port's
// datagrams over its sockets the way Linux does, so a shared port is one
// socket.
const reusePortSupported = false

// udpSocket is a UDP socket read by a UDPPoller: here a net.UDPConn, read
// through its raw descriptor without parking.
type udpSocket struct {
	conn       *net.UDPConn
	rc         syscall.RawConn
	asked, got int // got is not known here: taken as asked
}

// listenUDP binds a UDP socket to addr ("host:port"; an empty host is every
// address), asking for a receive buffer of rcvbuf bytes (0: the system's
// default). reuse is ignored (reusePortSupported is false).
func listenUDP(addr string, _ bool, rcvbuf int) (*udpSocket, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	if rcvbuf > 0 {
		_ = c.SetReadBuffer(rcvbuf)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &udpSocket{conn: c, rc: rc, asked: rcvbuf, got: rcvbuf}, nil
}

// localAddr is the address the socket is bound to.
func (s *udpSocket) localAddr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// readBuffer returns the receive buffer asked for and the one granted.
func (s *udpSocket) readBuffer() (asked, got int) { return s.asked, s.got }

// close closes the socket; the poller must no longer read it.
func (s *udpSocket) close() { _ = s.conn.Close() }

// readySet lists a shard's sockets; here every pass tries each of them.
type readySet struct {
	entries []*udpEntry
}

func newReadySet() (*readySet, error) { return &readySet{}, nil }

func (r *readySet) add(e *udpEntry) error {
	r.entries = append(r.entries, e)
	return nil
}

func (r *readySet) remove(e *udpEntry) {
	for i, x := range r.entries {
		if x == e {
			r.entries = append(r.entries[:i], r.entries[i+1:]...)
			return
		}
	}
}

// sleepSupported: without readiness notification an idle shard ticks.
const sleepSupported = false

// sleep is not available here: an idle shard keeps ticking.
func (r *readySet) sleep() error { return errNoSleep }

// interrupt has no sleep to end.
func (r *readySet) interrupt() {}

// ready returns every socket: the pass finds out which have datagrams. It
// is a copy: the pass removes a socket that fails while it ranges over them.
func (r *readySet) ready() ([]*udpEntry, error) {
	return append([]*udpEntry(nil), r.entries...), nil
}

func (r *readySet) close() {}
