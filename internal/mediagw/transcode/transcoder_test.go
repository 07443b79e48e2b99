package transcode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/transcode"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func startTranscoder(t testing.TB, h *hub.Hub, linger time.Duration) *transcode.Transcoder {
	t.Helper()
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	tc := &transcode.Transcoder{Hub: h, Linger: linger, Log: mediatest.Log(t)}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	return tc
}

// publishH265 publishes a playing 640x360 25 fps H.265 clip with G.711
// audio at path.
func publishH265(t testing.TB, h *hub.Hub, path string) *hub.Stream {
	t.Helper()
	clip := mediatest.NewClip(t, ps.CodecH265, 640, 360, 25, 4)
	return mediatest.Publish(t, h, path, clip, true)
}

// collectVideo reads r until it has n video units (or it ends); limit only
// keeps a broken test from hanging. What was read is returned, audio too.
func collectVideo(t testing.TB, r *hub.Reader, n int, limit time.Duration) []hub.Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out []hub.Unit
	for video := 0; video < n; {
		u, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("%d of %d video units read: %v", video, n, err)
		}
		out = append(out, u)
		if u.Codec.IsVideo() {
			video++
		}
	}
	return out
}

func videoUnits(units []hub.Unit) []hub.Unit {
	var v []hub.Unit
	for _, u := range units {
		if u.Codec.IsVideo() {
			v = append(v, u)
		}
	}
	return v
}

// checkTimeline: H.264 only, keyframe first, one frame per 40 ms of the
// source's timeline with none skipped.
func checkTimeline(t *testing.T, video []hub.Unit) {
	t.Helper()
	if len(video) == 0 {
		t.Fatal("no video")
	}
	if !video[0].Keyframe {
		t.Error("first video unit is not a keyframe")
	}
	for i, u := range video {
		if u.Codec != ps.CodecH264 {
			t.Fatalf("unit %d codec %s, want H264", i, u.Codec)
		}
		if u.PTS%3600 != 0 {
			t.Errorf("unit %d PTS %d is not on the source's 25 fps timeline", i, u.PTS)
		}
		if i > 0 && u.PTS-video[i-1].PTS != 3600 {
			t.Errorf("unit %d PTS step %d, want 3600", i, u.PTS-video[i-1].PTS)
		}
	}
}

// ffprobeFrames decodes an H.264 elementary stream file with ffprobe.
func ffprobeFrames(t *testing.T, path string) (codec string, w, h, frames int) {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffprobe: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("ffprobe reported errors: %s", stderr.String())
	}
	var out struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Streams) != 1 {
		t.Fatalf("ffprobe output %q: %v", stdout.String(), err)
	}
	s := out.Streams[0]
	var n int
	for _, c := range s.NbReadFrames {
		n = n*10 + int(c-'0')
	}
	return s.CodecName, s.Width, s.Height, n
}

