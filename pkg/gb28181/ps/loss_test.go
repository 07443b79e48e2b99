package ps_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtpin"
)

// Muxer → packetizer → shuffled, duplicated and lost packets → reorder
// buffer → demuxer: intact frames when nothing is lost, and damaged frames
// dropped, never emitted, when packets are lost.
func TestThroughReorderBuffer(t *testing.T) {
	muxers := map[string]ps.Muxer{
		"h264":           {VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A},
		"h265 unbounded": {VideoCodec: ps.CodecH265, UnboundedVideoPES: true},
		"h264 small PES": {VideoCodec: ps.CodecH264, MaxPESPayload: 500, AudioCodec: ps.CodecG711A, AudioWithoutPack: true},
	}
	for name, m := range muxers {
		for _, lossRate := range []float64{0, 0.02, 0.1} {
			t.Run(name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(11, uint64(lossRate*1000)))
				aus := synthAUs(m.VideoCodec, 200, 4000, 5)
				tc := rtCase{mux: m}
				if m.AudioCodec != ps.CodecUnknown {
					tc.audio = func(i int) []byte { return bytes.Repeat([]byte{0xD5, byte(i)}, 80) }
				}
				frames, audio := packetizeCase(t, tc, aus)
				var pkts []*rtp.Packet
				for _, fr := range frames {
					pkts = append(pkts, fr...)
				}
				// Local reordering and duplicates, then loss.
				for i := range pkts {
					if j := i + r.IntN(4); j < len(pkts) && r.IntN(3) == 0 {
						pkts[i], pkts[j] = pkts[j], pkts[i]
					}
				}
				var sent []*rtp.Packet
				lost := 0
				for _, p := range pkts {
					if r.Float64() < lossRate {
						lost++
						continue
					}
					sent = append(sent, p)
					if r.IntN(20) == 0 {
						c := *p
						sent = append(sent, &c)
					}
				}

				clk := time.Unix(0, 0)
				rb := rtpin.ReorderBuffer{MaxPackets: 16, Now: func() time.Time { return clk }}
				var d ps.Demuxer
				var c collector
				feed := func(outs []rtpin.Output) {
					for _, o := range outs {
						if o.Discontinuity() {
							d.Loss()
						}
						fs, err := d.WriteRTP(o.Packet.Payload, o.Packet.Timestamp, o.Packet.Marker)
						if err != nil {
							t.Fatal(err)
						}
						c.add(fs)
					}
				}
				for _, p := range sent {
					clk = clk.Add(time.Millisecond)
					outs, err := rb.Push(p)
					if err != nil {
						t.Fatal(err)
					}
					feed(outs)
				}
				feed(rb.Flush())
				c.add(d.Flush())

				if st := rb.Stats(); st.Lost != uint64(lost) {
					t.Fatalf("reorder buffer lost %d, we dropped %d", st.Lost, lost)
				}
				byPTS := map[int64][]byte{}
				for _, au := range aus {
					byPTS[au.pts] = au.data
				}
				v := c.video()
				for i, f := range v {
					if want, ok := byPTS[f.PTS]; !ok || !bytes.Equal(f.Payload, want) {
						t.Fatalf("frame %d (PTS %d) damaged: %d bytes", i, f.PTS, len(f.Payload))
					}
					if i > 0 && f.PTS <= v[i-1].PTS {
						t.Fatalf("frame %d: PTS %d after %d", i, f.PTS, v[i-1].PTS)
					}
				}
				audioByPTS := map[int64][]byte{}
				for i, a := range audio {
					audioByPTS[aus[i].pts+100] = a
				}
				for _, f := range c.audio() {
					if !bytes.Equal(f.Payload, audioByPTS[f.PTS]) {
						t.Fatalf("audio frame at PTS %d damaged", f.PTS)
					}
				}
				switch {
				case lost == 0 && (len(v) != len(aus) || len(c.audio()) != len(audio)):
					t.Fatalf("no loss: %d/%d video, %d/%d audio frames", len(v), len(aus), len(c.audio()), len(audio))
				case lost > 0 && (len(v) == len(aus) || len(v) < len(aus)/4):
					t.Fatalf("%d packets lost: %d of %d frames", lost, len(v), len(aus))
				}
				t.Logf("loss %.2f: %d packets lost, %d/%d frames", lossRate, lost, len(v), len(aus))
			})
		}
	}
}
