package sender

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// source plays its units, then ends (errEnd), or with hold waits until
// closed.
type source struct {
	units  []hub.Unit
	hold   bool
	closed chan struct{}
	once   sync.Once
}

var errEnd = errors.New("stream ended")

func (s *source) Next(ctx context.Context) (hub.Unit, error) {
	if len(s.units) > 0 {
		u := s.units[0]
		s.units = s.units[1:]
		return u, nil
	}
	if !s.hold {
		return hub.Unit{}, errEnd
	}
	select {
	case <-ctx.Done():
		return hub.Unit{}, ctx.Err()
	case <-s.closed:
		return hub.Unit{}, errEnd
	}
}

func (s *source) Close() { s.once.Do(func() { close(s.closed) }) }

// stream is a source of n access units of codec starting mid-GOP (3 units
// before the first key frame, which must not be sent), each followed by a
// G.711 frame; want is what must arrive.
func stream(codec ps.Codec, n int) (src *source, want []pstest.AccessUnit) {
	aus := pstest.Synthetic(codec, n+7, 3000, 1)[7:]
	src = &source{closed: make(chan struct{})}
	for i, au := range aus {
		src.units = append(src.units, hub.Unit{Codec: codec, PTS: au.PTS, DTS: au.DTS, Keyframe: au.Keyframe, Payload: au.Data})
		src.units = append(src.units, hub.Unit{
			Codec: ps.CodecG711A, PTS: au.PTS, DTS: au.PTS, Keyframe: true, Payload: bytes.Repeat([]byte{byte(i + 1)}, 320),
		})
	}
	return src, aus[3:]
}

// collect demuxes RTP packets into frames until want video frames and their
// audio arrived or the deadline passed.
type collect struct {
	ssrc  uint32
	dmx   ps.Demuxer
	video []ps.Frame
	audio int
	seq   []uint16
}

func (c *collect) packet(t *testing.T, b []byte) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatalf("RTP: %v", err)
	}
	if p.SSRC != c.ssrc || p.PayloadType != 96 {
		t.Fatalf("SSRC %d PT %d", p.SSRC, p.PayloadType)
	}
	c.seq = append(c.seq, p.SequenceNumber)
	frames, err := c.dmx.WriteRTP(p.Payload, p.Timestamp, p.Marker)
	if err != nil {
		t.Fatalf("demux: %v", err)
	}
	for _, f := range frames {
		if f.Codec.IsVideo() {
			f.Payload = bytes.Clone(f.Payload)
			c.video = append(c.video, f)
		} else {
			c.audio++
		}
	}
}

func (c *collect) check(t *testing.T, codec ps.Codec, want []pstest.AccessUnit) {
	t.Helper()
	c.video = append(c.video, c.dmx.Flush()...)
	frames := c.video
	if len(frames) != len(want) {
		t.Fatalf("%d video frames, want %d", len(frames), len(want))
	}
	for i, f := range frames {
		if f.Codec != codec || f.PTS != want[i].PTS || f.Keyframe != want[i].Keyframe || !bytes.Equal(f.Payload, want[i].Data) {
			t.Fatalf("frame %d: %v pts %d key %v (%d bytes), want pts %d key %v (%d bytes)", i, f.Codec, f.PTS, f.Keyframe,
				len(f.Payload), want[i].PTS, want[i].Keyframe, len(want[i].Data))
		}
	}
	if c.audio < len(want)-1 {
		t.Fatalf("%d audio frames for %d video frames", c.audio, len(want))
	}
	for i := 1; i < len(c.seq); i++ {
		if c.seq[i] != c.seq[i-1]+1 {
			t.Fatalf("sequence %d after %d", c.seq[i], c.seq[i-1])
		}
	}
}

// TestSend: a stream goes out as PS over RTP over UDP, TCP we connect and
// TCP the peer connects, H.264 and H.265, and the peer's demuxer gets every
// frame from the first key frame on, byte for byte; the end of the stream
// ends the sender and says so.
func TestSend(t *testing.T) {
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		for _, transport := range []string{TransportUDP, TransportTCPConnect, TransportTCPListen} {
			t.Run(codec.String()+"/"+transport, func(t *testing.T) {
				src, want := stream(codec, 40)
				ended := make(chan error, 1)
				s := &Sender{
					Source: src, SSRC: 1100001234, Transport: transport, LocalIP: "127.0.0.1",
					Log: slog.New(slog.DiscardHandler), OnEnd: func(err error) { ended <- err },
				}
				c := &collect{ssrc: s.SSRC}
				var read func()
				switch transport {
				case TransportUDP:
					pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
					if err != nil {
						t.Fatal(err)
					}
					defer pc.Close()
					_ = pc.SetReadBuffer(4 << 20)
					s.Dest = pc.LocalAddr().String()
					read = func() {
						buf := make([]byte, 2048)
						// Until the last frame and its audio; the deadline only
						// ends a broken run (the sender sends everything at once).
						for len(c.video) < len(want) || c.audio < len(want) {
							_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
							n, from, err := pc.ReadFromUDP(buf)
							if err != nil {
								return
							}
							if from.String() != s.LocalAddr().String() {
								t.Fatalf("from %s, sender at %s", from, s.LocalAddr())
							}
							c.packet(t, buf[:n])
						}
					}
				case TransportTCPConnect:
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					s.Dest = ln.Addr().String()
					read = func() {
						conn, err := ln.Accept()
						if err != nil {
							t.Fatal(err)
						}
						defer conn.Close()
						readTCP(t, conn, c)
					}
				case TransportTCPListen:
					read = func() {
						conn, err := net.Dial("tcp", s.LocalAddr().String())
						if err != nil {
							t.Fatal(err)
						}
						defer conn.Close()
						readTCP(t, conn, c)
					}
				}
				if err := s.Initialize(); err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				read()
				c.check(t, codec, want)
				select {
				case err := <-ended:
					if !errors.Is(err, errEnd) {
						t.Fatalf("ended with %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the end of the stream did not end the sender")
				}
				if units, packets, _ := s.Stats(); units != uint64(2*len(want)) || packets < uint64(len(c.seq)) {
					t.Fatalf("stats: %d units %d packets", units, packets)
				}
			})
		}
	}
}