func TestTranscode(t *testing.T) {
	t.Parallel()
	h := mediatest.NewHub(t, nil)
	src := publishH265(t, h, "live/cam")
	tc := startTranscoder(t, h, time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := tc.Read(ctx, src, "test viewer")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Path() != "live/cam~h264" || r.Path() != transcode.DerivedPath("live/cam") {
		t.Errorf("derived path %q", r.Path())
	}
	// Four seconds of the source's timeline, counted in frames rather than
	// read for four seconds of wall time, which a loaded machine stretches.
	units := collectVideo(t, r, 100, time.Minute)
	video := videoUnits(units)
	checkTimeline(t, video)
	audio := 0
	for _, u := range units {
		if u.Codec == ps.CodecG711A {
			audio++
		}
	}
	// 50 audio units a second pass beside 25 video frames, which ffmpeg
	// delays: at least half of what goes with the frames has come.
	if audio < 100 {
		t.Errorf("%d audio units beside 100 video frames, want ≈200", audio)
	}

	derived, ok := h.Stream("live/cam~h264")
	if !ok {
		t.Fatal("derived stream not published")
	}
	ds := derived.Stats()
	if ds.VideoCodec != ps.CodecH264 || ds.Width != 640 || ds.Height != 360 {
		t.Errorf("derived stream %s %dx%d, want H264 640x360", ds.VideoCodec, ds.Width, ds.Height)
	}
	// The frame rate of the timeline is checkTimeline's (a frame every
	// 40 ms of PTS); VideoFPS counts arrivals per second of wall time,
	// which a loaded machine makes bursty, so it only has to be measured.
	if ds.VideoFPS <= 0 {
		t.Errorf("derived stream fps %.1f, want it measured", ds.VideoFPS)
	}
	tracks := derived.Tracks()
	if len(tracks) != 2 || tracks[0] != ps.CodecH264 || tracks[1] != ps.CodecG711A {
		t.Errorf("derived tracks %v, want [H264 G711A]", tracks)
	}

	stats := tc.Stats()
	if len(stats) != 1 {
		t.Fatalf("stats %+v, want one transcode", stats)
	}
	st := stats[0]
	if st.SourcePath != "live/cam" || st.Path != "live/cam~h264" || st.Readers != 1 ||
		st.Encoder != "libx264" || st.PID == 0 || st.Restarts != 0 || st.AudioUnits == 0 {
		t.Errorf("stats %+v", st)
	}
	// Frames are one to one (checkTimeline: none skipped); how many are
	// inside ffmpeg at this moment depends on how busy the machine is.
	if st.FramesOut > st.FramesIn || st.FramesOut < uint64(len(video)) || st.Realigned != 0 {
		t.Errorf("frames in %d, out %d (%d read), realigned %d", st.FramesIn, st.FramesOut, len(video), st.Realigned)
	}

	// The units decode: write them out and let ffprobe count the frames.
	var es bytes.Buffer
	for _, u := range video {
		es.Write(u.Payload)
	}
	file := filepath.Join(t.TempDir(), "out.h264")
	if err := os.WriteFile(file, es.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	codec, w, hgt, frames := ffprobeFrames(t, file)
	if codec != "h264" || w != 640 || hgt != 360 || frames != len(video) {
		t.Errorf("ffprobe: %s %dx%d %d frames, want h264 640x360 %d frames", codec, w, hgt, frames, len(video))
	}
}

func TestSharedAndLinger(t *testing.T) {
	t.Parallel()
	h := mediatest.NewHub(t, nil)
	src := publishH265(t, h, "live/shared")
	const linger = 700 * time.Millisecond
	tc := startTranscoder(t, h, linger)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r1, err := tc.Read(ctx, src, "viewer 1")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := tc.Read(ctx, src, "viewer 2")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*hub.Reader{r1, r2} {
		u, err := r.Next(ctx)
		if err != nil || u.Codec != ps.CodecH264 || !u.Keyframe {
			t.Fatalf("first unit %s key=%v err=%v, want an H.264 keyframe", u.Codec, u.Keyframe, err)
		}
	}
	stats := tc.Stats()
	if len(stats) != 1 || stats[0].Readers != 2 {
		t.Fatalf("stats %+v, want one transcode with 2 readers", stats)
	}
	pid := stats[0].PID
	srcReaders := src.Stats().Readers
	if len(srcReaders) != 1 || srcReaders[0].Name != transcode.ReaderName {
		t.Fatalf("source readers %+v, want the one transcode reader", srcReaders)
	}

	// Taken before the last reader leaves, so that the linger's own timer
	// starts after it: the check below cannot fail by the time between.
	closed := time.Now()
	r1.Close()
	r2.Close()
	if len(tc.Stats()) != 1 {
		t.Fatal("transcode stopped before the linger period")
	}
	testsupport.Eventually(t, linger+5*time.Second, "transcode gone", func() bool {
		_, published := h.Stream("live/shared~h264")
		return len(tc.Stats()) == 0 && !published && len(src.Stats().Readers) == 0
	})
	if since := time.Since(closed); since < linger {
		t.Errorf("transcode stopped %v after the last reader, before the %v linger", since, linger)
	}
	testsupport.Eventually(t, 5*time.Second, "ffmpeg exited", func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	})

	// A new reader starts a new transcode.
	r3, err := tc.Read(ctx, src, "viewer 3")
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	if st := tc.Stats(); len(st) != 1 || st[0].PID == pid {
		t.Errorf("stats after restart by a reader %+v", st)
	}
}

func TestSourceClose(t *testing.T) {
	t.Parallel()
	h := mediatest.NewHub(t, nil)
	src := publishH265(t, h, "live/ends")
	tc := startTranscoder(t, h, time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := tc.Read(ctx, src, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	src.Close()
	for {
		if _, err := r.Next(ctx); err != nil {
			if !errors.Is(err, hub.ErrStreamClosed) {
				t.Fatalf("reader ended with %v, want ErrStreamClosed", err)
			}
			break
		}
	}
	testsupport.Eventually(t, 5*time.Second, "transcode gone", func() bool {
		_, published := h.Stream("live/ends~h264")
		return len(tc.Stats()) == 0 && !published
	})
	if _, err := tc.Read(ctx, src, "late viewer"); !errors.Is(err, transcode.ErrSourceClosed) {
		t.Errorf("Read of a closed source: %v, want ErrSourceClosed", err)
	}
}

// TestRestart kills ffmpeg: it is restarted and the derived stream goes on
// with a keyframe and a monotonic timeline.
func TestRestart(t *testing.T) {
	t.Parallel()
	h := mediatest.NewHub(t, nil)
	src := publishH265(t, h, "live/crash")
	tc := startTranscoder(t, h, time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := tc.Read(ctx, src, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Counted in frames, not read for a wall-clock time: a loaded machine
	// only makes it slower.
	before := videoUnits(collectVideo(t, r, 10, 30*time.Second))
	pid := tc.Stats()[0].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "ffmpeg restarted", func() bool {
		st := tc.Stats()
		return len(st) == 1 && st[0].Restarts == 1 && st[0].PID != 0 && st[0].PID != pid
	})
	after := videoUnits(collectVideo(t, r, 25, 30*time.Second))
	all := append(append([]hub.Unit(nil), before...), after...)
	sawGap := false
	for i := 1; i < len(all); i++ {
		d := all[i].PTS - all[i-1].PTS
		if d <= 0 {
			t.Fatalf("PTS went from %d to %d", all[i-1].PTS, all[i].PTS)
		}
		if d > 3600 {
			sawGap = true
			if !all[i].Keyframe {
				t.Errorf("the stream resumed at PTS %d without a keyframe", all[i].PTS)
			}
		}
	}
	if !sawGap {
		t.Log("no gap seen: the restart fell between two reads")
	}
}

func TestInitializeErrors(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	tests := []struct {
		name    string
		tc      *transcode.Transcoder
		want    error
		message string
	}{
		{
			"missing ffmpeg", &transcode.Transcoder{Hub: h, FFmpeg: "/nonexistent/ffmpeg"},
			transcode.ErrFFmpegNotFound, "/nonexistent/ffmpeg",
		},
		{
			"missing ffmpeg in PATH", &transcode.Transcoder{Hub: h, FFmpeg: "ffmpeg-not-installed"},
			transcode.ErrFFmpegNotFound, "ffmpeg-not-installed",
		},
		{
			"unknown encoder", &transcode.Transcoder{Hub: h, Encoder: "libx265"},
			transcode.ErrEncoderUnavailable, "libx265",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tc.Initialize()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("Initialize: %v, want %v naming %q", err, tc.want, tc.message)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	h := mediatest.NewHub(t, nil)
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h264 := mediatest.Publish(t, h, "live/h264", clip, false)
	silent, err := h.Publish("live/silent")
	if err != nil {
		t.Fatal(err)
	}
	tc := startTranscoder(t, h, time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tc.Read(ctx, h264, "viewer"); !errors.Is(err, transcode.ErrNotH265) {
		t.Errorf("Read of an H.264 stream: %v, want ErrNotH265", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := tc.Read(short, silent, "viewer"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read of a stream that never gets ready: %v, want a deadline error", err)
	}
	if n := len(tc.Stats()); n != 0 {
		t.Errorf("%d transcodes started by failed reads", n)
	}
}
