package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Restart policy: the backoff doubles from restartMin to restartMax; a run
// longer than stableRun resets it; maxFailures crashes in a row end the
// transcode.
const (
	restartMin  = 500 * time.Millisecond
	restartMax  = 10 * time.Second
	stableRun   = 30 * time.Second
	maxFailures = 5
)

// maxAudioQueue bounds the audio held back for interleaving (5 s of 20 ms
// G.711 frames); the oldest goes first when video stalls.
const maxAudioQueue = 250

// errSourceEnded ends an ffmpeg run because the source closed.
var errSourceEnded = errors.New("source ended")

// job is the transcode of one source stream.
type job struct {
	t       *Transcoder
	src     *hub.Stream
	derived *hub.Stream
	since   time.Time
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc
	// done is closed when run has returned.
	done chan struct{}

	// Guarded by Transcoder.mu.
	pending  int
	stopping bool

	framesIn, framesOut, audioUnits, realigned atomic.Uint64
	restarts                                   atomic.Int64
	pid                                        atomic.Int64

	// Audio waiting for the video it is interleaved with.
	amu    sync.Mutex
	audioQ []hub.Unit

	// Owned by the output goroutine of the current ffmpeg run (runs never
	// overlap).
	lastVideoPTS, lastAudioPTS int64
	wroteVideo, wroteAudio     bool
	needKey                    bool
}

