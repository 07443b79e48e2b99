package ps

import "testing"

func TestParsePESHeader(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		st     hdrStatus
		hdrLen int
		payLen int
		pts    uint64
		dts    uint64
		hasPTS bool
		hasDTS bool
	}{
		{"short", []byte{0, 0, 1, 0xE0, 0, 5}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg2 short opt", []byte{0, 0, 1, 0xE0, 0, 5, 0x80}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg2 no pts", []byte{0, 0, 1, 0xE0, 0, 5, 0x80, 0, 0, 1, 2}, hdrOK, 9, 2, 0, 0, false, false},
		{"mpeg2 pts", []byte{0, 0, 1, 0xE0, 0, 8, 0x80, 0x80, 5, 0x21, 0, 1, 0, 3}, hdrOK, 14, 0, 1, 0, true, false},
		{"mpeg2 pts short", []byte{0, 0, 1, 0xE0, 0, 8, 0x80, 0x80, 5, 0x21}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg2 pts hdr too small", []byte{0, 0, 1, 0xE0, 0, 8, 0x80, 0x80, 2, 0x21, 0}, hdrBad, 0, 0, 0, 0, false, false},
		{"mpeg2 dts hdr too small", []byte{0, 0, 1, 0xE0, 0, 8, 0x80, 0xC0, 5, 0x31, 0, 1, 0, 3}, hdrBad, 0, 0, 0, 0, false, false},
		{"mpeg2 forbidden flags", []byte{0, 0, 1, 0xE0, 0, 3, 0x80, 0x40, 0}, hdrBad, 0, 0, 0, 0, false, false},
		{"mpeg2 length too small", []byte{0, 0, 1, 0xE0, 0, 2, 0x80, 0x80, 5, 0x21, 0, 1, 0, 3}, hdrBad, 0, 0, 0, 0, false, false},
		{"mpeg2 pts dts", []byte{0, 0, 1, 0xE0, 0, 0, 0x80, 0xC0, 10, 0x31, 0, 1, 0, 5, 0x11, 0, 1, 0, 3}, hdrOK, 19, -1, 2, 1, true, true},
		{"mpeg1 0x0F", []byte{0, 0, 1, 0xC0, 0, 3, 0xFF, 0x0F, 7}, hdrOK, 8, 1, 0, 0, false, false},
		{"mpeg1 std pts", []byte{0, 0, 1, 0xC0, 0, 7, 0x40, 0x00, 0x21, 0, 1, 0, 3}, hdrOK, 13, 0, 1, 0, true, false},
		{"mpeg1 pts dts", []byte{0, 0, 1, 0xC0, 0, 0, 0x31, 0, 1, 0, 5, 0x11, 0, 1, 0, 3}, hdrOK, 16, -1, 2, 1, true, true},
		{"mpeg1 pts short", []byte{0, 0, 1, 0xC0, 0, 7, 0x21, 0}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg1 dts short", []byte{0, 0, 1, 0xC0, 0, 7, 0x31, 0, 1, 0, 5}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg1 stuffing short", []byte{0, 0, 1, 0xC0, 0, 7, 0xFF, 0xFF}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg1 std short", []byte{0, 0, 1, 0xC0, 0, 7, 0x40, 0}, hdrMore, 0, 0, 0, 0, false, false},
		{"mpeg1 too much stuffing", append([]byte{0, 0, 1, 0xC0, 0, 30}, make17FF()...), hdrBad, 0, 0, 0, 0, false, false},
		{"mpeg1 bad", []byte{0, 0, 1, 0xC0, 0, 7, 0x05, 0}, hdrBad, 0, 0, 0, 0, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, st := parsePESHeader(tc.in)
			if st != tc.st {
				t.Fatalf("status %d, want %d", st, tc.st)
			}
			if st != hdrOK {
				return
			}
			if h.hdrLen != tc.hdrLen || h.payLen != tc.payLen || h.pts != tc.pts || h.dts != tc.dts || h.hasPTS != tc.hasPTS || h.hasDTS != tc.hasDTS {
				t.Fatalf("got %+v", h)
			}
		})
	}
}

