package ps_test

import (
	"bytes"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// tsPackets cuts payload into 188-byte TS packets of pid, padding the last
// one with adaptation field stuffing.
func tsPackets(pid int, payload []byte) []byte {
	var out []byte
	for first := true; len(payload) > 0 || first; first = false {
		h := []byte{0x47, byte(pid >> 8 & 0x1F), byte(pid), 0x10}
		if first {
			h[1] |= 0x40
		}
		n := min(len(payload), 184)
		if n < 184 {
			h[3] = 0x30
			af := []byte{byte(183 - n)}
			if 183-n > 0 {
				af = append(af, 0)
				af = append(af, bytes.Repeat([]byte{0xFF}, 183-n-1)...)
			}
			h = append(h, af...)
		}
		out = append(out, h...)
		out = append(out, payload[:n]...)
		payload = payload[n:]
	}
	return out
}

func psi(tableID byte, body []byte) []byte {
	l := 5 + len(body) + 4
	s := []byte{0, tableID, 0xB0 | byte(l>>8), byte(l), 0, 1, 0xC1, 0, 0}
	s = append(s, body...)
	return append(s, 0, 0, 0, 0) // CRC, not checked
}

func TestDemuxMPEGTS(t *testing.T) {
	aus := synthAUs(ps.CodecH265, 6, 1000, 6)
	var ts []byte
	ts = append(ts, tsPackets(0, psi(0, []byte{0, 0, 0xE0, 0x10, 0, 1, 0xF0, 0}))...) // NIT entry, then program 1 → PMT 0x1000
	pmt := []byte{
		0xE1, 0x00, 0xF0, 0x00,
		0x24, 0xE1, 0x00, 0xF0, 0x00,
		0x0F, 0xE1, 0x01, 0xF0, 0x00,
	}
	ts = append(ts, tsPackets(0x1000, psi(2, pmt))...)
	var audio [][]byte
	for i, au := range aus {
		ts = append(ts, tsPackets(0x100, pes2(0xE0, au.pts, 0, au.data, true))...)
		a := adts(bytes.Repeat([]byte{byte(i + 1)}, 20))
		audio = append(audio, a)
		ts = append(ts, tsPackets(0x101, pes2(0xC0, au.pts, 0, a, false))...)
	}
	// Unknown PID and a packet with transport_error_indicator are ignored.
	ts = append(ts, tsPackets(0x555, []byte{1, 2, 3})...)
	bad := tsPackets(0x100, []byte{0, 0, 1})
	bad[1] |= 0x80
	ts = append(ts, bad...)

	for _, chunk := range []int{188 * 7, 100, len(ts)} {
		var d ps.Demuxer
		var c collector
		for b := append([]byte{0x47}, ts...); len(b) > 0; { // a stray sync byte first
			k := min(chunk, len(b))
			out, err := d.Write(b[:k])
			if err != nil {
				t.Fatal(err)
			}
			c.add(out)
			b = b[k:]
		}
		c.add(d.Flush())
		v, a := c.video(), c.audio()
		if len(v) != len(aus) || len(a) != len(audio) {
			t.Fatalf("chunk %d: %d video, %d audio", chunk, len(v), len(a))
		}
		for i, f := range v {
			if !bytes.Equal(f.Payload, aus[i].data) || f.Codec != ps.CodecH265 || f.PTS != aus[i].pts {
				t.Fatalf("chunk %d: video %d wrong: %v %d %d / %d %d", chunk, i, f.Codec, f.PTS, len(f.Payload), aus[i].pts, len(aus[i].data))
			}
		}
		for i, f := range a {
			if !bytes.Equal(f.Payload, audio[i]) || f.Codec != ps.CodecAAC || f.StreamType != ps.StreamTypeAAC {
				t.Fatalf("chunk %d: audio %d wrong", chunk, i)
			}
		}
	}

	// Loss in TS mode drops the PES being assembled.
	var d ps.Demuxer
	var c collector
	pk := len(ts) / 188
	for i := range pk {
		if i == pk/2 {
			d.Loss()
			continue
		}
		out, err := d.WriteRTP(ts[i*188:(i+1)*188], 0, false)
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
	}
	c.add(d.Flush())
	for _, f := range c.video() {
		if f.Codec != ps.CodecH265 || !bytes.Equal(f.Payload, aus[(f.PTS-1000)/3600].data) {
			t.Fatal("damaged frame after TS loss")
		}
	}
}
