package ps_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

const fuzzMaxFrame = 64 << 10

// FuzzDemuxer feeds fuzzed payload sequences: each chunk is a length byte
// (bit 7: RTP marker, 0x7F: signal a loss) followed by that many bytes.
func FuzzDemuxer(f *testing.F) {
	m := ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A}
	for _, au := range synthAUs(ps.CodecH264, 2, 40, 1) {
		p, _ := m.AppendVideo(nil, au.pts, au.dts, au.key, au.data)
		f.Add(chunked(p, 50))
	}
	a, _ := m.AppendAudio(nil, 100, []byte{0xD5, 0xD5})
	f.Add(chunked(a, 10))
	f.Add(chunked(pes2(0xE0, 1, 2, []byte{0, 0, 1, 0x41, 0x9A, 1}, true), 7))
	f.Add(chunked(append(append([]byte{}, mpeg1Pack...), pes1(0xE2, 3, []byte{0, 0, 1, 0x65, 0x88})...), 9))
	f.Add(chunked(tsPackets(0, psi(0, []byte{0, 1, 0xE1, 0})), 94))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := ps.Demuxer{MaxFrameSize: fuzzMaxFrame}
		check := func(fs []ps.Frame) {
			for _, fr := range fs {
				if fr.Codec < ps.CodecUnknown || fr.Codec > ps.CodecAAC {
					t.Fatalf("codec %d", fr.Codec)
				}
				if len(fr.Payload) == 0 || len(fr.Payload) > fuzzMaxFrame {
					t.Fatalf("frame of %d bytes", len(fr.Payload))
				}
				if fr.Codec.IsVideo() && fr.StreamID < 0xE0 || fr.Codec.IsAudio() && fr.StreamID >= 0xE0 {
					t.Fatalf("codec %v on stream %#x", fr.Codec, fr.StreamID)
				}
			}
		}
		ts := uint32(0)
		for len(data) > 0 {
			h := data[0]
			data = data[1:]
			if h == 0x7F {
				d.Loss()
				continue
			}
			n := min(int(h&0x7F), len(data))
			ts += 3600
			out, _ := d.WriteRTP(data[:n], ts, h&0x80 != 0)
			check(out)
			data = data[n:]
		}
		check(d.Flush())
	})
}

// chunked encodes b in the FuzzDemuxer input format.
func chunked(b []byte, n int) []byte {
	var out []byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, byte(k))
		out = append(out, b[:k]...)
		b = b[k:]
	}
	return out
}

// fuzzAUs turns fuzz bytes into valid access units: an AUD and one slice
// whose body is the fuzz bytes with emulation prevention applied.
func fuzzAUs(codec ps.Codec, data []byte) []testAU {
	var aus []testAU
	for i := 0; len(data) > 0; i++ {
		n := min(int(data[0])*8+1, len(data))
		body := data[:n]
		data = data[n:]
		var au []byte
		key := i == 0
		if codec == ps.CodecH264 {
			au = []byte{0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x80}
			if key {
				au[10] = 0x65
			}
		} else {
			au = []byte{0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x02, 0x01, 0x80}
			if key {
				au[11] = 0x26
			}
		}
		zeros := 0
		for _, c := range body {
			if zeros >= 2 && c <= 3 {
				au = append(au, 3)
				zeros = 0
			}
			au = append(au, c)
			if c == 0 {
				zeros++
			} else {
				zeros = 0
			}
		}
		au = append(au, 0x80) // rbsp_stop_one_bit: no trailing zero
		aus = append(aus, testAU{pts: int64(i) * 3000, dts: int64(i) * 3000, key: key, data: au})
	}
	return aus
}

// FuzzRoundTrip muxes fuzzed frames with fuzzed muxer and packetizer
// settings and demuxes them again: every frame must come back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add(byte(0), []byte("hello world"))
	f.Add(byte(0xFF), bytes.Repeat([]byte{0, 0, 1, 0xBA}, 100))
	f.Add(byte(0x5A), bytes.Repeat([]byte{0, 0, 0, 1, 0xE0, 0xFF}, 300))
	f.Fuzz(func(t *testing.T, opts byte, data []byte) {
		codec := ps.CodecH264
		if opts&1 != 0 {
			codec = ps.CodecH265
		}
		m := ps.Muxer{VideoCodec: codec, OmitPSM: opts&2 != 0, UnboundedVideoPES: opts&4 != 0}
		if opts&8 != 0 {
			m.MaxPESPayload = 50
		}
		if opts&16 != 0 {
			m.PSMVideoStreamType = ps.StreamTypeH264
		}
		pz := ps.Packetizer{MaxPayloadSize: 1 + int(opts>>5)*200}
		aus := fuzzAUs(codec, data)
		var d ps.Demuxer
		var c collector
		for _, au := range aus {
			pack, err := m.AppendVideo(nil, au.pts, au.dts, au.key, au.data)
			if err != nil {
				t.Fatal(err)
			}
			err = pz.Visit(pack, uint32(au.pts), func(p *rtp.Packet) error {
				out, err := d.WriteRTP(p.Payload, p.Timestamp, p.Marker)
				c.add(out)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		c.add(d.Flush())
		if len(c.frames) != len(aus) {
			t.Fatalf("%d frames, want %d", len(c.frames), len(aus))
		}
		for i, fr := range c.frames {
			if !bytes.Equal(fr.Payload, aus[i].data) || fr.PTS != aus[i].pts || fr.Keyframe != aus[i].key || fr.Codec != codec {
				t.Fatalf("frame %d differs: %v %d key %v", i, fr.Codec, fr.PTS, fr.Keyframe)
			}
		}
	})
}
