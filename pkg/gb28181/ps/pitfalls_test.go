package ps_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func be16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

func pts5(prefix byte, ts int64) []byte {
	return []byte{prefix<<4 | byte(ts>>29&0x0E) | 1, byte(ts >> 22), byte(ts>>14&0xFE) | 1, byte(ts >> 7), byte(ts<<1) | 1}
}

// pes2 builds an MPEG-2 PES with a PTS and stuffing bytes in its header.
func pes2(id byte, pts int64, stuffing int, payload []byte, unbounded bool) []byte {
	hdr := append(pts5(2, pts), bytes.Repeat([]byte{0xFF}, stuffing)...)
	l := 3 + len(hdr) + len(payload)
	if unbounded {
		l = 0
	}
	out := append([]byte{0, 0, 1, id}, be16(l)...)
	out = append(out, 0x80, 0x80, byte(len(hdr)))
	out = append(out, hdr...)
	return append(out, payload...)
}

// pes1 builds an MPEG-1 PES (ffmpeg -f mpeg) with stuffing, STD buffer and
// PTS+DTS.
func pes1(id byte, pts int64, payload []byte) []byte {
	hdr := []byte{0xFF, 0xFF, 0x40 | 0x20, 0xE6}
	hdr = append(hdr, pts5(3, pts)...)
	hdr = append(hdr, pts5(1, pts)...)
	out := append([]byte{0, 0, 1, id}, be16(len(hdr)+len(payload))...)
	out = append(out, hdr...)
	return append(out, payload...)
}

func skipStream(id byte, body []byte) []byte {
	out := append([]byte{0, 0, 1, id}, be16(len(body))...)
	return append(out, body...)
}

var (
	mpeg1Pack = []byte{0, 0, 1, 0xBA, 0x21, 0, 1, 0, 1, 0x80, 0, 1}
	mpeg2Pack = []byte{0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1, 0, 0x03, 0xFF, 0xFA, 0xFF, 0xFF} // 2 stuffing bytes
)

// One stream with most of the pitfalls of the digest, §2.2.
func TestPitfallStream(t *testing.T) {
	aus := synthAUs(ps.CodecH264, 4, 500, 2)
	var s []byte
	s = append(s, "garbage\x00\x00"...)
	s = append(s, mpeg2Pack...)
	s = append(s, skipStream(0xBB, []byte{0x80, 0, 1, 0x04, 0xE1, 0x7F})...)
	s = append(s, skipStream(0xBD, []byte("HKMI\x00\x00\x01\xE0junk"))...)
	s = append(s, pes2(0xE2, aus[0].pts, 3, aus[0].data[:100], false)...)
	s = append(s, skipStream(0xBE, bytes.Repeat([]byte{0xFF}, 30))...)
	s = append(s, pes2(0xE2, aus[0].pts, 0, aus[0].data[100:], false)...)  // same PTS: same frame
	s = append(s, 0, 0, 1, 0xBA, 0, 0, 1, 0xBF, 0, 2, 9, 9)                // truncated pack, private 2
	s = append(s, pes2(0xC0, 5000, 0, []byte{0xD5, 0xD5, 0xD5}, false)...) // audio without pack
	s = append(s, mpeg1Pack...)
	s = append(s, pes1(0xE2, aus[1].pts, aus[1].data)...)
	s = append(s, skipStream(0xF0, []byte{1, 2, 3})...)
	s = append(s, mpeg2Pack...)
	s = append(s, pes2(0xE2, aus[2].pts, 0, aus[2].data, true)...) // unbounded
	s = append(s, 0, 0, 1, 0xB9)

	for _, chunk := range []int{1, 5, 1400, len(s)} {
		var d ps.Demuxer
		var c collector
		for b := s; len(b) > 0; {
			k := min(chunk, len(b))
			out, err := d.Write(b[:k])
			if err != nil {
				t.Fatal(err)
			}
			c.add(out)
			b = b[k:]
		}
		// The end code completes the last frame: Flush has nothing left.
		if out := d.Flush(); len(out) != 0 {
			t.Fatalf("chunk %d: Flush returned %d frames", chunk, len(out))
		}
		v, a := c.video(), c.audio()
		if len(v) != 3 || len(a) != 1 {
			t.Fatalf("chunk %d: %d video, %d audio frames", chunk, len(v), len(a))
		}
		for i, f := range v {
			if !bytes.Equal(f.Payload, aus[i].data) || f.PTS != aus[i].pts || f.Codec != ps.CodecH264 || f.StreamID != 0xE2 {
				t.Fatalf("chunk %d: frame %d: %v pts %d len %d", chunk, i, f.Codec, f.PTS, len(f.Payload))
			}
		}
		if a[0].Codec != ps.CodecUnknown || a[0].PTS != 5000 || !bytes.Equal(a[0].Payload, []byte{0xD5, 0xD5, 0xD5}) {
			t.Fatalf("audio frame %+v", a[0])
		}
	}
}

