package ps_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func adts(payload []byte) []byte {
	n := len(payload) + 7
	h := []byte{0xFF, 0xF1, 0x50, 0x80 | byte(n>>11), byte(n >> 3), byte(n<<5) | 0x1F, 0xFC}
	return append(h, payload...)
}

type rtCase struct {
	name      string
	mux       ps.Muxer
	frames    int
	size      int
	rtpSize   int
	noMarker  bool
	allMarker bool
	audio     func(i int) []byte
	wantVideo ps.Codec
	wantAudio ps.Codec
}

func rtCases() []rtCase {
	g711 := func(i int) []byte { return bytes.Repeat([]byte{0xD5, byte(i)}, 80) }
	aac := func(i int) []byte {
		return append(adts(bytes.Repeat([]byte{byte(i) | 1}, 50)), adts([]byte{1, 2, 3})...)
	}
	return []rtCase{
		{name: "h264", mux: ps.Muxer{VideoCodec: ps.CodecH264}, wantVideo: ps.CodecH264},
		{name: "h265", mux: ps.Muxer{VideoCodec: ps.CodecH265}, wantVideo: ps.CodecH265},
		{name: "h264 no PSM", mux: ps.Muxer{VideoCodec: ps.CodecH264, OmitPSM: true}, wantVideo: ps.CodecH264},
		{name: "h265 no PSM", mux: ps.Muxer{VideoCodec: ps.CodecH265, OmitPSM: true}, wantVideo: ps.CodecH265},
		{name: "h265 PSM says h264", mux: ps.Muxer{VideoCodec: ps.CodecH265, PSMVideoStreamType: ps.StreamTypeH264}, wantVideo: ps.CodecH265},
		{name: "h264 unbounded PES", mux: ps.Muxer{VideoCodec: ps.CodecH264, UnboundedVideoPES: true}, wantVideo: ps.CodecH264},
		{name: "h265 unbounded PES no marker", mux: ps.Muxer{VideoCodec: ps.CodecH265, UnboundedVideoPES: true}, noMarker: true, wantVideo: ps.CodecH265},
		{name: "many small PES, tiny RTP", mux: ps.Muxer{VideoCodec: ps.CodecH264, MaxPESPayload: 100}, rtpSize: 7, wantVideo: ps.CodecH264},
		{name: "big frames", mux: ps.Muxer{VideoCodec: ps.CodecH264}, size: 200000, frames: 12, wantVideo: ps.CodecH264},
		{name: "marker on every packet", mux: ps.Muxer{VideoCodec: ps.CodecH264}, allMarker: true, wantVideo: ps.CodecH264},
		{name: "marker on every packet unbounded", mux: ps.Muxer{VideoCodec: ps.CodecH265, UnboundedVideoPES: true}, allMarker: true, wantVideo: ps.CodecH265},
		{name: "g711a", mux: ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A}, audio: g711, wantVideo: ps.CodecH264, wantAudio: ps.CodecG711A},
		{name: "g711u without pack", mux: ps.Muxer{VideoCodec: ps.CodecH265, AudioCodec: ps.CodecG711U, AudioWithoutPack: true}, audio: g711, wantVideo: ps.CodecH265, wantAudio: ps.CodecG711U},
		{name: "aac", mux: ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecAAC}, audio: aac, wantVideo: ps.CodecH264, wantAudio: ps.CodecAAC},
		{name: "aac announced as g711", mux: ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A}, audio: aac, wantVideo: ps.CodecH264, wantAudio: ps.CodecAAC},
		{name: "audio no PSM", mux: ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A, OmitPSM: true}, audio: g711, wantVideo: ps.CodecH264, wantAudio: ps.CodecUnknown},
	}
}

// rtpFrame is the RTP packets of one pack.
type rtpFrame []*rtp.Packet

