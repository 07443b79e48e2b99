package export

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// TestRemuxOverlap: fragments or segments that go back in time are not
// copied twice — the file never lasts longer than the range.
func TestRemuxOverlap(t *testing.T) {
	seg := segmentWith(t, 3*time.Second, true)
	br := bufio.NewReader(bytes.NewReader(seg))
	initLen := 0
	for {
		typ, box, err := segment.ReadBox(br)
		if err != nil {
			t.Fatal(err)
		}
		initLen += len(box)
		if typ == "moov" {
			break
		}
	}
	repeated := append(append([]byte{}, seg...), seg[initLen:]...)

	for _, tc := range []struct {
		name  string
		segs  [][]byte
		walls []time.Time
	}{
		{"fragments repeated", [][]byte{repeated}, []time.Time{t0}},
		{"segments overlapping", [][]byte{seg, seg}, []time.Time{t0, t0.Add(time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			m := &remuxer{w: &out, start: t0.Add(500 * time.Millisecond), end: t0.Add(3500 * time.Millisecond)}
			for i, s := range tc.segs {
				if err := m.segment(bytes.NewReader(s), tc.walls[i], nil); err != nil {
					t.Fatal(err)
				}
			}
			// From the key frame at t0 to the end of the recording (3 s) or of
			// the range (3.5 s), each stretch once.
			if d := m.Duration(); d > 3500*time.Millisecond || d < 3*time.Second {
				t.Fatalf("%v copied of [0.5 s, 3.5 s) with the key frame at 0", d)
			}
		})
	}
}
