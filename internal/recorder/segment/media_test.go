package segment_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// TestFragments: the layout of a written segment agrees with Scan, its
// fragments tile the file after the init section with times that follow
// on, and exactly those starting with a key frame are marked (a key frame
// every second: with fragments of 1 s every one, with fragments of 200 ms,
// cut at the first frame after it, those starting on a whole second).
func TestFragments(t *testing.T) {
	for _, frag := range []time.Duration{time.Second, 200 * time.Millisecond} {
		t.Run(frag.String(), func(t *testing.T) { testFragments(t, frag) })
	}
}

func testFragments(t *testing.T, frag time.Duration) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4, aac: true})
	path, _, _ := writeClip(t, c, true, "aac", frag)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := segment.Fragments(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := segment.Scan(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Fragments) != info.Fragments || l.Complete() != info.Complete || l.Complete() != int64(len(b)) {
		t.Fatalf("layout %d fragments to %d, Scan %d to %d, file %d", len(l.Fragments), l.Complete(),
			info.Fragments, info.Complete, len(b))
	}
	keys := 0
	at, end := l.InitSize, time.Duration(0)
	for i, f := range l.Fragments {
		if f.Offset != at || f.Start != end || f.End <= f.Start {
			t.Fatalf("fragment %d %+v after %d bytes and %s", i, f, at, end)
		}
		if f.Key != (f.Start%time.Second == 0) {
			t.Fatalf("fragment %d %+v: key %v", i, f, f.Key)
		}
		if f.Key {
			keys++
		}
		// Each track's decode time is found where it is written (the
		// video's first; the audio's when the fragment has some).
		if len(f.Times) == 0 || l.TimeScales[f.Times[0].Track] != 90000 || len(l.TimeScales) != 2 {
			t.Fatalf("fragment %d times %+v, scales %v", i, f.Times, l.TimeScales)
		}
		for _, dt := range f.Times {
			if binary.BigEndian.Uint64(b[dt.Offset:]) != dt.Value || dt.Offset < f.Offset || dt.Offset+8 > f.Offset+f.Size {
				t.Fatalf("fragment %d: decode time %+v not at its offset", i, dt)
			}
		}
		if got := time.Duration(f.Times[0].Value) * time.Second / 90000; got != f.Start {
			t.Fatalf("fragment %d: video decode time %s, start %s", i, got, f.Start)
		}
		at, end = f.Offset+f.Size, f.End
	}
	if !l.Fragments[0].Key || keys != 4 || end != info.Duration {
		t.Fatalf("%d key fragments (first %v), end %s; want 4 from the first, %s", keys, l.Fragments[0].Key, end, info.Duration)
	}
	if n, err := segment.InitSize(bytes.NewReader(b), int64(len(b))); err != nil || n != l.InitSize {
		t.Fatalf("InitSize = %d, %v; want %d", n, err, l.InitSize)
	}
	// Cut inside the last fragment: it is not listed.
	cut, err := segment.Fragments(bytes.NewReader(b[:len(b)-1]), int64(len(b)-1))
	if err != nil || len(cut.Fragments) != len(l.Fragments)-1 {
		t.Fatalf("cut file: %d fragments, %v", len(cut.Fragments), err)
	}
	if _, err := segment.Fragments(bytes.NewReader(b[:l.InitSize-1]), l.InitSize-1); !errors.Is(err, segment.ErrNoInit) {
		t.Fatalf("no init: %v", err)
	}
}

// FuzzFragments: whatever the bytes, Fragments does not panic and agrees
// with Scan on what is complete.
func FuzzFragments(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := segment.Fragments(bytes.NewReader(b), int64(len(b)))
		info, serr := segment.Scan(bytes.NewReader(b), int64(len(b)))
		if (err == nil) != (serr == nil) {
			t.Fatalf("Fragments %v, Scan %v", err, serr)
		}
		if err != nil {
			return
		}
		if l.Complete() != info.Complete || len(l.Fragments) != info.Fragments {
			t.Fatalf("Fragments to %d (%d), Scan to %d (%d)", l.Complete(), len(l.Fragments), info.Complete, info.Fragments)
		}
	})
}
