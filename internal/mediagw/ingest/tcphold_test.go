package ingest

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// heldAUs keeps what a device sends to a held (unread) connection well
// within the socket buffers (about 30 KB), so that its writes never block.
const heldAUs = 10

// dialFrom connects to addr from ip (any address of 127.0.0.0/8 is
// loopback on Linux): a device with a media IP of its own.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed waits until the other side closed c; the limit only keeps a
// broken test from hanging.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("%s: %v, want the connection closed", what, err)
	}
}

// TestTCPPassiveHeldConnection: a device whose media IP (127.0.0.2) is not
// its signalling IP (127.0.0.3, the allowed set given at open) connects
// before sipserver adds the c= IP of its SDP answer. Its connection is held
// unread, at most one such, and the first update of the allowed set
// decides: accepted with nothing lost when its IP is then allowed, else
// closed and counted. A device connecting from an allowed IP meanwhile
// wins; a hold nobody decides on ends after HoldTimeout. The hold outlasts
// each test where the update must decide (HoldTimeout: an hour), and the
// receiver's own timeout too.
func TestTCPPassiveHeldConnection(t *testing.T) {
	const media, signalling, stranger = "127.0.0.2", "127.0.0.3", "127.0.0.4"
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, r *Receiver, addr string, src *stream, s *sink)
	}{
		{"the update allows it", func(t *testing.T, r *Receiver, addr string, src *stream, s *sink) {
			c := dialFrom(t, media, addr)
			waitStats(t, r, "connection held", func(st Stats) bool { return st.HeldConnections == 1 })
			// The device sends at once; nothing is read while it is held.
			tcpSend(t, c, src, false)
			if st := r.Stats(); st.Packets != 0 || st.ForeignSource != 0 {
				t.Fatalf("held connection read: %+v", st)
			}
			r.SetAllowIPs(ips(signalling, media))
			s.wait(t)
			checkFrames(t, s.snapshot(), src)
			if st := r.Stats(); st.Packets != uint64(len(src.packets)) || st.Lost != 0 || st.ForeignSource != 0 {
				t.Fatalf("stats %+v", st)
			}
		}},
		{"the update does not allow it", func(t *testing.T, r *Receiver, addr string, src *stream, s *sink) {
			c := dialFrom(t, stranger, addr)
			waitStats(t, r, "connection held", func(st Stats) bool { return st.HeldConnections == 1 })
			r.SetAllowIPs(ips(signalling, media))
			waitClosed(t, c, "held stranger after the update")
			if st := r.Stats(); st.ForeignSource != 1 || st.Packets != 0 {
				t.Fatalf("stats %+v", st)
			}
			// The port still waits for the device.
			tcpSend(t, dialFrom(t, media, addr), src, false)
			s.wait(t)
			checkFrames(t, s.snapshot(), src)
		}},
		{"at most one is held; an allowed device wins", func(t *testing.T, r *Receiver, addr string, src *stream, s *sink) {
			held := dialFrom(t, stranger, addr)
			waitStats(t, r, "connection held", func(st Stats) bool { return st.HeldConnections == 1 })
			second := dialFrom(t, media, addr)
			waitClosed(t, second, "a second connection while one is held")
			if st := r.Stats(); st.ForeignSource != 1 || st.HeldConnections != 1 {
				t.Fatalf("stats %+v", st)
			}
			tcpSend(t, dialFrom(t, signalling, addr), src, false)
			waitClosed(t, held, "held connection once the device connected")
			s.wait(t)
			checkFrames(t, s.snapshot(), src)
			if st := r.Stats(); st.ForeignSource != 2 || st.Packets != uint64(len(src.packets)) {
				t.Fatalf("stats %+v", st)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := makeStream(t, nil, 55, heldAUs, 3)
			s := newSink(heldAUs)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: 55, Sink: s, AllowIPs: ips(signalling), Timeout: time.Hour})
			tp := &TCPPassive{Receiver: r, Ports: testPorts(), HoldTimeout: time.Hour, Log: quiet}
			if err := tp.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer tp.Close()
			tc.run(t, r, net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port())), src, s)
		})
	}

	// Nobody updates the set: the held connection is closed after
	// HoldTimeout and counted, and the device may still connect.
	t.Run("hold timeout", func(t *testing.T) {
		src := makeStream(t, nil, 55, heldAUs, 3)
		s := newSink(heldAUs)
		r := newReceiver(t, &Receiver{Path: "cam", SSRC: 55, Sink: s, AllowIPs: ips(signalling), Timeout: time.Hour})
		tp := &TCPPassive{Receiver: r, Ports: testPorts(), HoldTimeout: 50 * time.Millisecond, Log: quiet}
		if err := tp.Initialize(); err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port()))
		waitClosed(t, dialFrom(t, media, addr), "held connection after the hold timeout")
		if st := r.Stats(); st.HeldConnections != 1 || st.ForeignSource != 1 || r.Err() != nil {
			t.Fatalf("stats %+v, err %v", st, r.Err())
		}
		tcpSend(t, dialFrom(t, signalling, addr), src, false)
		s.wait(t)
		checkFrames(t, s.snapshot(), src)
	})

	// Without a set given at open (any IP) nothing is ever held.
	t.Run("no set at open", func(t *testing.T) {
		src := makeStream(t, nil, 55, heldAUs, 3)
		s := newSink(heldAUs)
		r := newReceiver(t, &Receiver{Path: "cam", SSRC: 55, Sink: s, Timeout: time.Hour})
		tp := &TCPPassive{Receiver: r, Ports: testPorts(), HoldTimeout: time.Hour, Log: quiet}
		if err := tp.Initialize(); err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		tcpSend(t, dialFrom(t, media, net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port()))), src, false)
		s.wait(t)
		if st := r.Stats(); st.HeldConnections != 0 || st.ForeignSource != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
