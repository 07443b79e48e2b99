package whep

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestRTPTimestamp(t *testing.T) {
	tests := []struct {
		clock int64
		pts   int64
		want  uint32
	}{
		{90000, 0, 0},
		{90000, 3600, 3600},
		{90000, 1 << 33, 0}, // 33-bit wrap is unwrapped upstream; 32-bit RTP wraps
		{8000, 1800, 160},   // 20 ms
		{8000, 90000, 8000},
		{8000, 45, 4},          // 45*8000/90000 = 4.0
		{8000, 44, 3},          // 3.91: rounded down
		{8000, -1, ^uint32(0)}, // floor, not truncation toward zero
		{8000, 90000 * 3600 * 24 * 365, uint32(int64(8000*3600*24*365) & 0xFFFFFFFF)},
	}
	for _, tc := range tests {
		p := newPacketizer(tc.clock, false)
		p.tsOffset = 0
		if got := p.rtpTimestamp(tc.pts); got != tc.want {
			t.Errorf("clock %d PTS %d: %d, want %d", tc.clock, tc.pts, got, tc.want)
		}
	}
}

// annexB joins NAL units with 4-byte start codes.
func annexB(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

func TestPacketizeH264(t *testing.T) {
	sps := []byte{0x67, 0x4d, 0x40, 0x1e, 0xaa, 0xbb}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	aud := []byte{0x09, 0xf0}
	idr := append([]byte{0x65}, bytes.Repeat([]byte{0x11}, 5000)...)
	au := annexB(aud, sps, pps, idr)

	p := newPacketizer(90000, true)
	var pkts []rtp.Packet
	err := p.packetize(hub.Unit{Codec: ps.CodecH264, PTS: 7200, Payload: au}, func(pkt *rtp.Packet) error {
		c := *pkt
		c.Payload = append([]byte(nil), pkt.Payload...)
		pkts = append(pkts, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// STAP-A (SPS+PPS) then 5 FU-A fragments of the IDR.
	if len(pkts) != 6 {
		t.Fatalf("%d packets, want 6", len(pkts))
	}
	var depack codecs.H264Packet
	var out []byte
	for i, pkt := range pkts {
		if len(pkt.Payload) > rtpMaxPayload {
			t.Errorf("packet %d: %d bytes of payload", i, len(pkt.Payload))
		}
		if pkt.Marker != (i == len(pkts)-1) {
			t.Errorf("packet %d: marker %v", i, pkt.Marker)
		}
		if pkt.Timestamp != p.tsOffset+7200 || pkt.SequenceNumber != pkts[0].SequenceNumber+uint16(i) {
			t.Errorf("packet %d: ts %d seq %d", i, pkt.Timestamp, pkt.SequenceNumber)
		}
		b, err := depack.Unmarshal(pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if want := annexB(sps, pps, idr); !bytes.Equal(out, want) {
		t.Fatalf("depacketized %d bytes, want the %d of SPS, PPS, IDR (AUD dropped)", len(out), len(want))
	}
	if pkts[0].Payload[0]&0x1F != 24 {
		t.Fatalf("first packet NAL type %d, want STAP-A", pkts[0].Payload[0]&0x1F)
	}
}

func TestPacketizeG711(t *testing.T) {
	p := newPacketizer(8000, false)
	var got []rtp.Packet
	emit := func(pkt *rtp.Packet) error {
		got = append(got, *pkt)
		return nil
	}
	frame := make([]byte, 160)
	big := make([]byte, 2*rtpMaxPayload+10)
	for _, u := range []hub.Unit{
		{Codec: ps.CodecG711A, PTS: 0, Payload: frame},
		{Codec: ps.CodecG711A, PTS: 1800, Payload: frame},
		{Codec: ps.CodecG711A, PTS: 3600, Payload: big},
	} {
		if err := p.packetize(u, emit); err != nil {
			t.Fatal(err)
		}
	}
	wantTS := []uint32{0, 160, 320, 320 + rtpMaxPayload, 320 + 2*rtpMaxPayload}
	wantLen := []int{160, 160, rtpMaxPayload, rtpMaxPayload, 10}
	if len(got) != len(wantTS) {
		t.Fatalf("%d packets, want %d", len(got), len(wantTS))
	}
	for i, pkt := range got {
		if pkt.Timestamp-p.tsOffset != wantTS[i] || len(pkt.Payload) != wantLen[i] || pkt.Marker {
			t.Errorf("packet %d: ts %d len %d marker %v", i, pkt.Timestamp-p.tsOffset, len(pkt.Payload), pkt.Marker)
		}
	}
}

func TestH264ProfileLevelID(t *testing.T) {
	tests := []struct {
		name string
		au   []byte
		want string
	}{
		{"SPS after AUD", annexB([]byte{0x09, 0xf0}, []byte{0x67, 0x64, 0x00, 0x28, 0xac}, []byte{0x65, 1}), "640028"},
		{"3-byte start codes", []byte{0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 1, 0x65}, "42e01f"},
		{"no SPS", annexB([]byte{0x41, 1, 2}), ""},
		{"truncated SPS", annexB([]byte{0x67, 0x42}), ""},
		{"empty", nil, ""},
		{"zeros", make([]byte, 16), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := h264ProfileLevelID(tc.au)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("got %q %v, want %q", got, ok, tc.want)
			}
		})
	}
}

func FuzzH264ProfileLevelID(f *testing.F) {
	f.Add(annexB([]byte{0x67, 0x64, 0x00, 0x28}))
	f.Add([]byte{0, 0, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if plid, ok := h264ProfileLevelID(b); ok && len(plid) != 6 {
			t.Fatalf("profile-level-id %q", plid)
		}
		p := newPacketizer(90000, true)
		_ = p.packetize(hub.Unit{Codec: ps.CodecH264, Payload: b}, func(pkt *rtp.Packet) error {
			if len(pkt.Payload) > rtpMaxPayload {
				t.Fatalf("%d bytes of payload", len(pkt.Payload))
			}
			return nil
		})
	})
}
