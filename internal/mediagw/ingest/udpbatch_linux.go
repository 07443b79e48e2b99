package ingest

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockaddrSize holds a sockaddr_in6, the larger of the two families.
const sockaddrSize = unix.SizeofSockaddrInet6

// udpBatch reads up to len(slots) datagrams in one recvmmsg call. Each slot
// holds the largest datagram, so nothing is ever truncated; the kernel
// touches only the bytes it writes, so the slots cost address space, not
// memory.
type udpBatch struct {
	slots [][]byte
	names [][sockaddrSize]byte
	iovs  []unix.Iovec
	hdrs  []unix.Mmsghdr
}

func newUDPBatch(n int) *udpBatch {
	b := &udpBatch{
		slots: make([][]byte, n),
		names: make([][sockaddrSize]byte, n),
		iovs:  make([]unix.Iovec, n),
		hdrs:  make([]unix.Mmsghdr, n),
	}
	buf := make([]byte, n*maxDatagram)
	for i := range n {
		b.slots[i] = buf[i*maxDatagram : (i+1)*maxDatagram : (i+1)*maxDatagram]
		b.iovs[i].Base = &b.slots[i][0]
		b.iovs[i].SetLen(maxDatagram)
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
		b.hdrs[i].Hdr.Name = &b.names[i][0]
	}
	return b
}

// read takes the datagrams waiting on the socket without blocking: 0 when
// none waits.
func (b *udpBatch) read(sock *udpSocket) (int, error) {
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Namelen = sockaddrSize
		b.hdrs[i].Hdr.Flags = 0
		b.hdrs[i].Len = 0
	}
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(sock.fd), uintptr(unsafe.Pointer(&b.hdrs[0])),
			uintptr(len(b.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, os.NewSyscallError("recvmmsg", e)
	}
}

// datagram returns the i-th datagram of the last read and its sender.
func (b *udpBatch) datagram(i int) ([]byte, netip.AddrPort) {
	return b.slots[i][:b.hdrs[i].Len], parseSockaddr(b.names[i][:b.hdrs[i].Hdr.Namelen])
}

// parseSockaddr reads a sockaddr_in or sockaddr_in6 as the kernel wrote it;
// a v4 sender on a dual-stack socket stays v4-mapped, as net reports it. An
// unknown family gives the zero AddrPort, which the Receiver treats as an
// unknown sender.
func parseSockaddr(b []byte) netip.AddrPort {
	if len(b) < 4 {
		return netip.AddrPort{}
	}
	port := binary.BigEndian.Uint16(b[2:4])
	switch binary.NativeEndian.Uint16(b[:2]) {
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
		}
	case unix.AF_INET6:
		if len(b) >= 28 {
			ip := netip.AddrFrom16([16]byte(b[8:24]))
			if zone := binary.NativeEndian.Uint32(b[24:28]); zone != 0 {
				ip = ip.WithZone(strconv.FormatUint(uint64(zone), 10))
			}
			return netip.AddrPortFrom(ip, port)
		}
	}
	return netip.AddrPort{}
}

// sleepSupported: an idle shard sleeps until a datagram arrives.
const sleepSupported = true

// reusePortSupported: Linux spreads a SO_REUSEPORT group's datagrams by the
// sender's address, one sender to one socket.
const reusePortSupported = true

// udpSocket is a UDP socket read by a UDPPoller: on Linux a bare
// non-blocking descriptor, outside Go's netpoller. Inside it, every
// datagram arriving on an idle socket woke the netpoller's thread even
// though nobody waited on the socket — thousands of wake-ups a second that
// the poller exists to avoid.
type udpSocket struct {
	fd   int
	addr netip.AddrPort
	// asked and got are the receive buffer asked for and the one the
	// kernel granted (it caps SO_RCVBUF at net.core.rmem_max).
	asked, got int
}

// listenUDP binds a UDP socket to addr ("host:port"; an empty host is every
// address, IPv6 and IPv4), with SO_REUSEPORT when reuse is set, asking for
// a receive buffer of rcvbuf bytes (0: the system's default).
func listenUDP(addr string, reuse bool, rcvbuf int) (*udpSocket, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	ip, _ := netip.AddrFromSlice(ua.IP)
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() {
		// Every address, IPv6 and IPv4, as net listens on "", "0.0.0.0"
		// and "[::]".
		sock, err := bindUDP(unix.AF_INET6, netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(ua.Port)), reuse, rcvbuf)
		if err == nil || !errors.Is(err, unix.EAFNOSUPPORT) {
			return sock, err
		}
		// A kernel without IPv6: every IPv4 address.
		ip = netip.IPv4Unspecified()
	}
	family := unix.AF_INET6
	if ip.Is4() {
		family = unix.AF_INET
	}
	return bindUDP(family, netip.AddrPortFrom(ip.WithZone(ua.Zone), uint16(ua.Port)), reuse, rcvbuf)
}

