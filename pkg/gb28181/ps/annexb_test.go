package ps_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

func TestNALUnits(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{1, 2, 3, 4}, nil},
		{"3-byte codes", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"4-byte codes drop the zero", []byte{0, 0, 0, 1, 0x65, 9, 0, 0, 0, 1, 0x41}, [][]byte{{0x65, 9}, {0x41}}},
		{"junk before the first", []byte{7, 7, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
		{"empty units skipped", []byte{0, 0, 1, 0, 0, 1, 0x41, 0, 0}, [][]byte{{0x41}}},
		{"start code at the end", []byte{0, 0, 1, 0x41, 0, 0, 1}, [][]byte{{0x41}}},
		{"many units", bytes.Repeat([]byte{0, 0, 1, 0x41, 5}, 300), slices.Repeat([][]byte{{0x41, 5}}, 300)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := slices.Collect(ps.NALUnits(c.in))
			if len(got) != len(c.want) {
				t.Fatalf("got %d units %x, want %x", len(got), got, c.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Fatalf("unit %d = %x, want %x", i, got[i], c.want[i])
				}
			}
		})
	}
	// Stopping early stops.
	n := 0
	for range ps.NALUnits(bytes.Repeat([]byte{0, 0, 1, 0x41}, 10)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("break after 3: %d", n)
	}
}

func FuzzNALUnits(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 0, 0, 1})
	f.Add([]byte{0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		got := slices.Collect(ps.NALUnits(b))
		for _, n := range got {
			if len(n) == 0 || n[len(n)-1] == 0 || bytes.Contains(n, []byte{0, 0, 1}) || !bytes.Contains(b, n) {
				t.Fatalf("bad unit %x of %x", n, b)
			}
		}
		// Where mediacommon accepts the input (it refuses more than 50
		// units and some leading bytes), both agree once its units lose
		// their trailing zeros and empty ones are dropped.
		var ref h264.AnnexB
		if ref.Unmarshal(b) != nil {
			return
		}
		var want [][]byte
		for _, n := range ref {
			if n = bytes.TrimRight(n, "\x00"); len(n) > 0 {
				want = append(want, n)
			}
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("got %x, mediacommon %x", got, want)
		}
	})
}

func BenchmarkNALUnits(b *testing.B) {
	aus := pstest.Synthetic(ps.CodecH264, 50, 30000, 1)
	var n int
	for _, au := range aus {
		n += len(au.Data)
	}
	b.SetBytes(int64(n / len(aus)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for range ps.NALUnits(aus[i%len(aus)].Data) {
		}
	}
}
