package segment_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// cutWriter records the length of the file after each fragment (each call
// of Write that ends one: the writer writes a fragment as moof+mdat header,
// video data, audio data, and the init section in one call).
type cutWriter struct {
	buf bytes.Buffer
}

func (c *cutWriter) Write(p []byte) (int, error) { return c.buf.Write(p) }

// TestScanTruncated cuts a segment at every fragment boundary, one byte
// either side, and at a stride through every fragment: Scan must find the
// last complete fragment, and ffprobe must read the file cut there.
func TestScanTruncated(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4, aac: true})
	tracks, err := segment.NewTracks(c.session(true, "aac"))
	if err != nil {
		t.Fatal(err)
	}
	var cw cutWriter
	w := &segment.Writer{W: &cw, Tracks: tracks, FragmentDuration: 500 * time.Millisecond}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	// Fragment ends and the duration written at each, seen through the
	// writer's read-outs after every unit.
	type cut struct {
		end      int64
		duration time.Duration
	}
	var cuts []cut
	last := int64(0)
	step := func() {
		if w.Bytes() != last {
			cuts = append(cuts, cut{w.Bytes(), w.Duration()})
			last = w.Bytes()
		}
	}
	for _, e := range c.events {
		if e.video {
			if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
				t.Fatal(err)
			}
		} else if err := w.WriteAudio(tracks[1], e.pts*int64(c.aacCfg.SampleRate)/90000, e.data...); err != nil {
			t.Fatal(err)
		}
		step()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	step()
	file := cw.buf.Bytes()
	if len(cuts) < 8 {
		t.Fatalf("%d cuts for 4 s in 500 ms fragments", len(cuts))
	}
	initEnd := cuts[0].end

	// expect is the last cut at or before n.
	expect := func(n int64) (cut, int) {
		best, frags := cut{}, -1
		for i, c := range cuts {
			if c.end <= n {
				best, frags = c, i
			}
		}
		return best, frags
	}
	offsets := map[int64]bool{}
	for _, c := range cuts {
		offsets[c.end-1], offsets[c.end], offsets[c.end+1] = true, true, true
	}
	for n := int64(0); n < int64(len(file)); n += 997 {
		offsets[n] = true
	}
	for n := range offsets {
		if n < 0 || n > int64(len(file)) {
			continue
		}
		info, err := segment.Scan(bytes.NewReader(file[:n]), n)
		if n < initEnd {
			if !errors.Is(err, segment.ErrNoInit) {
				t.Fatalf("cut at %d (init ends at %d): %v, want ErrNoInit", n, initEnd, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: %v", n, err)
		}
		want, frags := expect(n)
		if info.Complete != want.end || info.Fragments != frags || info.Duration != want.duration {
			t.Fatalf("cut at %d: complete %d, %d fragments, %v; want %d, %d, %v",
				n, info.Complete, info.Fragments, info.Duration, want.end, frags, want.duration)
		}
	}

	// The file repaired as the recorder does (truncated to Complete) plays.
	for _, n := range []int64{cuts[3].end + 100, cuts[len(cuts)-1].end - 1} {
		info, err := segment.Scan(bytes.NewReader(file[:n]), n)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "repaired.mp4")
		if err := os.WriteFile(path, file[:info.Complete], 0o644); err != nil {
			t.Fatal(err)
		}
		p := ffprobe(t, path)
		for _, s := range p.Streams {
			if s.CodecType != "video" {
				continue
			}
			d := time.Duration(atof(t, s.Duration) * float64(time.Second))
			if absDur(d-info.Duration) > 40*time.Millisecond {
				t.Errorf("repaired at %d: ffprobe %v, Scan %v", info.Complete, d, info.Duration)
			}
			frames := int(atof(t, s.NbReadFrames))
			if want := int(info.Duration / (40 * time.Millisecond)); frames != want {
				t.Errorf("repaired at %d: %d frames decoded, want %d", info.Complete, frames, want)
			}
		}
	}
}