func bindUDP(family int, ap netip.AddrPort, reuse bool, rcvbuf int) (*udpSocket, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) (*udpSocket, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(call, err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		if ap.Addr().IsUnspecified() {
			// Dual stack: IPv4 senders arrive v4-mapped.
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
				return fail("setsockopt IPV6_V6ONLY", err)
			}
		}
		sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			}
		}
		sa = sa6
	} else {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	if reuse {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("setsockopt SO_REUSEPORT", err)
		}
	}
	// Polling leaves up to an interval of datagrams (and a key frame's
	// burst) in the socket. SO_RCVBUFFORCE lets a root or CAP_NET_ADMIN
	// process go above net.core.rmem_max; otherwise the kernel caps
	// SO_RCVBUF there.
	if rcvbuf > 0 && unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	s := &udpSocket{fd: fd, asked: rcvbuf}
	if n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil {
		s.got = n / 2 // the kernel doubles what it grants, for its bookkeeping
	}
	switch local := local.(type) {
	case *unix.SockaddrInet4:
		s.addr = netip.AddrPortFrom(netip.AddrFrom4(local.Addr), uint16(local.Port))
	case *unix.SockaddrInet6:
		s.addr = netip.AddrPortFrom(netip.AddrFrom16(local.Addr), uint16(local.Port))
	}
	return s, nil
}

// localAddr is the address the socket is bound to.
func (s *udpSocket) localAddr() netip.AddrPort { return s.addr }

// readBuffer returns the receive buffer asked for and the one the kernel
// gave.
func (s *udpSocket) readBuffer() (asked, got int) { return s.asked, s.got }

// close closes the socket once; the poller must no longer read it.
func (s *udpSocket) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// readySet tells a shard which of its sockets have datagrams waiting: a
// level-triggered epoll set, asked without blocking at each pass, so a pass
// reads only those sockets. Without it every idle socket cost an empty
// recvmmsg per interval.
type readySet struct {
	epfd    int
	efd     int // an eventfd in the set: interrupt wakes wait with it
	byFD    map[int32]*udpEntry
	events  []unix.EpollEvent
	entries []*udpEntry
}

func newReadySet() (*readySet, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(fd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(fd)
		unix.Close(efd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &readySet{epfd: fd, efd: efd, byFD: make(map[int32]*udpEntry), events: make([]unix.EpollEvent, 1024)}, nil
}

// sleep blocks until a socket of the set has a datagram waiting or an error
// pending, or until interrupt, for a shard that found nothing for a while.
// It waits in Go's netpoller on a duplicate of the epoll descriptor,
// registered there only for the sleep: while registered, every datagram
// would wake the netpoller's thread, which is what a busy shard's ticking
// avoids. An error means the caller should tick instead.
func (r *readySet) sleep() error {
	fd, err := unix.FcntlInt(uintptr(r.epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(fd), "udp-poller-epoll")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var one [1]unix.EpollEvent
	var werr error
	if err := rc.Read(func(uintptr) bool {
		n, err := unix.EpollWait(r.epfd, one[:], 0)
		if err != nil && err != unix.EINTR {
			werr = os.NewSyscallError("epoll_wait", err)
			return true
		}
		return n > 0
	}); err != nil {
		return err
	}
	return werr
}

// interrupt ends a sleep, for good: the eventfd stays readable.
func (r *readySet) interrupt() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(r.efd, one[:])
}

func (r *readySet) add(e *udpEntry) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(e.sock.fd)}
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, e.sock.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	r.byFD[int32(e.sock.fd)] = e
	return nil
}

func (r *readySet) remove(e *udpEntry) {
	if r.byFD[int32(e.sock.fd)] != e {
		return
	}
	_ = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, e.sock.fd, nil)
	delete(r.byFD, int32(e.sock.fd))
}

// ready returns the entries with datagrams waiting (or an error pending).
// The slice is reused by the next call.
func (r *readySet) ready() ([]*udpEntry, error) {
	r.entries = r.entries[:0]
	for {
		n, err := unix.EpollWait(r.epfd, r.events, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range r.events[:n] {
			if e := r.byFD[ev.Fd]; e != nil {
				r.entries = append(r.entries, e)
			}
		}
		// Level-triggered: the sockets just listed stay ready until read,
		// so asking again would list them again; more than a buffer's worth
		// are taken by the next pass.
		return r.entries, nil
	}
}

func (r *readySet) close() {
	unix.Close(r.epfd)
	unix.Close(r.efd)
}
