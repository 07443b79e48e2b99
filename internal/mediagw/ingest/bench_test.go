package ingest

import (
	"net/netip"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

type countSink struct{ n int }

func (c *countSink) WriteFrame(ps.Frame) { c.n++ }

// BenchmarkReceiverUDP measures the receive pipeline without sockets:
// raw RTP datagrams through SSRC filter, reorder buffer and PS demuxer.
func BenchmarkReceiverUDP(b *testing.B) {
	src := makeStream(b, nil, 1, 300, 1)
	r := &Receiver{Path: "bench", SSRC: 1, Sink: &countSink{}, Log: quiet}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	// Rewrite sequence numbers so the stream loops without a restart.
	var seq uint16
	var bytes int
	for _, p := range src.packets {
		bytes += len(p)
	}
	b.SetBytes(int64(bytes / len(src.packets)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := src.packets[i%len(src.packets)]
		p[2], p[3] = byte(seq>>8), byte(seq)
		seq++
		r.WritePacket(p)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if r.Stats().Frames == 0 {
		b.Fatal("no frames")
	}
}

// BenchmarkReceiverForeignSource measures a spoofing flood: packets of the
// stream's SSRC from a source that is not the device, counted and dropped.
func BenchmarkReceiverForeignSource(b *testing.B) {
	src := makeStream(b, nil, 1, 2, 1)
	device, err := netip.ParseAddr("192.0.2.7")
	if err != nil {
		b.Fatal(err)
	}
	r := &Receiver{Path: "bench", SSRC: 1, Sink: &countSink{}, AllowIPs: []netip.Addr{device}, Log: quiet}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	spoofer := netip.MustParseAddrPort("198.51.100.9:5000")
	b.ReportAllocs()
	for b.Loop() {
		r.WritePacketFrom(src.packets[1], spoofer)
	}
	if r.Stats().ForeignSource == 0 {
		b.Fatal("nothing dropped")
	}
}
