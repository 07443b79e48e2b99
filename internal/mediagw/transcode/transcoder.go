package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/snapshot"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Defaults of the Transcoder configuration.
const (
	DefaultFFmpeg  = "ffmpeg"
	DefaultEncoder = EncoderX264
	DefaultLinger  = 5 * time.Second
)

// PathSuffix is appended to a source path to name its H.264 transcode.
const PathSuffix = "~h264"

// ReaderName is the name of the transcode's hub reader on the source.
const ReaderName = "transcode h264"

// DerivedPath returns the path of the H.264 transcode of sourcePath.
func DerivedPath(sourcePath string) string { return sourcePath + PathSuffix }

// Transcoder runs at most one ffmpeg per source stream, started by the
// first reader and stopped Linger after the last one left (or when the
// source closes).
//
// Fill the exported fields, call Initialize, and Close when done.
type Transcoder struct {
	// Hub holds the source streams and receives the derived ones.
	Hub *hub.Hub
	// FFmpeg is the ffmpeg binary, DefaultFFmpeg (looked up in PATH) if
	// empty.
	FFmpeg string
	// Encoder is the H.264 encoder: EncoderX264 (default), or hardware
	// EncoderNVENC, EncoderVAAPI or EncoderQSV when the host has one.
	Encoder string
	// Linger is how long a transcode outlives its last reader, so that a
	// viewer switching back does not wait for ffmpeg; DefaultLinger if 0.
	Linger time.Duration
	// Log receives one line per transcode event and ffmpeg's stderr (rate
	// limited); nil discards.
	Log *slog.Logger

	ffmpeg string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	jobs   map[string]*job // by source path
}

// Stats is a snapshot of one transcode.
type Stats struct {
	// SourcePath is the H.265 stream's path, Path the derived H.264 one.
	SourcePath, Path string
	// Since is when the transcode started.
	Since time.Time
	// Readers is the number of readers of the derived stream.
	Readers int
	// FramesIn counts H.265 frames given to ffmpeg, FramesOut H.264 frames
	// written to the derived stream, AudioUnits the audio units copied.
	FramesIn, FramesOut, AudioUnits uint64
	// Realigned counts input frames skipped when an output keyframe was
	// matched to its input keyframe (frames ffmpeg dropped).
	Realigned uint64
	// Restarts counts ffmpeg restarts after a crash.
	Restarts int
	// Encoder is the H.264 encoder in use.
	Encoder string
	// PID is the running ffmpeg's process ID, 0 between restarts.
	PID int
}

// Initialize checks that ffmpeg and the encoder are there.
func (t *Transcoder) Initialize() error {
	if t.Hub == nil {
		return errors.New("initialize transcoder: no Hub")
	}
	if t.FFmpeg == "" {
		t.FFmpeg = DefaultFFmpeg
	}
	if t.Encoder == "" {
		t.Encoder = DefaultEncoder
	}
	if t.Linger <= 0 {
		t.Linger = DefaultLinger
	}
	if t.Log == nil {
		t.Log = slog.New(slog.DiscardHandler)
	}
	if _, ok := encoderArgs(t.Encoder, 25); !ok {
		return fmt.Errorf("initialize transcoder: encoder %q (want %s, %s, %s or %s): %w",
			t.Encoder, EncoderX264, EncoderNVENC, EncoderVAAPI, EncoderQSV, ErrEncoderUnavailable)
	}
	path, err := exec.LookPath(t.FFmpeg)
	if err != nil {
		return fmt.Errorf("initialize transcoder: %q: %w: %w", t.FFmpeg, ErrFFmpegNotFound, err)
	}
	t.ffmpeg = path
	if err := t.checkEncoder(); err != nil {
		return fmt.Errorf("initialize transcoder: %w", err)
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.jobs = make(map[string]*job)
	t.Log.Info("transcoder ready", "ffmpeg", t.ffmpeg, "encoder", t.Encoder, "linger", t.Linger)
	return nil
}

// checkEncoder asks ffmpeg whether it was built with the encoder. (A
// hardware encoder may still fail at start on a host without the device;
// that shows in the transcode's log and error.)
func (t *Transcoder) checkEncoder() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, t.ffmpeg, "-hide_banner", "-encoders").Output()
	if err != nil {
		return fmt.Errorf("run %s -encoders: %w", t.ffmpeg, err)
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == t.Encoder {
			return nil
		}
	}
	return fmt.Errorf("%s has no encoder %q: %w", t.ffmpeg, t.Encoder, ErrEncoderUnavailable)
}