func TestFrameTooLarge(t *testing.T) {
	aus := synthAUs(ps.CodecH264, 20, 3000, 4) // keyframes ~3 KB, P-frames ~0.8 KB
	m := ps.Muxer{VideoCodec: ps.CodecH264}
	d := ps.Demuxer{MaxFrameSize: 1500}
	var c collector
	var tooLarge int
	for _, p := range muxAll(t, &m, aus) {
		out, err := d.Write(p)
		if errors.Is(err, ps.ErrFrameTooLarge) {
			tooLarge++
		} else if err != nil {
			t.Fatal(err)
		}
		c.add(out)
	}
	c.add(d.Flush())
	if tooLarge != 2 {
		t.Fatalf("%d ErrFrameTooLarge, want 2", tooLarge)
	}
	if len(c.frames) != 18 {
		t.Fatalf("%d frames, want the 18 P-frames", len(c.frames))
	}
	for _, f := range c.frames {
		if f.Keyframe || len(f.Payload) > 1500 {
			t.Fatalf("unexpected frame: key %v, %d bytes", f.Keyframe, len(f.Payload))
		}
	}
}

func TestMuxerErrors(t *testing.T) {
	var m ps.Muxer
	if _, err := m.AppendVideo(nil, 0, 0, true, []byte{1}); !errors.Is(err, ps.ErrUnsupportedCodec) {
		t.Fatalf("no video codec: %v", err)
	}
	if _, err := m.AppendAudio(nil, 0, []byte{1}); !errors.Is(err, ps.ErrUnsupportedCodec) {
		t.Fatalf("no audio codec: %v", err)
	}
	m = ps.Muxer{VideoCodec: ps.CodecH264, AudioCodec: ps.CodecG711A}
	if _, err := m.AppendVideo(nil, 0, 0, true, nil); !errors.Is(err, ps.ErrEmptyFrame) {
		t.Fatalf("empty video: %v", err)
	}
	if _, err := m.AppendAudio(nil, 0, nil); !errors.Is(err, ps.ErrEmptyFrame) {
		t.Fatalf("empty audio: %v", err)
	}
	if _, err := m.AppendAudio(nil, 0, make([]byte, 70000)); !errors.Is(err, ps.ErrFrameTooLarge) {
		t.Fatalf("huge audio: %v", err)
	}
}

// B-frame style timestamps: DTS differs from PTS and must survive.
func TestPTSAndDTS(t *testing.T) {
	aus := synthAUs(ps.CodecH264, 5, 100, 8)
	for i := range aus {
		aus[i].dts = aus[i].pts - 3600
		aus[i].pts += int64(i%2) * 7200
	}
	// Around the 33-bit wrap: timestamps keep increasing.
	for i := range aus {
		aus[i].pts += 1<<33 - 3*3600
		aus[i].dts += 1<<33 - 3*3600
	}
	m := ps.Muxer{VideoCodec: ps.CodecH264}
	var d ps.Demuxer
	var c collector
	for _, p := range muxAll(t, &m, aus) {
		out, err := d.Write(p)
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
	}
	c.add(d.Flush())
	if len(c.frames) != len(aus) {
		t.Fatalf("%d frames", len(c.frames))
	}
	for i, f := range c.frames {
		if f.PTS != aus[i].pts || f.DTS != aus[i].dts {
			t.Fatalf("frame %d: pts %d dts %d, want %d %d", i, f.PTS, f.DTS, aus[i].pts, aus[i].dts)
		}
	}
}

// A stream without any PTS falls back to the RTP timestamp.
func TestNoPTS(t *testing.T) {
	au := synthAUs(ps.CodecH264, 2, 100, 3)
	var d ps.Demuxer
	var c collector
	for i, a := range au {
		p := append([]byte{}, mpeg2Pack...)
		p = append(p, 0, 0, 1, 0xE0)
		p = append(p, be16(3+len(a.data))...)
		p = append(p, 0x80, 0, 0)
		p = append(p, a.data...)
		out, err := d.WriteRTP(p, uint32(9000+i*3600), true)
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
	}
	c.add(d.Flush())
	if len(c.frames) != 2 || c.frames[0].PTS != 9000 || c.frames[1].PTS != 12600 {
		t.Fatalf("frames %d", len(c.frames))
	}
}

func TestResetAndKeepalive(t *testing.T) {
	aus := synthAUs(ps.CodecH265, 3, 100, 3)
	m := ps.Muxer{VideoCodec: ps.CodecH265}
	var d ps.Demuxer
	packs := muxAll(t, &m, aus)
	if _, err := d.Write(packs[0][:50]); err != nil {
		t.Fatal(err)
	}
	if out, err := d.WriteRTP(nil, 0, true); err != nil || len(out) != 0 {
		t.Fatal("keepalive")
	}
	if out, err := d.Write(nil); err != nil || len(out) != 0 {
		t.Fatal("empty write")
	}
	d.Reset()
	var c collector
	for _, p := range packs {
		out, err := d.Write(p)
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
	}
	c.add(d.Flush())
	if len(c.frames) != 3 || c.frames[0].Codec != ps.CodecH265 || !c.frames[0].Keyframe {
		t.Fatalf("after reset: %d frames", len(c.frames))
	}
}

func TestCodec(t *testing.T) {
	for _, c := range []ps.Codec{ps.CodecH264, ps.CodecH265, ps.CodecG711A, ps.CodecG711U, ps.CodecAAC} {
		if ps.CodecFromStreamType(c.StreamType()) != c || c.String() == "Unknown" || c.IsVideo() == c.IsAudio() {
			t.Fatalf("codec %v", c)
		}
	}
	if ps.CodecUnknown.StreamType() != 0 || ps.CodecFromStreamType(0x10) != ps.CodecUnknown || ps.CodecUnknown.String() != "Unknown" {
		t.Fatal("unknown codec")
	}
}
