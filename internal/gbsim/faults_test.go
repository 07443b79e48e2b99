package gbsim

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// udpReceiver collects the RTP packets of one stream.
func udpReceiver(t *testing.T) (net.PacketConn, func(n int) []rtp.Packet) {
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
			_ = pc.SetReadDeadline(time.Now().Add(3 * time.Second))
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
	startSim(t, p, func(c *Config) {
		c.Faults = Faults{PacketLoss: 10, Duplicate: 10, Reorder: 10, NoPSM: true}
	})
	p.waitReg(t, false)
	pc, read := udpReceiver(t)
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
	startSim(t, p, func(c *Config) { c.Faults.LyingPSM = true })
	p.waitReg(t, false)
	pc, read := udpReceiver(t)
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

func TestPlaybackPauseAndSeek(t *testing.T) {
	p := newPlatform(t, "udp")
	startSim(t, p, nil)
	p.waitReg(t, false)
	pc, read := udpReceiver(t)
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
	before := read(20)
	info(mansrtsp.Request{Method: mansrtsp.MethodPause, CSeq: 1, PauseTime: "now"})
	time.Sleep(200 * time.Millisecond)
	// Drain what was in flight, then nothing may come while paused.
	_ = pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	for {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			break
		}
	}
	_ = pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := pc.ReadFrom(buf); err == nil {
		t.Fatal("media flows while paused")
	}
	// Seek 30 minutes into the window: timestamps jump by about 30 min.
	info(mansrtsp.Request{Method: mansrtsp.MethodPlay, CSeq: 2, Range: &mansrtsp.Range{Start: 30 * time.Minute}})
	after := read(5)
	jump := time.Duration(after[len(after)-1].Timestamp-before[len(before)-1].Timestamp) * time.Second / 90000
	if jump < 29*time.Minute || jump > 31*time.Minute {
		t.Fatalf("timestamps moved %v after a seek of 30 min", jump)
	}
}

func TestTCPDisconnectFault(t *testing.T) {
	p := newPlatform(t, "udp")
	startSim(t, p, func(c *Config) { c.Faults.TCPDisconnect = 300 * time.Millisecond })
	p.waitReg(t, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	offer, _ := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}, 200000011,
		sdp.WithTransport(sdp.TransportTCPPassive))
	c := p.invite(t, "34020000001310000001", offer)
	defer c.do(t, sip.BYE, nil, "")
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := conn.Read(buf)
		total += n
		if err != nil {
			break
		}
	}
	if took := time.Since(start); total == 0 || took < 200*time.Millisecond || took > 2*time.Second {
		t.Fatalf("connection closed after %v with %d bytes", took, total)
	}
}
