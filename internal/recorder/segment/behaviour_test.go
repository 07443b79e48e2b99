package segment_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

func newWriter(t testing.TB, w io.Writer, tracks []*segment.Track) *segment.Writer {
	t.Helper()
	sw := &segment.Writer{W: w, Tracks: tracks}
	if err := sw.Initialize(); err != nil {
		t.Fatal(err)
	}
	return sw
}

func TestNewTracks(t *testing.T) {
	g711 := &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{
		&format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1},
	}}
	h264 := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{
		&format.H264{PayloadTyp: 96, PacketizationMode: 1},
	}}
	h265 := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{
		&format.H265{PayloadTyp: 97},
	}}
	aacNoConfig := &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{
		&format.MPEG4Audio{PayloadTyp: 98},
	}}
	for _, tc := range []struct {
		name   string
		medias []*description.Media
		want   []string
		err    error
	}{
		{"audio only", []*description.Media{g711}, nil, segment.ErrNoVideo},
		{"nothing", nil, nil, segment.ErrNoVideo},
		{"video first whatever the order", []*description.Media{g711, h264}, []string{"h264", "g711a"}, nil},
		{"first video wins", []*description.Media{h265, h264}, []string{"h265"}, nil},
		{"aac without config ignored", []*description.Media{h264, aacNoConfig, g711}, []string{"h264", "g711a"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tracks, err := segment.NewTracks(&description.Session{Medias: tc.medias})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var got []string
			for _, tr := range tracks {
				got = append(got, tr.Codec())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("tracks %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("tracks %v, want %v", got, tc.want)
				}
			}
			if len(tracks) > 0 && (!tracks[0].IsVideo() || tracks[0].TimeScale() != 90000) {
				t.Fatalf("first track is not 90 kHz video")
			}
			if len(tracks) > 1 && (tracks[1].IsVideo() || tracks[1].TimeScale() != 8000) {
				t.Fatalf("second track is not 8 kHz audio")
			}
		})
	}
}

