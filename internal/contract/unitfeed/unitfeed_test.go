package unitfeed

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func feedBytes(t testing.TB, h Header, units []Unit) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, 64)
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := w.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameHeader(a, b Header) bool {
	return reflect.DeepEqual(a.Tracks, b.Tracks) && a.Now.Equal(b.Now)
}

func sameUnit(a, b Unit) bool {
	return a.Track == b.Track && a.Key == b.Key && a.PTS == b.PTS && a.DTS == b.DTS &&
		a.Received.Equal(b.Received) && bytes.Equal(a.Payload, b.Payload)
}

func TestRoundTrip(t *testing.T) {
	h := Header{Tracks: []string{CodecH264, CodecG711A}, Now: time.Unix(1796000001, 5).UTC()}
	units := []Unit{
		{Track: 0, Key: true, PTS: 3600, DTS: 0, Received: time.Unix(1796000000, 123456789), Payload: []byte{0, 0, 0, 1, 0x65, 1, 2, 3}},
		{Track: 1, Key: true, PTS: -1800, DTS: -1800, Payload: bytes.Repeat([]byte{0xd5}, 160)},
		{Track: 0, PTS: 1 << 40, DTS: 1<<40 - 3600, Payload: bytes.Repeat([]byte{7}, 300)},
		{Track: 0, Payload: []byte{}},
	}
	r := NewReader(bytes.NewReader(feedBytes(t, h, units)), 32)
	got, err := r.ReadHeader()
	if err != nil || !sameHeader(got, h) {
		t.Fatalf("header %+v, %v", got, err)
	}
	for i, want := range units {
		u, err := r.ReadUnit()
		if err != nil {
			t.Fatalf("unit %d: %v", i, err)
		}
		if !sameUnit(u, want) {
			t.Fatalf("unit %d: %+v, want %+v", i, u, want)
		}
	}
	if _, err := r.ReadUnit(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last unit: %v, want io.EOF", err)
	}
}

func TestWriterRefuses(t *testing.T) {
	w := NewWriter(io.Discard, 64)
	if err := w.WriteHeader(Header{}); err == nil {
		t.Fatal("header without tracks written")
	}
	if err := w.WriteHeader(Header{Tracks: make([]string, MaxTracks+1)}); err == nil {
		t.Fatal("header with too many tracks written")
	}
	if err := w.WriteUnit(Unit{}); err == nil {
		t.Fatal("unit written before the header")
	}
	if err := w.WriteHeader(Header{Tracks: []string{CodecH265}}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUnit(Unit{Track: 1}); err == nil {
		t.Fatal("unit of an unknown track written")
	}
	if w.Buffered() == 0 {
		t.Fatal("the header is not buffered")
	}
}

func TestReaderErrors(t *testing.T) {
	good := feedBytes(t, Header{Tracks: []string{CodecH264}}, []Unit{{Key: true, Payload: []byte{1, 2, 3}}})
	hdrLen := len(good) - (5 + unitHead + 3)
	unitAt := func(b []byte) []byte { return append(append([]byte{}, good[:hdrLen]...), b...) }
	for _, tc := range []struct {
		name      string
		data      []byte
		header    error // nil: the header reads
		unit      error
		unitMatch string
	}{
		{name: "empty", data: nil, header: io.EOF},
		{name: "cut header", data: good[:3], header: io.ErrUnexpectedEOF},
		{name: "unit first", data: good[hdrLen:], header: ErrFormat},
		{name: "header too long", data: []byte{'H', 0, 1, 0, 1}, header: ErrFormat},
		{name: "header not JSON", data: []byte{'H', 0, 0, 0, 2, '{', '['}, header: ErrFormat},
		{name: "no tracks", data: []byte{'H', 0, 0, 0, 2, '{', '}'}, header: ErrFormat},
		{name: "header body cut", data: good[:hdrLen-1], header: io.ErrUnexpectedEOF},
		{name: "clean end", data: good[:hdrLen], unit: io.EOF},
		{name: "second header", data: unitAt(good[:hdrLen]), unit: ErrFormat},
		{name: "unit too short", data: unitAt([]byte{'U', 0, 0, 0, 3}), unit: ErrFormat},
		{name: "unit too long", data: unitAt([]byte{'U', 0x7f, 0, 0, 0}), unit: ErrFormat},
		{name: "unit cut", data: good[:len(good)-1], unit: io.ErrUnexpectedEOF},
		{name: "unit head cut", data: good[:hdrLen+8], unit: io.ErrUnexpectedEOF},
		{name: "unknown track", data: unitAt(append([]byte{'U', 0, 0, 0, unitHead, 1}, make([]byte, unitHead-1)...)), unit: ErrFormat, unitMatch: "track 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.data), 16)
			_, err := r.ReadHeader()
			if !errors.Is(err, tc.header) || (tc.header == nil) != (err == nil) {
				t.Fatalf("ReadHeader: %v, want %v", err, tc.header)
			}
			if err != nil {
				return
			}
			_, err = r.ReadUnit()
			if !errors.Is(err, tc.unit) || err == nil {
				t.Fatalf("ReadUnit: %v, want %v", err, tc.unit)
			}
			if tc.unitMatch != "" && !strings.Contains(err.Error(), tc.unitMatch) {
				t.Fatalf("ReadUnit: %v, want it to say %q", err, tc.unitMatch)
			}
		})
	}
	if _, err := NewReader(bytes.NewReader(good), 16).ReadUnit(); !errors.Is(err, ErrFormat) {
		t.Fatalf("ReadUnit before ReadHeader: %v", err)
	}
}

// FuzzReader: any bytes give a header and units or an error, never a panic,
// and what is read writes back to the same bytes.
func FuzzReader(f *testing.F) {
	f.Add(feedBytes(f, Header{Tracks: []string{CodecH264, CodecAAC}}, []Unit{
		{Key: true, PTS: 1, DTS: 1, Payload: []byte{0, 0, 1, 0x65}}, {Track: 1, Key: true, Payload: []byte{0xff, 0xf1}},
	}))
	f.Add([]byte{'H', 0, 0, 0, 2, '{', '}'})
	f.Add([]byte{'U', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 16)
		h, err := r.ReadHeader()
		if err != nil {
			return
		}
		var units []Unit
		for {
			u, err := r.ReadUnit()
			if err != nil {
				break
			}
			units = append(units, u)
		}
		// Re-encoding what was read and reading it again gives the same.
		again := NewReader(bytes.NewReader(feedBytes(t, h, units)), 16)
		h2, err := again.ReadHeader()
		if err != nil || !sameHeader(h, h2) {
			t.Fatalf("header %+v read back as %+v, %v", h, h2, err)
		}
		for i, want := range units {
			u, err := again.ReadUnit()
			if err != nil || !sameUnit(u, want) {
				t.Fatalf("unit %d read back as %+v, %v", i, u, err)
			}
		}
	})
}

func BenchmarkWriteUnit(b *testing.B) {
	w := NewWriter(io.Discard, 64<<10)
	if err := w.WriteHeader(Header{Tracks: []string{CodecH264}}); err != nil {
		b.Fatal(err)
	}
	u := Unit{Key: true, Payload: make([]byte, 10000)}
	b.SetBytes(int64(len(u.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteUnit(u); err != nil {
			b.Fatal(err)
		}
	}
}