// TestScanGarbage: what is not a segment of ours is ErrNoInit or a shorter
// Complete, never a panic.
func TestScanGarbage(t *testing.T) {
	ftyp := []byte{0, 0, 0, 16, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 0, 1}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", []byte{0, 0, 0}},
		{"not ftyp", []byte("0000moovxxxxxxxxxxxxxxxxx")},
		{"ftyp only", ftyp},
		{"absurd ftyp size", []byte{0xFF, 0xFF, 0xFF, 0xFF, 'f', 't', 'y', 'p'}},
		{"64-bit size past the end", append([]byte{0, 0, 0, 1, 'f', 't', 'y', 'p', 0x7F, 0, 0, 0, 0, 0, 0, 0}, ftyp...)},
		{"moov truncated", append(bytes.Clone(ftyp), 0, 0, 0x10, 0, 'm', 'o', 'o', 'v')},
		{"moov garbage", append(bytes.Clone(ftyp), 0, 0, 0, 12, 'm', 'o', 'o', 'v', 1, 2, 3, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := segment.Scan(bytes.NewReader(tc.data), int64(len(tc.data)))
			if !errors.Is(err, segment.ErrNoInit) {
				t.Fatalf("Scan = %v, want ErrNoInit", err)
			}
		})
	}

	// A valid init section followed by garbage: Complete stops at the init.
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	path, _, _ := writeClip(t, c, true, "", time.Second)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	good := scanFile(t, path)
	initEnd := initLength(t, file)
	for _, tc := range []struct {
		name  string
		patch func(b []byte)
	}{
		{"moof size zero", func(b []byte) { copy(b[initEnd:], []byte{0, 0, 0, 0}) }},
		{"moof size huge", func(b []byte) { copy(b[initEnd:], []byte{0x7F, 0xFF, 0xFF, 0xFF}) }},
		{"not moof", func(b []byte) { copy(b[initEnd+4:], "free") }},
		{"trun count huge", func(b []byte) {
			i := bytes.Index(b[initEnd:], []byte("trun"))
			copy(b[initEnd+i+8:], []byte{0x7F, 0xFF, 0xFF, 0xFF})
		}},
		{"trun of no per-sample fields and a huge count", func(b []byte) {
			i := bytes.Index(b[initEnd:], []byte("trun"))
			copy(b[initEnd+i+4:], []byte{1, 0, 0, 5, 0xFF, 0, 0, 2})
		}},
		{"data offset out of mdat", func(b []byte) {
			i := bytes.Index(b[initEnd:], []byte("trun"))
			copy(b[initEnd+i+12:], []byte{0x7F, 0xFF, 0xFF, 0x00})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(file)
			tc.patch(b)
			info, err := segment.Scan(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if info.Complete != int64(initEnd) || info.Fragments != 0 || info.Duration != 0 {
				t.Fatalf("Scan = %+v, want the init section only (%d bytes) of %+v", info, initEnd, good)
			}
		})
	}
}

// initLength is the length of ftyp+moov at the start of b.
func initLength(t testing.TB, b []byte) int {
	t.Helper()
	n := 0
	for range 2 {
		if len(b) < n+8 {
			t.Fatal("no init section")
		}
		n += int(uint32(b[n])<<24 | uint32(b[n+1])<<16 | uint32(b[n+2])<<8 | uint32(b[n+3]))
	}
	return n
}

// FuzzScan feeds Scan with real segments (the seed corpus under
// testdata/fuzz holds two small ones, H.264+G.711 and H.265+AAC) and
// mutations of them, both whole and behind the seed's intact init section
// (so that mutations reach the fragment parser).
func FuzzScan(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzScan", "segment-0-h264-g711a"))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitN(string(seed), "\n", 3)
	raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		f.Fatal(err)
	}
	init := []byte(raw)[:initLength(f, []byte(raw))]
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b)
		checkScan(t, append(bytes.Clone(init), b...))
	})
}

func checkScan(t *testing.T, b []byte) {
	info, err := segment.Scan(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if !errors.Is(err, segment.ErrNoInit) {
			t.Fatalf("Scan of a byte slice: %v, want ErrNoInit or nil", err)
		}
		return
	}
	if info.Complete <= 0 || info.Complete > int64(len(b)) || info.Fragments < 0 || info.Duration < 0 {
		t.Fatalf("Scan = %+v for %d bytes", info, len(b))
	}
	if info.Complete == int64(len(b)) {
		return
	}
	// Scanning the repaired prefix finds the same.
	again, err := segment.Scan(bytes.NewReader(b[:info.Complete]), info.Complete)
	if err != nil || again.Complete != info.Complete || again.Fragments != info.Fragments || again.Duration != info.Duration {
		t.Fatalf("rescan of %d bytes: %+v %v, first %+v", info.Complete, again, err, info)
	}
}