func newJob(t *Transcoder, src, derived *hub.Stream) *job {
	ctx, cancel := context.WithCancelCause(t.ctx)
	return &job{
		t:       t,
		src:     src,
		derived: derived,
		since:   time.Now(),
		log:     t.Log.With("path", src.Path(), "derived", derived.Path()),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
}

// failure is why the transcode ended.
func (j *job) failure() error {
	if err := context.Cause(j.ctx); err != nil {
		return err
	}
	return ErrClosed
}

func (j *job) stats() Stats {
	st := Stats{
		SourcePath: j.src.Path(),
		Path:       j.derived.Path(),
		Since:      j.since,
		Readers:    len(j.derived.Stats().Readers),
		FramesIn:   j.framesIn.Load(),
		FramesOut:  j.framesOut.Load(),
		AudioUnits: j.audioUnits.Load(),
		Realigned:  j.realigned.Load(),
		Restarts:   int(j.restarts.Load()),
		Encoder:    j.t.Encoder,
		PID:        int(j.pid.Load()),
	}
	return st
}

// watchReaders stops the transcode once the derived stream has had no
// reader for Linger. The hub has no reader-left callback, so it polls.
func (j *job) watchReaders() {
	period := min(max(j.t.Linger/5, 10*time.Millisecond), 500*time.Millisecond)
	tick := time.NewTicker(period)
	defer tick.Stop()
	var idleSince time.Time
	for {
		select {
		case <-tick.C:
		case <-j.ctx.Done():
			return
		}
		t := j.t
		t.mu.Lock()
		busy := j.pending > 0 || len(j.derived.Stats().Readers) > 0
		switch {
		case busy:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		case time.Since(idleSince) >= t.Linger:
			t.stopLocked(j, errIdle)
		}
		t.mu.Unlock()
	}
}

// run keeps ffmpeg running until the transcode is stopped, the source
// ends or ffmpeg fails too often.
func (j *job) run() {
	defer close(j.done)
	backoff := restartMin
	failures := 0
	for {
		started := time.Now()
		err := j.runFFmpeg()
		switch {
		case j.ctx.Err() != nil:
			return
		case errors.Is(err, errSourceEnded):
			j.t.stop(j, fmt.Errorf("%w: %w", ErrSourceClosed, err))
			return
		case errors.Is(err, errDerivedClosed):
			j.t.stop(j, err)
			return
		}
		if time.Since(started) >= stableRun {
			failures, backoff = 0, restartMin
		}
		failures++
		if failures >= maxFailures {
			j.log.Error("ffmpeg keeps failing, giving up", "failures", failures, "error", err)
			j.t.stop(j, fmt.Errorf("%w %d times in a row: %w", ErrFFmpegFailed, failures, err))
			return
		}
		j.restarts.Add(1)
		j.log.Warn("ffmpeg exited, restarting", "error", err, "backoff", backoff, "failures", failures)
		select {
		case <-time.After(backoff):
		case <-j.ctx.Done():
			return
		}
		backoff = min(backoff*2, restartMax)
	}
}

// sourceParams estimates the source's frame rate and returns it with the
// encoder's keyframe ceiling (-g). Keyframes are forced where the source
// has them, so the output GOP is the source GOP; -g is only a backstop for
// irregular sources, set well above the source GOP (twice its estimate,
// one second when unknown, at most ten) so that it never puts an encoder
// keyframe just before a source one, which the PTS realignment would take
// for a dropped frame.
func (j *job) sourceParams() (fps, gop int) {
	st := j.src.Stats()
	fps = int(math.Round(st.VideoFPS))
	if fps < 1 || fps > 120 {
		fps = 25
	}
	est := fps
	for _, tr := range st.Tracks {
		if tr.Codec == ps.CodecH265 && tr.Keyframes >= 2 {
			// The units after the last keyframe make U/K low and U/(K-1)
			// high; high is the safe side.
			est = int(math.Ceil(float64(tr.Units) / float64(tr.Keyframes-1)))
		}
	}
	return fps, min(max(2*est, fps), 10*fps)
}

// runFFmpeg runs one ffmpeg process with its own hub reader on the source,
// so that each run starts on a keyframe, and returns when it ends.
func (j *job) runFFmpeg() error {
	reader, err := j.src.AddReader(ReaderName)
	if err != nil {
		return fmt.Errorf("%w: %w", errSourceEnded, err)
	}
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()

	fps, gop := j.sourceParams()
	cmd := exec.CommandContext(ctx, j.t.ffmpeg, ffmpegArgs(j.t.Encoder, fps, gop)...)
	// Killing ffmpeg closes its pipes; the wait delay only guards against
	// a grandchild keeping them open.
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		reader.Close()
		return fmt.Errorf("ffmpeg stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		reader.Close()
		return fmt.Errorf("ffmpeg stdout: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		reader.Close()
		return fmt.Errorf("ffmpeg stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		reader.Close()
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	j.pid.Store(int64(cmd.Process.Pid))
	defer j.pid.Store(0)
	j.log.Info("ffmpeg started", "pid", cmd.Process.Pid, "fps", fps, "gop", gop)

	queue := &ptsQueue{}
	errLog := newStderrLog(j.log.With("pid", cmd.Process.Pid))
	feedDone := make(chan error, 1)
	outDone := make(chan error, 1)
	logDone := make(chan struct{})
	go func() { feedDone <- j.feed(ctx, reader, stdin, queue) }()
	go func() { outDone <- j.output(stdout, queue) }()
	go func() {
		defer close(logDone)
		errLog.run(stderr)
	}()

	var feedErr, outErr error
	feedRunning := true
	select {
	case feedErr = <-feedDone:
		feedRunning = false
		if errors.Is(feedErr, errSourceEnded) {
			cancel() // no point in draining a stream that ended
		}
		// Otherwise stdin is closed: ffmpeg drains and exits by itself.
		outErr = <-outDone
	case outErr = <-outDone:
	}
	cancel()
	if feedRunning {
		feedErr = <-feedDone
	}
	<-logDone
	waitErr := cmd.Wait()

	switch {
	case errors.Is(feedErr, errSourceEnded):
		return feedErr
	case errors.Is(outErr, errDerivedClosed):
		return outErr
	case j.ctx.Err() != nil:
		return j.ctx.Err()
	}
	if waitErr == nil {
		waitErr = errors.New("exited")
	}
	if tail := errLog.tail(); tail != "" {
		return fmt.Errorf("ffmpeg: %w (stderr: %s)", waitErr, tail)
	}
	return fmt.Errorf("ffmpeg: %w", waitErr)
}

// feed writes the source's H.265 units to ffmpeg and queues its audio. It
// blocks only on ffmpeg: when ffmpeg falls behind, the hub's slow-reader
// policy skips this reader to the next keyframe.
func (j *job) feed(ctx context.Context, reader *hub.Reader, stdin io.WriteCloser, queue *ptsQueue) error {
	defer func() {
		stdin.Close()
		reader.Close()
	}()
	var lastPTS int64
	fed := false
	for {
		var u hub.Unit
		select {
		case v, ok := <-reader.Units():
			if !ok {
				err := reader.Err()
				if !errors.Is(err, hub.ErrSlowReader) {
					return fmt.Errorf("%w: %w", errSourceEnded, err)
				}
				// Disconnected for lagging: attach again. The new reader
				// replays the GOP cache; what was fed already is skipped.
				j.log.Warn("ffmpeg too slow, source reader disconnected, reattaching")
				r, err := j.src.AddReader(ReaderName)
				if err != nil {
					return fmt.Errorf("%w: %w", errSourceEnded, err)
				}
				reader = r
				continue
			}
			u = v
		case <-ctx.Done():
			return ctx.Err()
		}
		switch {
		case u.Codec == ps.CodecH265:
			if fed && u.PTS <= lastPTS {
				continue
			}
			queue.push(u.PTS, u.Keyframe)
			if _, err := stdin.Write(u.Payload); err != nil {
				return fmt.Errorf("write to ffmpeg: %w", err)
			}
			lastPTS, fed = u.PTS, true
			j.framesIn.Add(1)
		case u.Codec.IsAudio():
			j.queueAudio(u)
		}
	}
}

func (j *job) queueAudio(u hub.Unit) {
	j.amu.Lock()
	defer j.amu.Unlock()
	if len(j.audioQ) >= maxAudioQueue {
		j.audioQ[0] = hub.Unit{}
		j.audioQ = j.audioQ[1:]
	}
	j.audioQ = append(j.audioQ, u)
}

// takeAudio removes and returns the queued audio up to pts.
func (j *job) takeAudio(pts int64) []hub.Unit {
	j.amu.Lock()
	defer j.amu.Unlock()
	n := 0
	for n < len(j.audioQ) && j.audioQ[n].PTS <= pts {
		n++
	}
	if n == 0 {
		return nil
	}
	out := append([]hub.Unit(nil), j.audioQ[:n]...)
	clear(j.audioQ[:n])
	j.audioQ = j.audioQ[n:]
	return out
}

// output splits ffmpeg's stdout into H.264 units and writes them, with
// the audio up to their PTS, to the derived stream.
func (j *job) output(stdout io.Reader, queue *ptsQueue) error {
	// A new ffmpeg starts on a keyframe that the previous one may already
	// have delivered: wait for a keyframe past what was written.
	j.needKey = true
	split := newAUSplitter()
	buf := make([]byte, 64<<10)
	for {
		n, rerr := stdout.Read(buf)
		aus, err := split.push(buf[:n])
		if err != nil {
			j.log.Warn("discarding ffmpeg output", "error", err)
		}
		if rerr != nil {
			if au := split.flush(); au != nil {
				aus = append(aus, au)
			}
		}
		for _, au := range aus {
			if err := j.emit(au, queue); err != nil {
				return err // the caller kills ffmpeg
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return fmt.Errorf("read ffmpeg output: %w", rerr)
		}
	}
}

// emit writes one H.264 unit with the PTS of its input frame.
func (j *job) emit(au []byte, queue *ptsQueue) error {
	key := isIDR(au)
	pts, skipped, ok := queue.pop(key)
	if skipped > 0 {
		j.realigned.Add(uint64(skipped))
		j.log.Warn("ffmpeg dropped frames, realigned timestamps at keyframe", "frames", skipped)
	}
	if !ok {
		// More outputs than inputs should not happen; keep time moving.
		pts = j.lastVideoPTS + 1
	}
	if j.needKey {
		if !key || (j.wroteVideo && pts <= j.lastVideoPTS) {
			return nil
		}
		j.needKey = false
	}
	if j.wroteVideo && pts <= j.lastVideoPTS {
		pts = j.lastVideoPTS + 1 // never let a mapping slip run time backwards
	}
	for _, a := range j.takeAudio(pts) {
		if !j.wroteVideo || (j.wroteAudio && a.PTS <= j.lastAudioPTS) {
			// Audio before the first picture is of no use to a reader (they
			// start on a keyframe) and would list audio as the first
			// track; audio at or before what was written was replayed by a
			// new source reader after a restart.
			continue
		}
		if err := j.derived.WriteUnit(a); err != nil {
			return fmt.Errorf("%w: %w", errDerivedClosed, err)
		}
		j.lastAudioPTS, j.wroteAudio = a.PTS, true
		j.audioUnits.Add(1)
	}
	u := hub.Unit{Codec: ps.CodecH264, PTS: pts, DTS: pts, Keyframe: key, Payload: au}
	if err := j.derived.WriteUnit(u); err != nil {
		return fmt.Errorf("%w: %w", errDerivedClosed, err)
	}
	j.lastVideoPTS, j.wroteVideo = pts, true
	j.framesOut.Add(1)
	return nil
}
