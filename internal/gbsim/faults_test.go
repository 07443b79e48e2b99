package gbsim

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// udpReceiver collects the RTP packets of one stream, waiting at most
// timeout for each.
func udpReceiver(t *testing.T, timeout time.Duration) (net.PacketConn, func(n int) []rtp.Packet) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	buf := make([]byte, 2048)
	return pc, func(n int) []rtp.Packet {
		var out []rtp.Packet
		for len(out) < n {
			_ = pc.SetReadDeadline(time.Now().Add(timeout))
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("read RTP: %v", err)
			}
			var p rtp.Packet
			if err := p.Unmarshal(append([]byte{}, buf[:k]...)); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
}

func TestPacketFaults(t *testing.T) {
	p := newPlatform(t, "udp")
	s, _ := startSim(t, p, func(c *Config) {
		c.Faults = Faults{PacketLoss: 10, Duplicate: 10, Reorder: 10, NoPSM: true}
	})
	p.waitReg(t, false)
	pc, read := udpReceiver(t, mediaTimeout(s.cfg))
	offer, _ := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}, 200000009)
	c := p.invite(t, "34020000001310000001", offer)
	pkts := read(200)
	c.do(t, sip.BYE, nil, "")

	seen := map[uint16]int{}
	first, last := pkts[0].SequenceNumber, pkts[0].SequenceNumber
	reordered := 0
	for i, pk := range pkts {
		seen[pk.SequenceNumber]++
		if i > 0 && int16(pk.SequenceNumber-pkts[i-1].SequenceNumber) < 0 {
			reordered++
		}
		if int16(pk.SequenceNumber-last) > 0 {
			last = pk.SequenceNumber
		}
	}
	dups, lost := 0, 0
	for s := first; s != last+1; s++ {
		switch seen[s] {
		case 0:
			lost++
		case 1:
		default:
			dups++
		}
	}
	if lost == 0 || dups == 0 || reordered == 0 {
		t.Fatalf("lost %d duplicated %d reordered %d of %d packets", lost, dups, reordered, len(pkts))
	}
	// Without a PSM the demuxer still finds H.264 by sniffing.
	var m mediaStats
	for _, pk := range pkts {
		b, _ := pk.Marshal()
		m.add(t, b)
	}
	if m.codec != ps.CodecH264 || m.video == 0 {
		t.Fatalf("demuxed %d frames of %v", m.video, m.codec)
	}
}

func TestLyingPSM(t *testing.T) {
	p := newPlatform(t, "udp")
	s, _ := startSim(t, p, func(c *Config) { c.Faults.LyingPSM = true })
	p.waitReg(t, false)
	pc, read := udpReceiver(t, mediaTimeout(s.cfg))
	offer, _ := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}, 200000010)
	c := p.invite(t, "34020000001310000001", offer)
	defer c.do(t, sip.BYE, nil, "")
	var d ps.Demuxer
	for _, pk := range read(60) {
		frames, _ := d.WriteRTP(pk.Payload, pk.Timestamp, pk.Marker)
		for _, f := range frames {
			if f.Codec.IsVideo() && f.StreamType != ps.StreamTypeH265 {
				t.Fatalf("PSM announced %#x, want the lie 0x24", f.StreamType)
			}
		}
	}
}

// TestPlaybackPauseAndSeek pauses a playback on a virtual clock (nothing is
// paced while paused, however long), then seeks 30 minutes into the window:
// the timestamps jump by that much.
func TestPlaybackPauseAndSeek(t *testing.T) {
	p := newPlatform(t, "udp")
	s := newSim(t, p, nil)
	clk := newVirtualClock()
	s.clk = clk
	runSim(t, s)
	p.waitReg(t, false)
	wait := mediaTimeout(s.cfg)
	pc, read := udpReceiver(t, wait)
	end := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	offer, _ := sdp.NewPlaybackOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port},
		1200000003, "34020000001310000002", end.Add(-time.Hour), end)
	c := p.invite(t, "34020000001310000002", offer)
	defer c.do(t, sip.BYE, nil, "")
	info := func(r mansrtsp.Request) {
		r.Version = mansrtsp.VersionRTSP
		if code := c.do(t, sip.INFO, r.Marshal(), "Application/MANSRTSP"); code != 200 {
			t.Fatalf("INFO %s: %d", r.Method, code)
		}
	}
	clk.waitTimers(t, 1, wait)
	stop := clk.drive()
	before := read(20)
	stop()
	last := before[len(before)-1].Timestamp
	info(mansrtsp.Request{Method: mansrtsp.MethodPause, CSeq: 1, PauseTime: "now"})
	// Paused, the stream has no frame due: no time passing can send one.
	clk.waitIdle(t, wait)

	// Seek 30 minutes into the window: timestamps jump by about 30 min.
	info(mansrtsp.Request{Method: mansrtsp.MethodPlay, CSeq: 2, Range: &mansrtsp.Range{Start: 30 * time.Minute}})
	stop = clk.drive()
	defer stop()
	// Packets of the last frames before the pause may still be queued.
	var jump time.Duration
	for range 1000 {
		pk := read(1)[0]
		if d := time.Duration(int32(pk.Timestamp-last)) * time.Second / 90000; d > time.Minute || d < 0 {
			jump = d
			break
		}
	}
	if jump < 29*time.Minute || jump > 31*time.Minute {
		t.Fatalf("timestamps moved %v after a seek of 30 min", jump)
	}
}

// TestTCPDisconnectFault closes the TCP media connection 300 ms into the
// stream on a virtual clock: the frames due before then (0, 40 … 280 ms)
// arrive, then the connection ends.
func TestTCPDisconnectFault(t *testing.T) {
	p := newPlatform(t, "udp")
	s := newSim(t, p, func(c *Config) { c.Faults.TCPDisconnect = 300 * time.Millisecond })
	clk := newVirtualClock()
	s.clk = clk
	runSim(t, s)
	p.waitReg(t, false)
	wait := mediaTimeout(s.cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	offer, _ := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}, 200000011,
		sdp.WithTransport(sdp.TransportTCPPassive))
	c := p.invite(t, "34020000001310000001", offer)
	defer c.do(t, sip.BYE, nil, "")
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(wait))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	clk.waitTimers(t, 2, wait) // the disconnect timer and the first frame
	start := clk.Now()
	stop := clk.drive()
	defer stop()
	r := rtptcp.NewReader(conn)
	frames := map[uint32]bool{}
	for {
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		b, err := r.ReadPacket()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read RTP/TCP: %v", err)
			}
			break
		}
		var pk rtp.Packet
		if err := pk.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		frames[pk.Timestamp] = true
	}
	clk.waitIdle(t, wait)
	stop()
	if took := clk.Now().Sub(start); len(frames) != 8 || took != 300*time.Millisecond {
		t.Fatalf("connection closed at %v of the stream's time after %d frames, want 300ms and 8", took, len(frames))
	}
}
