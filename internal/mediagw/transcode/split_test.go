package transcode

import (
	"bytes"
	"slices"
	"testing"
)

// annexB joins NAL units with the given start codes.
func annexB(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	sc4   = []byte{0, 0, 0, 1}
	sc3   = []byte{0, 0, 1}
	aud   = []byte{0x09, 0xF0}
	sps   = []byte{0x67, 0x4D, 0x00, 0x1E}
	pps   = []byte{0x68, 0xEE, 0x3C, 0x80}
	idr   = []byte{0x65, 0x88, 0x84, 0x00, 0x21}
	slice = []byte{0x41, 0x9A, 0x02, 0x04}
)

func TestAUSplitter(t *testing.T) {
	key := annexB(sc4, aud, sc4, sps, sc4, pps, sc3, idr)
	p1 := annexB(sc4, aud, sc3, slice)
	p2 := annexB(sc3, aud, sc4, slice, sc3, slice)
	tests := []struct {
		name  string
		input []byte
		want  [][]byte // completed by push, then the flushed one
	}{
		{"three units", annexB(key, p1, p2), [][]byte{key, p1, p2}},
		{"junk before the first delimiter", annexB([]byte{1, 2, 3}, sc3, slice, key, p1), [][]byte{key, p1}},
		{"no delimiter", annexB(sc4, slice, sc4, slice), nil},
		{"adjacent delimiters", annexB(sc4, aud, sc4, aud, sc3, slice), [][]byte{annexB(sc4, aud), annexB(sc4, aud, sc3, slice)}},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 3, 5, 7, len(tc.input)} {
			s := newAUSplitter()
			var got [][]byte
			for i := 0; i < len(tc.input); i += chunk {
				aus, err := s.push(tc.input[i:min(i+chunk, len(tc.input))])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, aus...)
			}
			if au := s.flush(); au != nil {
				got = append(got, au)
			}
			if !slices.EqualFunc(got, tc.want, bytes.Equal) {
				t.Errorf("%s, chunks of %d: got %x, want %x", tc.name, chunk, got, tc.want)
			}
		}
	}
}

func TestIsIDR(t *testing.T) {
	tests := []struct {
		au   []byte
		want bool
	}{
		{annexB(sc4, aud, sc4, sps, sc4, pps, sc3, idr), true},
		{annexB(sc4, aud, sc3, slice), false},
		{nil, false},
		{[]byte{0, 0, 1}, false},
	}
	for i, tc := range tests {
		if got := isIDR(tc.au); got != tc.want {
			t.Errorf("%d: isIDR = %v, want %v", i, got, tc.want)
		}
	}
}

func TestPTSQueue(t *testing.T) {
	type in struct {
		pts int64
		key bool
	}
	type out struct {
		key     bool
		pts     int64
		skipped int
		ok      bool
	}
	tests := []struct {
		name string
		in   []in
		out  []out
	}{
		{
			"one to one",
			[]in{{0, true}, {3600, false}, {7200, false}},
			[]out{{true, 0, 0, true}, {false, 3600, 0, true}, {false, 7200, 0, true}, {false, 0, 0, false}},
		},
		{
			// ffmpeg dropped the frame at 3600: the keyframe output at
			// 7200 skips it.
			"realign at keyframe",
			[]in{{0, true}, {3600, false}, {7200, true}, {10800, false}},
			[]out{{true, 0, 0, true}, {true, 7200, 1, true}, {false, 10800, 0, true}},
		},
		{
			// An encoder keyframe far from any input keyframe keeps the
			// plain order.
			"encoder keyframe",
			[]in{{0, false}, {3600, false}, {7200, false}, {10800, false}, {14400, false}, {18000, true}},
			[]out{{true, 0, 0, true}, {false, 3600, 0, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &ptsQueue{}
			for _, e := range tc.in {
				q.push(e.pts, e.key)
			}
			for i, want := range tc.out {
				pts, skipped, ok := q.pop(want.key)
				if pts != want.pts || skipped != want.skipped || ok != want.ok {
					t.Fatalf("pop %d: (%d, %d, %v), want (%d, %d, %v)", i, pts, skipped, ok, want.pts, want.skipped, want.ok)
				}
			}
		})
	}
}

// FuzzAUSplitter: whatever the bytes and chunking, the splitter does not
// panic and its units put together are the input from the first
// delimiter on.
func FuzzAUSplitter(f *testing.F) {
	f.Add(annexB(sc4, aud, sc4, sps, sc4, pps, sc3, idr, sc4, aud, sc3, slice), uint8(3))
	f.Add(annexB([]byte{0, 0}, sc3, aud, []byte{0, 0, 0}, sc3, aud), uint8(1))
	f.Add([]byte{0, 0, 1, 9, 0, 0, 1}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		n := int(chunk%16) + 1
		s := newAUSplitter()
		var got []byte
		for i := 0; i < len(data); i += n {
			aus, err := s.push(data[i:min(i+n, len(data))])
			if err != nil {
				t.Fatal(err)
			}
			for _, au := range aus {
				got = append(got, au...)
			}
		}
		got = append(got, s.flush()...)
		want := []byte(nil)
		if first := firstAUD(data); first >= 0 {
			want = data[first:]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("units %x, want %x", got, want)
		}
	})
}

// firstAUD is a plain reference scan for the first delimiter's start code.
func firstAUD(b []byte) int {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if b[i+3]&0x1F == nalAUD {
				if i > 0 && b[i-1] == 0 {
					return i - 1
				}
				return i
			}
			i += 2
		}
	}
	return -1
}