// readTCP reads RFC 4571 frames until the sender closes the connection.
func readTCP(t *testing.T, conn net.Conn, c *collect) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := rtptcp.NewReader(conn)
	for {
		p, err := r.ReadPacket()
		if err != nil {
			return
		}
		c.packet(t, p)
	}
}

// TestCloseAndNoPeer: Close ends a sender that waits for a source or a
// peer without calling OnEnd; a peer that never connects ends it with
// ErrNoPeer; bad configurations are refused.
func TestCloseAndNoPeer(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	s := &Sender{
		Source: &source{hold: true, closed: make(chan struct{})}, Transport: TransportUDP, Dest: "127.0.0.1:9",
		LocalIP: "127.0.0.1", Log: quiet, OnEnd: func(error) { t.Error("OnEnd after Close") },
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ended := make(chan error, 1)
	s = &Sender{
		Source: &source{hold: true, closed: make(chan struct{})}, Transport: TransportTCPListen, LocalIP: "127.0.0.1",
		ConnectTimeout: 50 * time.Millisecond, Log: quiet, OnEnd: func(err error) { ended <- err },
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; !errors.Is(err, ErrNoPeer) {
		t.Fatalf("ended with %v", err)
	}
	s.Close()

	// A connection from elsewhere than the superior is not given the stream.
	ended = make(chan error, 1)
	s = &Sender{
		Source: &source{hold: true, closed: make(chan struct{})}, Transport: TransportTCPListen, LocalIP: "127.0.0.1",
		AllowIPs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}, ConnectTimeout: 200 * time.Millisecond, Log: quiet,
		OnEnd: func(err error) { ended <- err },
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("a foreign connection read %d bytes, %v", n, err)
	}
	conn.Close()
	if err := <-ended; !errors.Is(err, ErrNoPeer) {
		t.Fatalf("ended with %v", err)
	}
	s.Close()

	for _, bad := range []*Sender{
		{Source: &source{}, Transport: "sctp"},
		{Source: &source{}, Transport: TransportUDP, Dest: "nowhere"},
		{Source: &source{}, Transport: TransportTCPConnect, Dest: "nowhere"},
		{Transport: TransportUDP, Dest: "127.0.0.1:9"},
	} {
		if err := bad.Initialize(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// paced is a source of one key frame every 10 ms until the sender stops.
type paced struct{ n int }

func (p *paced) Next(ctx context.Context) (hub.Unit, error) {
	select {
	case <-ctx.Done():
		return hub.Unit{}, ctx.Err()
	case <-time.After(10 * time.Millisecond):
	}
	p.n++
	return hub.Unit{
		Codec: ps.CodecH264, PTS: int64(p.n) * 900, DTS: int64(p.n) * 900, Keyframe: true,
		Payload: []byte{0, 0, 0, 1, 0x65, 1, 2, 3},
	}, nil
}

func (p *paced) Close() {}

// TestUDPRefusedEnds: a UDP sender whose packets the superior's host keeps
// refusing (its port closed: the session gone on its side) ends with
// ErrNoPeer after RefusedTimeout.
func TestUDPRefusedEnds(t *testing.T) {
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dest := closed.LocalAddr().String()
	closed.Close()
	ended := make(chan error, 1)
	s := &Sender{
		Source: &paced{}, Transport: TransportUDP, Dest: dest, LocalIP: "127.0.0.1", RefusedTimeout: 300 * time.Millisecond,
		Log: slog.New(slog.DiscardHandler), OnEnd: func(err error) { ended <- err },
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, ErrNoPeer) {
			t.Fatalf("ended with %v", err)
		}
	case <-time.After(100 * s.RefusedTimeout):
		t.Fatalf("still sending to a closed port after %s", 100*s.RefusedTimeout)
	}
}