// TestStartsAtKeyFrame: nothing is written before the first key frame, and
// without parameter sets in the SDP not before one that carries them.
func TestStartsAtKeyFrame(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(c.session(false, "g711a"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newWriter(t, &buf, tracks)
	video := c.events[1:] // starts with a P frame
	// A key frame without its parameter sets: dropped too.
	var bare [][]byte
	for _, n := range c.events[0].data {
		if typ := n[0] & 0x1F; typ != 7 && typ != 8 {
			bare = append(bare, n)
		}
	}
	if !segment.IsKeyFrame(tracks[0], bare) || segment.IsKeyFrame(tracks[0], video[0].data) {
		t.Fatal("IsKeyFrame disagrees with the clip")
	}
	if err := w.WriteVideo(tracks[0], c.events[0].pts, bare); err != nil {
		t.Fatal(err)
	}
	for _, e := range video[:24] {
		if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteAudio(tracks[1], e.pts*8000/90000, g711Packet(false, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if w.Started() || buf.Len() != 0 || w.Bytes() != 0 {
		t.Fatalf("started %v with %d bytes before a key frame with parameter sets", w.Started(), buf.Len())
	}
	key := video[24] // the second second's key frame, SPS and PPS in band
	if !segment.IsKeyFrame(tracks[0], key.data) {
		t.Fatal("frame 25 is not a key frame")
	}
	if err := w.WriteVideo(tracks[0], key.pts, key.data); err != nil {
		t.Fatal(err)
	}
	if !w.Started() || buf.Len() == 0 {
		t.Fatal("not started at a key frame with parameter sets")
	}
	if gw, gh := w.Resolution(); gw != 320 || gh != 240 {
		t.Fatalf("Resolution() = %dx%d", gw, gh)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteVideo(tracks[0], key.pts+3600, key.data); !errors.Is(err, segment.ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
}

// TestParamsChanged: new parameter sets mid-segment are ErrParamsChanged;
// the next segment, on the same tracks, starts with the unit refused.
func TestParamsChanged(t *testing.T) {
	small := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	large := newClip(t, clipSpec{codec: "h264", w: 640, h: 360, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(small.session(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, io.Discard, tracks)
	for _, e := range small.events[:30] {
		if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
			t.Fatal(err)
		}
	}
	next := large.events[0]
	pts := small.events[29].pts + 3600
	if err := w.WriteVideo(tracks[0], pts, next.data); !errors.Is(err, segment.ErrParamsChanged) {
		t.Fatalf("WriteVideo with new SPS: %v, want ErrParamsChanged", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w2 := newWriter(t, &buf, tracks)
	if err := w2.WriteVideo(tracks[0], pts, next.data); err != nil {
		t.Fatal(err)
	}
	if gw, gh := w2.Resolution(); !w2.Started() || gw != 640 || gh != 360 {
		t.Fatalf("next segment: started %v, %dx%d", w2.Started(), gw, gh)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := segment.Scan(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || info.Width != 640 || info.Fragments != 1 {
		t.Fatalf("Scan of the next segment: %+v %v", info, err)
	}
}

// TestTimestamps: a stall longer than MaxJump, or a clock going back, is
// ErrTimestamp; nothing of the unit is written.
func TestTimestamps(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(c.session(true, "g711a"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func(w *segment.Writer, last int64) error
	}{
		{"video stall", func(w *segment.Writer, last int64) error {
			return w.WriteVideo(tracks[0], last+6*90000, c.events[10].data)
		}},
		{"video back", func(w *segment.Writer, last int64) error {
			return w.WriteVideo(tracks[0], last-90000, c.events[10].data)
		}},
		{"audio jump", func(w *segment.Writer, last int64) error {
			return w.WriteAudio(tracks[1], (last+6*90000)*8000/90000, g711Packet(false, 0))
		}},
		{"audio back", func(w *segment.Writer, last int64) error {
			return w.WriteAudio(tracks[1], (last-6*90000)*8000/90000, g711Packet(false, 0))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &segment.Writer{W: io.Discard, Tracks: tracks, MaxJump: 5 * time.Second}
			if err := w.Initialize(); err != nil {
				t.Fatal(err)
			}
			var last int64
			for _, e := range c.events[:10] {
				last = e.pts
				if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
					t.Fatal(err)
				}
				if err := w.WriteAudio(tracks[1], e.pts*8000/90000, g711Packet(false, 0)); err != nil {
					t.Fatal(err)
				}
			}
			before := w.Bytes()
			if err := tc.write(w, last); !errors.Is(err, segment.ErrTimestamp) {
				t.Fatalf("err = %v, want ErrTimestamp", err)
			}
			if w.Bytes() != before {
				t.Fatal("a refused unit was written")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFlush writes every frame but the last (its duration is not known
// yet); Close writes it.
func TestFlush(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(c.session(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newWriter(t, &buf, tracks)
	for _, e := range c.events[:10] {
		if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if w.Duration() != 0 {
		t.Fatalf("Duration() = %v before a fragment", w.Duration())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Duration() != 9*40*time.Millisecond || int64(buf.Len()) != w.Bytes() {
		t.Fatalf("after Flush: Duration() = %v, want 360ms", w.Duration())
	}
	info, err := segment.Scan(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || info.Fragments != 1 || info.Duration != w.Duration() {
		t.Fatalf("Scan after Flush: %+v %v", info, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Duration() != 10*40*time.Millisecond {
		t.Fatalf("after Close: Duration() = %v, want 400ms", w.Duration())
	}
}

// TestWrongTrack: a track of another session is refused.
func TestWrongTrack(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	a, err := segment.NewTracks(c.session(true, "g711a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := segment.NewTracks(c.session(true, "g711a"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, io.Discard, a)
	if err := w.WriteVideo(b[0], 0, c.events[0].data); !errors.Is(err, segment.ErrUnknownTrack) {
		t.Fatalf("WriteVideo: %v", err)
	}
	if err := w.WriteAudio(a[0], 0, []byte{1}); !errors.Is(err, segment.ErrUnknownTrack) {
		t.Fatalf("WriteAudio on the video track: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriteError: the first error of W is returned, and by every later call.
func TestWriteError(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(c.session(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, &failWriter{n: 2000}, tracks)
	var got error
	for _, e := range c.events {
		if got = w.WriteVideo(tracks[0], e.pts, e.data); got != nil {
			break
		}
	}
	if !errors.Is(got, errDiskFull) {
		t.Fatalf("err = %v, want the writer's", got)
	}
	if err := w.Flush(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush after the error: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close after the error: %v", err)
	}
	if w.Bytes() != 2000 {
		t.Fatalf("Bytes() = %d, want the 2000 written", w.Bytes())
	}
}

// TestAudioHole: G.711 missing for 300 ms mid-segment leaves a hole the
// audio timeline keeps (the sample before it is stretched), so audio stays
// in step with video after it.
func TestAudioHole(t *testing.T) {
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	tracks, err := segment.NewTracks(c.session(true, "g711a"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newWriter(t, &buf, tracks)
	next := c.events[0].pts
	packets := 0
	for _, e := range c.events {
		for next <= e.pts {
			// 1.5 s to 1.8 s: nothing arrives
			if off := next - c.events[0].pts; off < 135000 || off >= 162000 {
				if err := w.WriteAudio(tracks[1], next*8000/90000, g711Packet(false, packets)); err != nil {
					t.Fatal(err)
				}
				packets++
			}
			next += 1800
		}
		if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hole.mp4")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p := ffprobe(t, path)
	for _, s := range p.Streams {
		if s.CodecType != "audio" {
			continue
		}
		// The last packet starts at the last frame's PTS and lasts 20 ms.
		want := time.Duration(c.frames-1)*40*time.Millisecond + 20*time.Millisecond
		d := time.Duration(atof(t, s.Duration) * float64(time.Second))
		if absDur(d-want) > 20*time.Millisecond {
			t.Fatalf("audio lasts %v with the hole, want %v: the hole was closed up", d, want)
		}
		if packets != 200-15+1 {
			t.Logf("%d packets written", packets)
		}
		return
	}
	t.Fatal("no audio stream")
}