func make17FF() []byte {
	b := make([]byte, 17)
	for i := range b {
		b[i] = 0xFF
	}
	return b
}

func TestPackHeaderLen(t *testing.T) {
	cases := []struct {
		in []byte
		n  int
		st hdrStatus
	}{
		{[]byte{0, 0, 1, 0xBA}, 0, hdrMore},
		{[]byte{0, 0, 1, 0xBA, 0x44, 0, 0}, 0, hdrMore},
		{[]byte{0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1, 0, 0, 3, 0xFB}, 17, hdrOK},
		{[]byte{0, 0, 1, 0xBA, 0x21}, 12, hdrOK},
		{[]byte{0, 0, 1, 0xBA, 0, 0, 1, 0xE0}, 0, hdrBad},
	}
	for i, tc := range cases {
		if n, st := packHeaderLen(tc.in); n != tc.n || st != tc.st {
			t.Fatalf("case %d: %d %d", i, n, st)
		}
	}
}

func TestParsePSM(t *testing.T) {
	var m Muxer
	m.VideoCodec, m.AudioCodec = CodecH265, CodecG711U
	psm := m.appendPSM(nil)
	var got []psmEntry
	if !parsePSM(psm, func(e psmEntry) { got = append(got, e) }) {
		t.Fatal("own PSM rejected")
	}
	if len(got) != 2 || got[0] != (psmEntry{StreamTypeH265, 0xE0}) || got[1] != (psmEntry{StreamTypeG711U, 0xC0}) {
		t.Fatalf("entries %v", got)
	}
	// CRC as computed by the MPEG-2 CRC over the whole PSM is 0.
	if newMPEGCRC().sum(psm) != 0 {
		t.Fatal("PSM CRC wrong")
	}
	bad := [][]byte{
		psm[:10],
		append(append([]byte{}, psm[:4]...), 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), // length beyond data
		{0, 0, 1, 0xBC, 0, 10, 0xE0, 0xFF, 0, 20, 0, 0, 0, 0, 0, 0},                    // info length beyond end
		{0, 0, 1, 0xBC, 0, 14, 0xE0, 0xFF, 0, 0, 0, 40, 0x1B, 0xE0, 0, 0, 0, 0, 0, 0},  // map length clipped
	}
	for i, b := range bad[:3] {
		if parsePSM(b, func(psmEntry) {}) {
			t.Fatalf("bad PSM %d accepted", i)
		}
	}
	n := 0
	if !parsePSM(bad[3], func(psmEntry) { n++ }) || n != 2 {
		t.Fatalf("clipped map: %d entries", n)
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name   string
		au     []byte
		codec  Codec
		strong bool
		key    bool
	}{
		{"h264 idr", []byte{0, 0, 1, 0x06, 5, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 1, 0, 0, 1, 0x65, 0x88}, CodecH264, true, true},
		{"h264 p", []byte{0, 0, 1, 0x41, 0x9A}, CodecH264, false, false},
		{"h265 idr", []byte{0, 0, 1, 0x40, 1, 0, 0, 1, 0x42, 1, 0, 0, 1, 0x44, 1, 0, 0, 1, 0x26, 1, 0xAF}, CodecH265, true, true},
		{"h265 p", []byte{0, 0, 1, 0x02, 1, 0xD0}, CodecH265, false, false},
		{"ambiguous", []byte{0, 0, 1, 0x06, 5}, CodecUnknown, false, false},
		{"garbage", []byte{0, 0, 1, 0xFF, 0xFF, 0, 0, 1}, CodecUnknown, false, false},
		{"nothing", []byte{1, 2, 3}, CodecUnknown, false, false},
		{"h264 odd types", []byte{0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x02, 0, 0, 1, 0x05, 0, 0, 1, 0x65, 0x88}, CodecH264, true, true},
		{"h265 reserved", []byte{0, 0, 1, 0x16 << 1, 1, 0, 0, 1, 0x40, 1, 0, 0, 1, 0x26, 1}, CodecH265, true, true},
	}
	for _, tc := range cases {
		r := sniffAU(tc.au)
		key := (r.codec == CodecH264 && r.key264) || (r.codec == CodecH265 && r.key265)
		if r.codec != tc.codec || r.strong != tc.strong || key != tc.key {
			t.Fatalf("%s: %+v", tc.name, r)
		}
	}
}

