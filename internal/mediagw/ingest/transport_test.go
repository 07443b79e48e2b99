package ingest

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// testPorts is a range tests bind in; ports taken by others are skipped.
func testPorts() *PortAllocator {
	return &PortAllocator{Min: 41000, Max: 41999}
}

func dialUDP(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, pkts ...[]byte) {
	t.Helper()
	for _, p := range pkts {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUDPMux(t *testing.T) {
	m := &UDPMux{Address: "127.0.0.1:0", Log: quiet}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	a, b := makeStream(t, nil, 100, 20, 1), makeStream(t, nil, 200, 20, 2)
	sa, sb := newSink(20), newSink(20)
	ra := newReceiver(t, &Receiver{Path: "a", SSRC: 100, Sink: sa})
	rb := newReceiver(t, &Receiver{Path: "b", SSRC: 200, Sink: sb})
	for _, r := range []*Receiver{ra, rb} {
		if err := m.Register(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Register(&Receiver{SSRC: 100}); !errors.Is(err, ErrSSRCInUse) {
		t.Fatalf("duplicate SSRC: %v", err)
	}
	if err := m.Register(&Receiver{}); !errors.Is(err, ErrSSRCRequired) {
		t.Fatalf("no SSRC: %v", err)
	}

	c := dialUDP(t, m.Addr().String())
	unknown := makeStream(t, nil, 300, 3, 3).packets
	for i := range max(len(a.packets), len(b.packets)) {
		if i < len(a.packets) {
			send(t, c, a.packets[i])
		}
		if i < len(b.packets) {
			send(t, c, b.packets[i])
		}
		if i < len(unknown) {
			send(t, c, unknown[i], []byte("not rtp"))
		}
	}
	sa.wait(t)
	sb.wait(t)
	if checkFrames(t, sa.snapshot(), a) != 2 || checkFrames(t, sb.snapshot(), b) != 2 {
		t.Fatal("keyframes missing")
	}
	// The mux reads in order and the strays were sent before the last
	// stream packets, so their counts are final.
	if st := m.Stats(); st.UnknownSSRC != uint64(len(unknown)) || st.Invalid != uint64(len(unknown)) {
		t.Fatalf("mux stats %+v", st)
	}

	// A receiver that ends is unregistered; the other one keeps going.
	ra.Close()
	<-ra.Done()
	m.Close()
	if err := waitEnd(t, rb); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("b ended with %v", err)
	}
	if err := m.Register(&Receiver{SSRC: 5}); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("register after close: %v", err)
	}
}

func TestUDPPort(t *testing.T) {
	ports := testPorts()
	src := makeStream(t, nil, 0x0BEBC201, 30, 1)
	s := newSink(30)
	r := newReceiver(t, &Receiver{Path: "cam", Sink: s})
	u := &UDPPort{Receiver: r, Ports: ports, IP: "127.0.0.1"}
	if err := u.Initialize(); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(u.Port())))
	// Swap neighbours (not the first packet, which sets the sequence
	// origin): loopback keeps datagram order, so this is the reordering the
	// receiver sees.
	pkts := append([][]byte(nil), src.packets...)
	for i := 1; i+1 < len(pkts); i += 4 {
		pkts[i], pkts[i+1] = pkts[i+1], pkts[i]
	}
	send(t, c, pkts...)
	s.wait(t)
	if checkFrames(t, s.snapshot(), src) != 3 {
		t.Fatal("keyframes missing")
	}
	if st := r.Stats(); st.Reordered == 0 || st.Lost != 0 || st.SSRC != 0x0BEBC201 {
		t.Fatalf("stats %+v", st)
	}
	port := u.Port()
	u.Close()
	if err := waitEnd(t, r); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("err = %v", err)
	}
	// The port is free again, in the allocator and in the kernel.
	u2 := &UDPPort{Receiver: newReceiver(t, &Receiver{Sink: newSink(-1)}), Ports: &PortAllocator{Min: port, Max: port}, IP: "127.0.0.1"}
	if err := u2.Initialize(); err != nil {
		t.Fatal(err)
	}
	u2.Close()
}