// Close stops every transcode; their derived streams close.
func (t *Transcoder) Close() {
	t.cancel()
	t.mu.Lock()
	t.closed = true
	for _, j := range t.jobs {
		t.stopLocked(j, ErrClosed)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// Read returns a reader on the H.264 transcode of the H.265 stream src
// (derived path src.Path()+PathSuffix, published in the same hub),
// starting ffmpeg if needed and waiting (bounded by ctx) until it is
// ready. The caller closes the reader.
func (t *Transcoder) Read(ctx context.Context, src *hub.Stream, readerName string) (*hub.Reader, error) {
	if src == nil {
		return nil, errors.New("transcode: nil source")
	}
	select {
	case <-src.Ready():
	case <-src.Done():
		return nil, fmt.Errorf("transcode %s: %w", src.Path(), ErrSourceClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("transcode %s: source not ready: %w", src.Path(), ctx.Err())
	}
	select {
	case <-src.Done():
		// Ready and Done may both be closed; a closed source must not
		// start a transcode.
		return nil, fmt.Errorf("transcode %s: %w", src.Path(), ErrSourceClosed)
	default:
	}
	if v := videoCodec(src.Tracks()); v != ps.CodecH265 {
		return nil, fmt.Errorf("transcode %s: video %s: %w", src.Path(), v, ErrNotH265)
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	j := t.jobs[src.Path()]
	if j != nil && j.src != src {
		// The path was republished: the old transcode is of a dead stream.
		t.stopLocked(j, ErrSourceClosed)
		j = nil
	}
	if j == nil {
		var err error
		if j, err = t.startLocked(src); err != nil {
			t.mu.Unlock()
			return nil, err
		}
	}
	// pending keeps the transcode from lingering out between here and
	// AddReader.
	j.pending++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		j.pending--
		t.mu.Unlock()
	}()

	select {
	case <-j.derived.Ready():
	case <-j.done:
		return nil, fmt.Errorf("transcode %s: %w", src.Path(), j.failure())
	case <-ctx.Done():
		return nil, fmt.Errorf("transcode %s: not ready: %w", src.Path(), ctx.Err())
	}
	r, err := j.derived.AddReader(readerName)
	if err != nil {
		return nil, fmt.Errorf("transcode %s: %w", src.Path(), err)
	}
	return r, nil
}

// Stats returns a snapshot of every transcode, sorted by source path.
func (t *Transcoder) Stats() []Stats {
	jobs := snapshot.Values(&t.mu, t.jobs)
	out := make([]Stats, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.stats())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].SourcePath < out[b].SourcePath })
	return out
}

// startLocked publishes the derived stream and starts the transcode.
func (t *Transcoder) startLocked(src *hub.Stream) (*job, error) {
	derived, err := t.Hub.Publish(DerivedPath(src.Path()))
	if err != nil {
		return nil, fmt.Errorf("transcode %s: %w", src.Path(), err)
	}
	j := newJob(t, src, derived)
	t.jobs[src.Path()] = j
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		j.run()
	}()
	go func() {
		defer t.wg.Done()
		j.watchReaders()
	}()
	j.log.Info("transcode started", "encoder", t.Encoder)
	return j, nil
}

// stopLocked ends j: its derived stream closes at once (so that the path
// can be published again) and ffmpeg is stopped by its goroutine.
func (t *Transcoder) stopLocked(j *job, cause error) {
	if j.stopping {
		return
	}
	j.stopping = true
	if t.jobs[j.src.Path()] == j {
		delete(t.jobs, j.src.Path())
	}
	j.derived.Close()
	j.cancel(cause)
	j.log.Info("transcode stopped", "reason", cause)
}

// stop is stopLocked for the job's own goroutines.
func (t *Transcoder) stop(j *job, cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked(j, cause)
}

func videoCodec(tracks []ps.Codec) ps.Codec {
	for _, c := range tracks {
		if c.IsVideo() {
			return c
		}
	}
	return ps.CodecUnknown
}
