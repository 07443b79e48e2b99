package segment_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// hdClip is a 720p stream at a camera's bitrate (testsrc2 at libx264's
// default quality comes out near 2 Mbps).
var hdClip = clipSpec{codec: "h264", w: 1280, h: 720, fps: 25, seconds: 4}

// TestOverhead logs the bytes written per byte received for a 720p stream,
// alone and with G.711 audio (stored as FLAC: a 400 Hz tone here, about
// 0.8 of its G.711 bytes with frame headers): the figure that
// docs/benchmarks.md and the recorder's "bytes written per byte received"
// goal use.
func TestOverhead(t *testing.T) {
	c := newClip(t, hdClip)
	for _, audio := range []string{"", "g711a"} {
		_, w, received := writeClip(t, c, true, audio, time.Second)
		seconds := w.Duration().Seconds()
		t.Logf("720p h264 %q: %.2f Mbit/s received, %d bytes received, %d written: %.4f bytes written per byte received",
			audio, float64(received)*8/seconds/1e6, received, w.Bytes(), float64(w.Bytes())/float64(received))
		if audio == "" && float64(w.Bytes()) > 1.01*float64(received) {
			t.Errorf("video only: %d bytes written for %d received, above 1%% overhead", w.Bytes(), received)
		}
		if audio != "" && float64(w.Bytes()) > 1.02*float64(received) {
			t.Errorf("with G.711: %d bytes written for %d received, above the 2%% goal", w.Bytes(), received)
		}
	}
}

// BenchmarkWriteVideo measures one 720p frame written (its share of
// fragment writes included) into io.Discard; allocations per frame should
// be 0 once the fragment buffers have grown.
func BenchmarkWriteVideo(b *testing.B) {
	c := newClip(b, hdClip)
	tracks, err := segment.NewTracks(c.session(true, ""))
	if err != nil {
		b.Fatal(err)
	}
	var video []event
	for _, e := range c.events {
		if e.video {
			video = append(video, e)
		}
	}
	span := int64(len(video)) * 90000 / int64(hdClip.fps)
	w := &segment.Writer{W: io.Discard, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		b.Fatal(err)
	}
	var bytesIn int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := video[i%len(video)]
		pts := e.pts + int64(i/len(video))*span
		if err := w.WriteVideo(tracks[0], pts, e.data); err != nil {
			b.Fatal(err)
		}
		for _, n := range e.data {
			bytesIn += int64(len(n))
		}
	}
	b.StopTimer()
	b.SetBytes(bytesIn / int64(b.N))
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScan measures Scan of a one-minute-like segment's worth of
// fragments (the 4 s 720p clip in 1 s fragments).
func BenchmarkScan(b *testing.B) {
	c := newClip(b, hdClip)
	tracks, err := segment.NewTracks(c.session(true, ""))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w := &segment.Writer{W: &buf, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		b.Fatal(err)
	}
	if _, err := feed(b, w, tracks, c, ""); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := segment.Scan(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