// TestGarbageIsolation sends garbage to one port and to the shared port
// while a good stream arrives next to it: the good stream is untouched.
func TestGarbageIsolation(t *testing.T) {
	ports := testPorts()
	src := makeStream(t, nil, 11, 40, 8)
	good := newSink(40)
	rg := newReceiver(t, &Receiver{Path: "good", SSRC: 11, Sink: good})
	ug := &UDPPort{Receiver: rg, Ports: ports, IP: "127.0.0.1"}
	if err := ug.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ug.Close()
	rb := newReceiver(t, &Receiver{Path: "bad", Sink: newSink(-1)})
	ub := &UDPPort{Receiver: rb, Ports: ports, IP: "127.0.0.1"}
	if err := ub.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ub.Close()

	cg := dialUDP(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(ug.Port())))
	cb := dialUDP(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(ub.Port())))
	other := makeStream(t, nil, 12, 40, 9).packets
	for i, p := range src.packets {
		send(t, cg, p, []byte{0x80, 1, 2}, []byte("GET / HTTP/1.1\r\n"))
		send(t, cb, []byte{byte(i), 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, other[i%len(other)][:20])
	}
	good.wait(t)
	checkFrames(t, good.snapshot(), src)
	if st := rg.Stats(); st.Invalid == 0 || st.Lost != 0 {
		t.Fatalf("good stats %+v", st)
	}
	if rb.Err() != nil || rg.Err() != nil {
		t.Fatalf("receivers ended: %v, %v", rb.Err(), rg.Err())
	}
}

// tcpSend writes the stream as RFC 4571 frames, with garbage before the
// tenth packet, and an optional truncated frame at the end.
func tcpSend(t *testing.T, c net.Conn, src *stream, truncate bool) {
	t.Helper()
	w := rtptcp.NewWriter(c)
	for i, p := range src.packets {
		if i == 10 {
			if _, err := c.Write([]byte("\x00\x05garbage!")); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if truncate {
		frame, _ := rtptcp.AppendFrame(nil, src.packets[0])
		if _, err := c.Write(frame[:len(frame)/2]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTCPPassive(t *testing.T) {
	for _, truncate := range []bool{false, true} {
		t.Run("truncated="+strconv.FormatBool(truncate), func(t *testing.T) {
			src := makeStream(t, nil, 55, 30, 3)
			s := newSink(30)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: 55, Sink: s})
			tp := &TCPPassive{Receiver: r, Ports: testPorts(), IP: "127.0.0.1", Log: quiet}
			if err := tp.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer tp.Close()
			c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port())))
			if err != nil {
				t.Fatal(err)
			}
			tcpSend(t, c, src, truncate)
			s.wait(t)
			c.Close()
			if err := waitEnd(t, r); !errors.Is(err, ErrDisconnected) {
				t.Fatalf("err = %v", err)
			}
			if checkFrames(t, s.snapshot(), src) != 3 {
				t.Fatal("keyframes missing")
			}
			if st := r.Stats(); st.SkippedBytes == 0 || st.Lost != 0 || st.Packets != uint64(len(src.packets)) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestTCPPassiveNoDevice(t *testing.T) {
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1), Timeout: 10 * time.Millisecond})
	tp := &TCPPassive{Receiver: r, Ports: testPorts(), IP: "127.0.0.1", Log: quiet}
	if err := tp.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	if err := waitEnd(t, r); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}

func TestTCPActive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	src := makeStream(t, nil, 66, 30, 4)
	s := newSink(30)
	r := newReceiver(t, &Receiver{Path: "cam", Sink: s})
	ta := &TCPActive{Receiver: r, Address: ln.Addr().String(), Log: quiet}
	if err := ta.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ta.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	tcpSend(t, c, src, false)
	s.wait(t)
	c.Close()
	if err := waitEnd(t, r); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
	if checkFrames(t, s.snapshot(), src) != 3 {
		t.Fatal("keyframes missing")
	}
}

func TestTCPActiveDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there any more
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1)})
	ta := &TCPActive{Receiver: r, Address: addr, Log: quiet}
	if err := ta.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ta.Close()
	if err := waitEnd(t, r); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
}

// A device whose TCP connection drops and comes back within the grace keeps
// its stream: the receiver does not end, and the second half arrives.
func TestTCPReconnectGrace(t *testing.T) {
	first, second := makeStream(t, nil, 77, 30, 5), makeStream(t, nil, 77, 30, 6)
	for _, mode := range []string{"passive", "active"} {
		t.Run(mode, func(t *testing.T) {
			s := newSink(60)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: 77, Sink: s})
			var dial func() net.Conn
			stopListening := func() {}
			switch mode {
			case "passive":
				tp := &TCPPassive{Receiver: r, Ports: testPorts(), IP: "127.0.0.1", ReconnectGrace: 2 * time.Second, Log: quiet}
				if err := tp.Initialize(); err != nil {
					t.Fatal(err)
				}
				defer tp.Close()
				dial = func() net.Conn {
					c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port())))
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
			default:
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				stopListening = func() { ln.Close() }
				ta := &TCPActive{Receiver: r, Address: ln.Addr().String(), ReconnectGrace: 2 * time.Second, Log: quiet}
				if err := ta.Initialize(); err != nil {
					t.Fatal(err)
				}
				defer ta.Close()
				dial = func() net.Conn {
					c, err := ln.Accept()
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
			}
			c := dial()
			tcpSend(t, c, first, false)
			c.Close()
			c = dial()
			defer c.Close()
			tcpSend(t, c, second, false)
			s.wait(t)
			if err := r.Err(); err != nil {
				t.Fatalf("receiver ended across a reconnect: %v", err)
			}
			stopListening() // the device is gone for good
			c.Close()
			// Without a reconnect the receiver ends after the grace.
			if err := waitEnd(t, r); !errors.Is(err, ErrDisconnected) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// The device answered with another SSRC than offered: after SetSSRC the
// receiver (and the shared port) take the new one and drop the old one.
func TestSetSSRC(t *testing.T) {
	m := &UDPMux{Address: "127.0.0.1:0", Log: quiet}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	src := makeStream(t, nil, 900, 20, 7)
	s := newSink(20)
	r := newReceiver(t, &Receiver{Path: "cam", SSRC: 800, Sink: s})
	if err := m.Register(r); err != nil {
		t.Fatal(err)
	}
	other := newReceiver(t, &Receiver{Path: "other", SSRC: 700, Sink: newSink(-1)})
	if err := m.Register(other); err != nil {
		t.Fatal(err)
	}
	if err := m.SetSSRC(r, 700); !errors.Is(err, ErrSSRCInUse) {
		t.Fatalf("taking another receiver's SSRC: %v", err)
	}
	if err := m.SetSSRC(r, 900); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, m.Addr().String())
	send(t, c, src.packets...)
	s.wait(t)
	if st := r.Stats(); st.SSRC != 900 || st.Packets != uint64(len(src.packets)) {
		t.Fatalf("stats %+v", st)
	}
	// A dedicated-port receiver locked to the first SSRC follows too.
	d := newReceiver(t, &Receiver{Path: "d", Sink: newSink(-1)})
	d.WritePacket(src.packets[0])
	d.SetSSRC(901)
	d.WritePacket(src.packets[1])
	if st := d.Stats(); st.SSRC != 901 || st.ForeignSSRC != 1 || st.Packets != 1 {
		t.Fatalf("dedicated stats %+v", st)
	}
}
