package ps_test

import (
	"os/exec"
	"testing"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// benchAUs returns a 1080p ~4 Mbit/s H.264 stream: from ffmpeg when it is
// installed, synthetic otherwise.
func benchAUs(b *testing.B) []testAU {
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		es := encodeAnnexB(b, ps.CodecH264, "1920x1080", 25, 4, "-b:v", "4M", "-preset", "veryfast")
		if aus := splitAtAUD(ps.CodecH264, es); len(aus) > 0 {
			return aus
		}
	}
	b.Log("ffmpeg not installed: synthetic stream")
	return synthAUs(ps.CodecH264, 100, 60000, 1)
}

func BenchmarkDemuxRTP(b *testing.B) {
	aus := benchAUs(b)
	m := ps.Muxer{VideoCodec: ps.CodecH264}
	pz := ps.Packetizer{SSRC: 1}
	var pkts []rtp.Packet
	var total int64
	for _, au := range aus {
		pack, err := m.AppendVideo(nil, au.pts, au.dts, au.key, au.data)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pz.Packets(pack, uint32(au.pts)) {
			pkts = append(pkts, *p)
			total += int64(len(p.Payload))
		}
	}
	var d ps.Demuxer
	run := func() int {
		n := 0
		for i := range pkts {
			out, err := d.WriteRTP(pkts[i].Payload, pkts[i].Timestamp, pkts[i].Marker)
			if err != nil {
				b.Fatal(err)
			}
			n += len(out)
		}
		return n
	}
	run() // warm up: buffers reach their steady-state size
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n := run(); n < len(aus)-1 {
			b.Fatalf("%d frames of %d", n, len(aus))
		}
	}
	b.ReportMetric(float64(len(pkts)), "pkts/op")
}

func BenchmarkMux(b *testing.B) {
	aus := benchAUs(b)
	m := ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A}
	pz := ps.Packetizer{SSRC: 1}
	var total int64
	for _, au := range aus {
		total += int64(len(au.data))
	}
	buf := make([]byte, 0, 1<<20)
	count := func(*rtp.Packet) error { return nil }
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, au := range aus {
			var err error
			buf, err = m.AppendVideo(buf[:0], au.pts, au.dts, au.key, au.data)
			if err != nil {
				b.Fatal(err)
			}
			if err := pz.Visit(buf, uint32(au.pts), count); err != nil {
				b.Fatal(err)
			}
		}
	}
}
