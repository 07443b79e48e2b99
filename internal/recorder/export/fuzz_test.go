package export

import (
	"bytes"
	"testing"
	"time"
)

// FuzzRemux feeds arbitrary bytes to the remuxer as a segment: it returns
// an error or copies something, and never panics or writes without an
// init section first.
func FuzzRemux(f *testing.F) {
	f.Add(segmentWith(f, 3*time.Second, true))
	f.Add(segmentBytes(f, 2*time.Second))
	f.Add([]byte{0, 0, 0, 8, 'f', 't', 'y', 'p'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		m := &remuxer{w: &out, start: t0.Add(500 * time.Millisecond), end: t0.Add(2 * time.Second)}
		err := m.segment(bytes.NewReader(data), t0, nil)
		if m.written != int64(out.Len()) {
			t.Fatalf("written %d, buffer %d", m.written, out.Len())
		}
		if m.outV > 0 && m.init == nil {
			t.Fatal("samples without an init section")
		}
		if err == nil && m.outV > 0 && m.Duration() > 2*time.Second {
			t.Fatalf("%v copied of a 1.5 s range", m.Duration())
		}
	})
}