func packetizeCase(t testing.TB, tc rtCase, aus []testAU) ([]rtpFrame, [][]byte) {
	t.Helper()
	m := tc.mux
	pz := ps.Packetizer{SSRC: 1234, MaxPayloadSize: tc.rtpSize, SequenceNumber: 65500}
	var out []rtpFrame
	var audio [][]byte
	var stream []byte
	for i, au := range aus {
		pack, err := m.AppendVideo(nil, au.pts, au.dts, au.key, au.data)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, pack...)
		out = append(out, pz.Packets(pack, uint32(au.pts)))
		if tc.audio != nil {
			a := tc.audio(i)
			pack, err := m.AppendAudio(nil, au.pts+100, a)
			if err != nil {
				t.Fatal(err)
			}
			audio = append(audio, a)
			out = append(out, pz.Packets(pack, uint32(au.pts+100)))
		}
	}
	_ = stream
	return out, audio
}

func checkFrames(t *testing.T, tc rtCase, c *collector, aus []testAU, audio [][]byte) {
	t.Helper()
	v := c.video()
	if len(v) != len(aus) {
		t.Fatalf("%d video frames, want %d", len(v), len(aus))
	}
	for i, f := range v {
		au := aus[i]
		if !bytes.Equal(f.Payload, au.data) || f.PTS != au.pts || f.DTS != au.dts || f.Keyframe != au.key || f.Codec != tc.wantVideo {
			t.Fatalf("video frame %d: codec %v pts %d key %v len %d; want %v %d %v %d",
				i, f.Codec, f.PTS, f.Keyframe, len(f.Payload), tc.wantVideo, au.pts, au.key, len(au.data))
		}
	}
	a := c.audio()
	if len(a) != len(audio) {
		t.Fatalf("%d audio frames, want %d", len(a), len(audio))
	}
	for i, f := range a {
		if !bytes.Equal(f.Payload, audio[i]) || f.Codec != tc.wantAudio || f.PTS != aus[i].pts+100 {
			t.Fatalf("audio frame %d: codec %v pts %d len %d", i, f.Codec, f.PTS, len(f.Payload))
		}
	}
}

func TestRoundTripRTP(t *testing.T) {
	for _, tc := range rtCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, size := tc.frames, tc.size
			if n == 0 {
				n = 30
			}
			if size == 0 {
				size = 3000
			}
			aus := synthAUs(tc.mux.VideoCodec, n, size, 7)
			frames, audio := packetizeCase(t, tc, aus)
			var d ps.Demuxer
			var c collector
			for _, fr := range frames {
				for _, p := range fr {
					marker := p.Marker
					if tc.noMarker {
						marker = false
					}
					if tc.allMarker {
						marker = true
					}
					out, err := d.WriteRTP(p.Payload, p.Timestamp, marker)
					if err != nil {
						t.Fatal(err)
					}
					c.add(out)
				}
			}
			c.add(d.Flush())
			checkFrames(t, tc, &c, aus, audio)
		})
	}
}

func TestRoundTripWrite(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range rtCases() {
		t.Run(tc.name, func(t *testing.T) {
			aus := synthAUs(tc.mux.VideoCodec, 25, 2000, 9)
			frames, audio := packetizeCase(t, tc, aus)
			var stream []byte
			for _, fr := range frames {
				for _, p := range fr {
					stream = append(stream, p.Payload...)
				}
			}
			var d ps.Demuxer
			var c collector
			for len(stream) > 0 {
				k := min(len(stream), 1+r.IntN(3000))
				if r.IntN(4) == 0 {
					k = 1
				}
				out, err := d.Write(stream[:k])
				if err != nil {
					t.Fatal(err)
				}
				c.add(out)
				stream = stream[k:]
			}
			c.add(d.Flush())
			checkFrames(t, tc, &c, aus, audio)
		})
	}
}

// With a reliable marker the frame comes out with its last packet.
func TestMarkerLatency(t *testing.T) {
	aus := synthAUs(ps.CodecH264, 10, 3000, 1)
	frames, _ := packetizeCase(t, rtCase{mux: ps.Muxer{VideoCodec: ps.CodecH264}}, aus)
	var d ps.Demuxer
	for i, fr := range frames {
		var got []ps.Frame
		for _, p := range fr {
			out, err := d.WriteRTP(p.Payload, p.Timestamp, p.Marker)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out...)
		}
		// The marker is trusted once it has coincided with two frame starts.
		if i >= 3 && (len(got) != 1 || got[0].PTS != aus[i].pts) {
			t.Fatalf("frame %d: got %d frames at its marker", i, len(got))
		}
	}
}