func TestResolveVideo(t *testing.T) {
	weak265 := sniffResult{codec: CodecH265}
	strong264 := sniffResult{codec: CodecH264, strong: true, key264: true}
	tr := track{video: true}
	tr.applyType(StreamTypeH264)
	for i := range 2 {
		tr.resolveVideo(weak265)
		if tr.codec != CodecH264 {
			t.Fatalf("switched after %d weak votes", i+1)
		}
	}
	tr.resolveVideo(weak265)
	if tr.codec != CodecH265 {
		t.Fatal("3 weak votes must overrule the PSM")
	}
	tr.applyType(StreamTypeH264) // the same lying PSM again: no effect
	if tr.codec != CodecH265 {
		t.Fatal("repeated PSM undid the sniff")
	}
	if !tr.resolveVideo(strong264) || tr.codec != CodecH264 {
		t.Fatal("strong sniff must switch at once")
	}
	tr.applyType(0x10) // MPEG-4 video
	if tr.resolveVideo(sniffResult{}) || tr.codec != CodecUnknown {
		t.Fatal("unknown video codec")
	}
}

func TestIsADTS(t *testing.T) {
	f := []byte{0xFF, 0xF1, 0x50, 0x80, 0x01, 0x1F, 0xFC, 1} // 8 bytes
	cases := []struct {
		in   []byte
		want bool
	}{
		{f, true},
		{append(append([]byte{}, f...), f...), true},
		{append(append([]byte{}, f...), 0xFF), false},
		{f[:6], false},
		{[]byte{0xFF, 0xFD, 0x50, 0x80, 0x01, 0x1F, 0xFC, 1}, false}, // MPEG audio layer bits
		{[]byte{0xFF, 0xF1, 0x50, 0x80, 0x00, 0x1F, 0xFC, 1}, false}, // length < 7
	}
	for i, tc := range cases {
		if isADTS(tc.in) != tc.want {
			t.Fatalf("case %d", i)
		}
	}
}

func TestUnwrap(t *testing.T) {
	var u unwrap33
	if u.peek(5) != 5 {
		t.Fatal("peek before init")
	}
	in := []uint64{mask33 - 10, mask33, 5, 1, 1 << 32}
	want := []int64{mask33 - 10, mask33, mask33 + 6, mask33 + 2, 1 << 32}
	for i, v := range in {
		if i == 4 {
			want[4] = mask33 + 2 + 1<<32 - 1
		}
		if p := u.peek(v); p != want[i] {
			t.Fatalf("peek %d: %d want %d", i, p, want[i])
		}
		if got := u.unwrap(v); got != want[i] {
			t.Fatalf("unwrap %d: %d want %d", i, got, want[i])
		}
	}
}

func TestNALRole(t *testing.T) {
	cases := []struct {
		c                   Codec
		b0, b1, b2          byte
		vcl, first, auStart bool
	}{
		{CodecH264, 0x65, 0x88, 0, true, true, false},
		{CodecH264, 0x41, 0x1A, 0, true, false, false},
		{CodecH264, 0x09, 0xF0, 0, false, false, true},
		{CodecH264, 0x8C, 0, 0, false, false, false},
		{CodecH264, 0x0C, 0, 0, false, false, false},
		{CodecH265, 0x26, 0x01, 0xAF, true, true, false},
		{CodecH265, 0x02, 0x01, 0x50, true, false, false},
		{CodecH265, 0x4E, 0x01, 0, false, false, true},
		{CodecH265, 0x50, 0x01, 0, false, false, false},
		{CodecH265, 0x02, 0x00, 0, false, false, false},
		{CodecUnknown, 0x65, 0x88, 0, false, false, false},
	}
	for i, tc := range cases {
		v, f, s := nalRole(tc.c, tc.b0, tc.b1, tc.b2)
		if v != tc.vcl || f != tc.first || s != tc.auStart {
			t.Fatalf("case %d: %v %v %v", i, v, f, s)
		}
	}
}
