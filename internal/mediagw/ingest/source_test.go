package ingest

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// fakeClock is a Receiver clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forge returns a copy of an RTP packet of the stream with its sequence
// number moved by delta: what a spoofer sends to make the stream look lossy
// or to push its own data into it.
func forge(pkt []byte, delta uint16) []byte {
	out := append([]byte(nil), pkt...)
	binary.BigEndian.PutUint16(out[2:4], binary.BigEndian.Uint16(out[2:4])+delta)
	for i := 12; i < len(out); i++ {
		out[i] ^= 0x5A
	}
	return out
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func ips(s ...string) []netip.Addr {
	out := make([]netip.Addr, 0, len(s))
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

// TestReceiverSourceLatch walks the source rules one packet at a time: who
// is accepted, who is counted as a foreign source, and when the latched
// source may move.
func TestReceiverSourceLatch(t *testing.T) {
	const relatch = 2 * time.Second
	type step struct {
		from    string
		advance time.Duration // the clock moves before the packet
		ok      bool
	}
	cases := []struct {
		name  string
		allow []netip.Addr
		steps []step
	}{
		{"no set: the first source latches, its IP may rebind after silence", nil, []step{
			{"192.0.2.7:5000", 0, true},
			{"192.0.2.7:5000", 0, true},
			{"192.0.2.7:6000", 0, false},          // same IP, other port, while the device sends
			{"198.51.100.9:5000", 0, false},       // another IP
			{"198.51.100.9:5000", relatch, false}, // another IP, even after silence
			{"192.0.2.7:6000", 0, true},           // NAT rebinding after silence
			{"192.0.2.7:5000", 0, false},          // the old port is gone now
		}},
		{"allowed set: only its IPs, first one latches", ips("192.0.2.7", "10.0.0.5"), []step{
			{"198.51.100.9:5000", 0, false}, // not allowed: does not latch either
			{"10.0.0.5:15060", 0, true},
			{"192.0.2.7:5000", 0, false},           // allowed IP, but the stream is latched
			{"192.0.2.7:5000", relatch / 2, false}, // still within the silence window
			{"10.0.0.5:15060", 0, true},
			{"192.0.2.7:5000", relatch, true}, // the latched source was silent: an allowed one takes over
			{"10.0.0.5:15060", 0, false},
			{"198.51.100.9:5000", relatch * 10, false},
		}},
		{"IPv4-mapped senders are their IPv4 address", ips("192.0.2.7"), []step{
			{"[::ffff:192.0.2.7]:5000", 0, true},
			{"192.0.2.7:5000", 0, true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			src := makeStream(t, nil, 77, len(tc.steps)+1, 9)
			r := newReceiver(t, &Receiver{
				Path: "cam", SSRC: 77, Sink: newSink(-1), AllowIPs: tc.allow, RelatchAfter: relatch,
				Now: clock.Now, Timeout: time.Hour,
			})
			var accepted, foreign uint64
			for i, s := range tc.steps {
				clock.Add(s.advance)
				r.WritePacketFrom(src.packets[i], ap(s.from))
				if s.ok {
					accepted++
				} else {
					foreign++
				}
				st := r.Stats()
				if st.Packets != accepted || st.ForeignSource != foreign {
					t.Fatalf("step %d (%s): packets %d, foreign_source %d; want %d, %d",
						i, s.from, st.Packets, st.ForeignSource, accepted, foreign)
				}
			}
		})
	}
}

// TestReceiverForeignSourceIsolated: forged packets of the stream's SSRC
// from a foreign source, interleaved with the real ones and carrying
// sequence numbers far ahead, change nothing: every frame arrives intact
// and nothing is counted lost, reordered or late.
func TestReceiverForeignSourceIsolated(t *testing.T) {
	for _, allow := range [][]netip.Addr{nil, ips("192.0.2.7")} {
		t.Run("allow="+strconv.Itoa(len(allow)), func(t *testing.T) {
			src := makeStream(t, nil, 77, 30, 4)
			s := newSink(30)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: 77, Sink: s, AllowIPs: allow})
			device, spoofer := ap("192.0.2.7:5000"), ap("198.51.100.9:5000")
			for i, p := range src.packets {
				r.WritePacketFrom(p, device)
				r.WritePacketFrom(forge(p, 300), spoofer)
				r.WritePacketFrom(forge(p, 1), spoofer)
				if i == 0 {
					continue
				}
				// The device's own IP from another port is foreign too while
				// the device sends.
				r.WritePacketFrom(forge(p, 2), ap("192.0.2.7:5001"))
			}
			s.wait(t)
			checkFrames(t, s.snapshot(), src)
			st := r.Stats()
			n := uint64(len(src.packets))
			if st.Packets != n || st.Lost != 0 || st.Reordered != 0 || st.Late != 0 || st.Duplicates != 0 ||
				st.ForeignSource != 3*n-1 || st.Source != device {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestReceiverSetAllowIPs: the set can be narrowed after the SDP answer; a
// latched source that is no longer allowed loses the stream.
func TestReceiverSetAllowIPs(t *testing.T) {
	clock := newFakeClock()
	src := makeStream(t, nil, 77, 6, 2)
	r := newReceiver(t, &Receiver{Path: "cam", SSRC: 77, Sink: newSink(-1), Now: clock.Now, Timeout: time.Hour})
	r.WritePacketFrom(src.packets[0], ap("198.51.100.9:5000")) // latched: nobody said who the device is
	r.SetAllowIPs(ips("192.0.2.7", "::ffff:10.0.0.5", "192.0.2.7", "10.0.0.5"))
	if got := r.Allowed(); len(got) != 2 || got[0] != netip.MustParseAddr("192.0.2.7") || got[1] != netip.MustParseAddr("10.0.0.5") {
		t.Fatalf("allowed %v", got)
	}
	r.WritePacketFrom(src.packets[1], ap("198.51.100.9:5000"))
	r.WritePacketFrom(src.packets[2], ap("10.0.0.5:7000"))
	r.WritePacketFrom(src.packets[3], ap("10.0.0.5:7000"))
	if st := r.Stats(); st.Packets != 3 || st.ForeignSource != 1 || st.Source != ap("10.0.0.5:7000") {
		t.Fatalf("stats %+v", st)
	}
	// WritePacket (a TCP connection already admitted) is not checked.
	r.WritePacket(src.packets[4])
	if st := r.Stats(); st.Packets != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReceiverForeignSourceDoesNotLockSSRC: a receiver waiting for its
// first SSRC does not take one from a foreign source.
func TestReceiverForeignSourceDoesNotLockSSRC(t *testing.T) {
	real, fake := makeStream(t, nil, 1000, 3, 1), makeStream(t, nil, 666, 3, 2)
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1), AllowIPs: ips("192.0.2.7")})
	r.WritePacketFrom(fake.packets[0], ap("198.51.100.9:5000"))
	r.WritePacketFrom(real.packets[0], ap("192.0.2.7:5000"))
	if st := r.Stats(); st.SSRC != 1000 || st.Packets != 1 || st.ForeignSource != 1 || st.ForeignSSRC != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReceiverForeignFlood: a flood of forged packets is counted, logs one
// warning a warnInterval of the receiver's clock (the next one says how
// many were suppressed), and a dropped packet allocates nothing: its
// warning is built only when it is logged.
func TestReceiverForeignFlood(t *testing.T) {
	clock := newFakeClock()
	logs := &mediatest.LogBuffer{}
	src := makeStream(t, nil, 77, 2, 3)
	r := newReceiver(t, &Receiver{
		Path: "cam", SSRC: 77, Sink: newSink(-1), AllowIPs: ips("192.0.2.7"), Now: clock.Now, Timeout: time.Hour,
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	r.WritePacketFrom(src.packets[0], ap("192.0.2.7:5000"))
	forged, spoofer := src.packets[1], ap("198.51.100.9:5000")
	const flood = 1000
	for range flood {
		r.WritePacketFrom(forged, spoofer)
	}
	if n := linesWith(logs, "dropping media from a foreign source"); n != 1 {
		t.Fatalf("%d warnings for the flood, want 1:\n%s", n, logs)
	}
	clock.Add(warnInterval)
	r.WritePacketFrom(forged, spoofer)
	if n := linesWith(logs, "suppressed="+strconv.Itoa(flood-1)); n != 1 {
		t.Fatalf("the next warning does not count the %d suppressed:\n%s", flood-1, logs)
	}
	allocs := testing.AllocsPerRun(100, func() { r.WritePacketFrom(forged, spoofer) })
	if st := r.Stats(); st.ForeignSource != flood+1+101 || st.Packets != 1 {
		t.Fatalf("stats %+v", st)
	}
	if allocs != 0 {
		t.Fatalf("a dropped forged packet allocates %.1f times", allocs)
	}
}

// linesWith returns the number of lines of logs containing s.
func linesWith(logs *mediatest.LogBuffer, s string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// udpFrom opens a UDP socket on ip, connected to addr: a sender with its
// own source address (the whole of 127.0.0.0/8 is loopback on Linux).
func udpFrom(t *testing.T, ip, addr string) *net.UDPConn {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)}, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitStats polls r's counters until ok. The tests' packets reach the
// receiver on loopback; the bound, a receiver's default timeout (silence
// for that long ends a stream), is reached only on failure.
func waitStats(t *testing.T, r *Receiver, what string, ok func(Stats) bool) Stats {
	t.Helper()
	var st Stats
	testsupport.Eventually(t, DefaultTimeout, what, func() bool {
		st = r.Stats()
		return ok(st)
	})
	return st
}

// TestUDPInjection is the media injection test on both UDP transports: a
// second socket sends right-SSRC packets (sequence numbers ahead, payload
// of its own) into a playing stream, from another IP and from the device's
// IP with another port. The frames keep flowing intact, lost stays 0 (what
// the real stream lost), the injected packets are counted as foreign
// sources.
func TestUDPInjection(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run("shared="+strconv.FormatBool(shared), func(t *testing.T) {
			const ssrc = 0x0BEBC201
			src := makeStream(t, nil, ssrc, 40, 3)
			s := newSink(40)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: ssrc, Sink: s, AllowIPs: ips("127.0.0.1")})
			var addr string
			if shared {
				m := &UDPMux{Address: "127.0.0.1:0", Log: quiet}
				if err := m.Initialize(); err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if err := m.Register(r); err != nil {
					t.Fatal(err)
				}
				addr = m.Addr().String()
			} else {
				u := &UDPPort{Receiver: r, Ports: testPorts(), IP: ""}
				if err := u.Initialize(); err != nil {
					t.Fatal(err)
				}
				defer u.Close()
				addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(u.Port()))
			}
			device := udpFrom(t, "127.0.0.1", addr)
			otherIP := udpFrom(t, "127.0.0.2", addr)
			otherPort := udpFrom(t, "127.0.0.1", addr)

			// The device's first packet latches its ip:port.
			send(t, device, src.packets[0])
			waitStats(t, r, "first packet", func(st Stats) bool { return st.Packets == 1 })
			for i, p := range src.packets[1:] {
				send(t, otherIP, forge(p, 500))
				send(t, otherPort, forge(p, uint16(i+1)))
				send(t, device, p)
			}
			s.wait(t)
			checkFrames(t, s.snapshot(), src)
			n := uint64(len(src.packets))
			st := waitStats(t, r, "every injected packet counted", func(st Stats) bool { return st.ForeignSource == 2*(n-1) })
			if st.Packets != n || st.Lost != 0 || st.Late != 0 || st.Duplicates != 0 ||
				st.Source != netip.MustParseAddrPort(device.LocalAddr().String()) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestTCPPassiveForeignConnection: once the allowed set was updated (the
// SDP answer is known), a connection from an IP that is not the device's
// is closed at once and counted, never held; the device then connects and
// streams.
func TestTCPPassiveForeignConnection(t *testing.T) {
	src := makeStream(t, nil, 55, 20, 3)
	s := newSink(20)
	r := newReceiver(t, &Receiver{Path: "cam", SSRC: 55, Sink: s, AllowIPs: ips("127.0.0.3")})
	r.SetAllowIPs(ips("127.0.0.3", "127.0.0.1"))
	// A hold that outlasts the test: a stranger closed at all was refused,
	// not held.
	tp := &TCPPassive{Receiver: r, Ports: testPorts(), IP: "", HoldTimeout: time.Hour, Log: quiet}
	if err := tp.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tp.Port()))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	stranger, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	_ = stranger.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := stranger.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("stranger's connection: %v, want it closed", err)
	}
	if st := r.Stats(); st.ForeignSource != 1 || st.Packets != 0 || st.HeldConnections != 0 {
		t.Fatalf("stats %+v", st)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tcpSend(t, c, src, false)
	s.wait(t)
	checkFrames(t, s.snapshot(), src)
	if st := r.Stats(); st.ForeignSource != 1 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// FuzzReceiverSources feeds datagrams from a handful of senders, the clock
// moving between them: every datagram is accounted for exactly once
// (accepted, invalid, foreign SSRC or foreign source), and the latched
// source is always an allowed one.
func FuzzReceiverSources(f *testing.F) {
	src := makeStream(f, nil, 77, 3, 1)
	var seed []byte
	for i, p := range src.packets {
		if len(p) < 256 {
			seed = append(append(seed, byte(i%4), byte(len(p))), p...)
		}
	}
	f.Add(seed)
	f.Add([]byte{0x13, 12, 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 77, 0x02, 1, 0x80})
	senders := []netip.AddrPort{
		ap("192.0.2.7:5000"), ap("192.0.2.7:5001"), ap("10.0.0.5:7000"), ap("198.51.100.9:5000"),
	}
	allow := ips("192.0.2.7", "10.0.0.5")
	f.Fuzz(func(t *testing.T, data []byte) {
		clock := newFakeClock()
		r := &Receiver{
			Path: "fuzz", Sink: &sink{want: -1}, AllowIPs: allow, ReorderPackets: 4, ReorderDelay: time.Hour,
			Timeout: time.Hour, Now: clock.Now, Log: quiet,
		}
		if err := r.Initialize(); err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		fed := uint64(0)
		for len(data) >= 2 {
			who, n := data[0], min(int(data[1]), len(data)-2)
			clock.Add(time.Duration(who>>2) * 100 * time.Millisecond)
			r.WritePacketFrom(data[2:2+n], senders[who%4])
			data = data[2+n:]
			fed++
		}
		st := r.Stats()
		if got := st.Packets + st.Invalid + st.ForeignSSRC + st.ForeignSource; got != fed {
			t.Fatalf("%d datagrams fed, %d accounted: %+v", fed, got, st)
		}
		if st.Source.IsValid() && !slices.Contains(allow, st.Source.Addr()) {
			t.Fatalf("latched a source that is not allowed: %+v", st)
		}
	})
}
