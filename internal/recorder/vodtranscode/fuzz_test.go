package vodtranscode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// seedSegment is a small H.265 segment with G.711 audio: ten frames in
// fragments of 200 ms.
func seedSegment(f testing.TB) []byte {
	clip := mediatest.NewClip(f, ps.CodecH265, 64, 64, 25, 1)
	tracks, err := segment.NewTracks(&description.Session{Medias: []*description.Media{
		{Type: description.MediaTypeVideo, Formats: []format.Format{&format.H265{PayloadTyp: 96}}},
		{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}}},
	}})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	w := &segment.Writer{W: &buf, Tracks: tracks, FragmentDuration: 200 * time.Millisecond}
	if err := w.Initialize(); err != nil {
		f.Fatal(err)
	}
	for i := range 10 {
		var au [][]byte
		for n := range ps.NALUnits(clip.Units[i].Payload) {
			au = append(au, n)
		}
		if err := w.WriteVideo(tracks[0], int64(i)*3600, au); err != nil {
			f.Fatal(err)
		}
		if err := w.WriteAudio(tracks[1], int64(i)*320, make([]byte, 320)); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzStretch: a garbled segment (a damaged disk, a bad upload) gives an
// error, never a panic or a stretch that does not start with a key frame
// (it may be empty);
// ffmpeg output of any bytes is split without a panic.
func FuzzStretch(f *testing.F) {
	f.Add(seedSegment(f), uint16(0), uint16(0))
	f.Add(seedSegment(f), uint16(100), uint16(300))
	f.Add([]byte{0, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x65, 0x88, 0, 0, 0, 1, 9}, uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, from, to uint16) {
		_ = accessUnits(b)
		r := bytes.NewReader(b)
		l, err := segment.Fragments(r, int64(len(b)))
		if err != nil {
			return
		}
		src := Source{Key: "fuzz", R: r, Layout: l}
		tr, err := readInit(src)
		if err != nil {
			if !errors.Is(err, ErrSegment) && !errors.Is(err, ErrNotH265) {
				t.Fatalf("readInit: %v", err)
			}
			return
		}
		rg := Range{From: time.Duration(from) * time.Millisecond, To: time.Duration(to) * time.Millisecond}
		st, err := readStretch(src, tr, rg)
		if err != nil {
			if !errors.Is(err, ErrSegment) && !errors.Is(err, ErrNoVideo) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("readStretch: %v", err)
			}
			return
		}
		if len(st.video) > 0 && st.video[0].s.IsNonSyncSample {
			t.Fatalf("a stretch of %d samples not starting with a key frame", len(st.video))
		}
		for _, v := range st.video {
			_ = leadsFrom(v.s.Payload)
		}
		if _, err := st.annexB(); err != nil && !errors.Is(err, ErrSegment) {
			t.Fatalf("annexB: %v", err)
		}
	})
}

// TestCapped: ffmpeg's output is bounded whatever way os/exec copies it
// (io.Copy prefers ReaderFrom); its messages are cut, never an error.
func TestCapped(t *testing.T) {
	out := &capped{max: 10, fail: true}
	if n, err := io.Copy(out, bytes.NewReader(make([]byte, 100))); err == nil || out.buf.Len() > 10 || !out.over {
		t.Errorf("output: copied %d, kept %d, over %v, err %v; want an error and at most 10 bytes", n, out.buf.Len(), out.over, err)
	}
	msgs := &capped{max: 10}
	if n, err := io.Copy(msgs, bytes.NewReader(make([]byte, 100))); err != nil || n != 100 || msgs.buf.Len() != 10 {
		t.Errorf("messages: copied %d, kept %d, err %v; want all taken and 10 kept", n, msgs.buf.Len(), err)
	}
}

// TestQueueBound: with every slot taken, MaxQueue requests per slot wait;
// the next one, and any that would not wait (Warm), are refused at once;
// the waiting ones run once the slot is free.
func TestQueueBound(t *testing.T) {
	tc := &Transcoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg"), MaxRunning: 1}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	release := make(chan struct{})
	block := func(context.Context) ([]byte, error) { <-release; return []byte("x"), nil }
	ctx := context.Background()
	errs := make(chan error, 1+MaxQueue)
	for range 1 + MaxQueue {
		go func() {
			_, err := tc.run(ctx, true, block)
			errs <- err
		}()
	}
	testsupport.Eventually(t, 10*time.Second, "one running and MaxQueue waiting", func() bool {
		tc.mu.Lock()
		defer tc.mu.Unlock()
		return len(tc.slots) == 1 && tc.waiting == MaxQueue
	})
	if _, err := tc.run(ctx, true, block); !errors.Is(err, ErrBusy) {
		t.Errorf("a request past the queue: %v, want ErrBusy", err)
	}
	if _, err := tc.run(ctx, false, block); !errors.Is(err, ErrBusy) {
		t.Errorf("a warm with no free slot: %v, want ErrBusy", err)
	}
	close(release)
	for range 1 + MaxQueue {
		if err := <-errs; err != nil {
			t.Errorf("a queued request: %v", err)
		}
	}
}

// TestAbandon: a shared run goes on while one of its callers waits, and
// stops when the last one leaves; a caller that comes after runs anew.
func TestAbandon(t *testing.T) {
	tc := &Transcoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg")}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	runs := make(chan context.Context, 2)
	fn := func(ctx context.Context) ([]byte, error) {
		runs <- ctx
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := tc.cached(ctx1, "seg", true, "part", true, fn); errs <- err }()
	run := <-runs
	go func() { _, err := tc.cached(ctx2, "seg", true, "part", true, fn); errs <- err }()
	waiters := func(n int) func() bool {
		return func() bool {
			tc.mu.Lock()
			defer tc.mu.Unlock()
			e := tc.entries["seg part"]
			return e != nil && e.waiters == n
		}
	}
	testsupport.Eventually(t, 10*time.Second, "two callers", waiters(2))
	cancel1()
	testsupport.Eventually(t, 10*time.Second, "the first caller gone", waiters(1))
	if run.Err() != nil {
		t.Fatal("the run stopped while a caller still waited")
	}
	cancel2()
	for range 2 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("caller: %v, want canceled", err)
		}
	}
	if run.Err() == nil {
		t.Fatal("the run goes on with no caller left")
	}
	// Nothing of it is kept: the next caller runs.
	ok := func(context.Context) ([]byte, error) { return []byte("x"), nil }
	if b, err := tc.cached(context.Background(), "seg", true, "part", true, ok); err != nil || string(b) != "x" {
		t.Fatalf("after an abandoned run: %q %v", b, err)
	}
}

// TestParamsKept: the H.264 parameter sets are made once per kind of
// source: another segment of the same camera needs no ffmpeg for its init
// section.
func TestParamsKept(t *testing.T) {
	tc := &Transcoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg")}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	b := seedSegment(t)
	r := bytes.NewReader(b)
	l, err := segment.Fragments(r, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	open := func(key string) Opener {
		return func(context.Context) (Source, func(), error) {
			return Source{Key: key, R: r, Layout: l}, func() {}, nil
		}
	}
	first, err := tc.Init(context.Background(), "1", true, open("1"))
	if err != nil {
		t.Fatal(err)
	}
	tc.ffmpeg = "/nonexistent/ffmpeg" // any run now fails
	second, err := tc.Init(context.Background(), "2", true, open("2"))
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second init: %v, same as the first: %v", err, bytes.Equal(first, second))
	}
}
