package vodtranscode

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// Defaults of the Transcoder configuration.
const (
	DefaultFFmpeg     = "ffmpeg"
	DefaultMaxRunning = 2
	DefaultCacheBytes = 64 << 20
)

// Source is one segment object to transcode from.
type Source struct {
	// Key names the object in errors and logs (its recording ID).
	Key string
	// R reads the object; Layout is its scan (segment.Fragments).
	R      io.ReaderAt
	Layout segment.Layout
}

// Opener opens a segment object when its answer is not cached; done
// releases it.
type Opener func(ctx context.Context) (src Source, done func(), err error)

// Range is the stretch of a segment to transcode: from its first video key
// frame at or after From to before the first one at or after To (To 0:
// to the end of what is written); Shift moves the answer's decode times
// later (as vod's shift query does). Times are from the segment's start,
// kept to the microsecond (the URLs' unit).
type Range struct {
	From, To, Shift time.Duration
	// First marks the stretch a playback starts with: transcoded faster,
	// at more bytes, since the first frame waits for it.
	First bool
}

// Transcoder runs ffmpeg for the H.264 version of H.265 segments (see the
// package doc). Calls run on their callers' goroutines; Warm starts one per
// transcode it starts ahead. Close stops the ffmpeg runs in progress and
// waits for them.
//
// Fill the exported fields, call Initialize, and Close when done.
type Transcoder struct {
	// FFmpeg is the ffmpeg binary, DefaultFFmpeg (looked up in PATH) if
	// empty.
	FFmpeg string
	// MaxRunning bounds the ffmpeg runs at once; DefaultMaxRunning if 0.
	// At most MaxQueue times as many requests wait for a slot; more are
	// refused (ErrBusy).
	MaxRunning int
	// CacheBytes bounds the answers kept for segments that no longer grow;
	// DefaultCacheBytes if 0, none if negative.
	CacheBytes int64
	// Metrics counts runs; nil counts nothing.
	Metrics *Metrics
	// Log receives failures and frame-count mismatches; nil discards.
	Log *slog.Logger

	ffmpeg string
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}

	mu      sync.Mutex
	closed  bool
	waiting int // calls waiting for a slot
	calls   sync.WaitGroup
	entries map[string]*entry
	lru     list.List // of *entry, most recent at the front
	bytes   int64
	// paramSets are the H.264 SPS and PPS of the H.264 version, by the
	// source's H.265 parameter sets.
	paramSets map[string][2][]byte
}

// MaxQueue is how many requests per slot may wait for one.
const MaxQueue = 4

// entry is one cached or in-flight answer.
type entry struct {
	key  string
	done chan struct{}
	b    []byte
	err  error
	elem *list.Element // in lru once done and kept
	// waiters counts the callers still waiting for the run (under the
	// Transcoder's mu); when the last one leaves, stop ends the run: no
	// one would read it (a player that seeks aborts its fetches).
	waiters int
	stop    context.CancelFunc
}

// errAbandoned ends a run whose callers all left.
var errAbandoned = fmt.Errorf("vodtranscode: every request for it left: %w", context.Canceled)

// leave is a caller of e giving up; the last one stops the run.
func (t *Transcoder) leave(e *entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.waiters--; e.waiters == 0 {
		e.stop()
	}
}

// Initialize checks the configuration and finds ffmpeg.
func (t *Transcoder) Initialize() error {
	if t.FFmpeg == "" {
		t.FFmpeg = DefaultFFmpeg
	}
	if t.MaxRunning == 0 {
		t.MaxRunning = DefaultMaxRunning
	}
	if t.CacheBytes == 0 {
		t.CacheBytes = DefaultCacheBytes
	}
	if t.MaxRunning < 0 {
		return fmt.Errorf("%w: MaxRunning %d", ErrInvalid, t.MaxRunning)
	}
	if t.Log == nil {
		t.Log = slog.New(slog.DiscardHandler)
	}
	path, err := exec.LookPath(t.FFmpeg)
	if err != nil {
		return fmt.Errorf("%w: ffmpeg %q: %w", ErrInvalid, t.FFmpeg, err)
	}
	t.ffmpeg = path
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.slots = make(chan struct{}, t.MaxRunning)
	t.entries = map[string]*entry{}
	t.paramSets = map[string][2][]byte{}
	return nil
}

// Close stops the ffmpeg runs in progress and waits for their calls to
// return; later calls fail with ErrClosed.
func (t *Transcoder) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.calls.Wait()
}

// Init returns the H.264 version of segment key's init section: its
// tracks, the video as H.264 with the parameter sets ffmpeg gives the
// segment's first key frame. final says the segment no longer grows (its
// answer is cached); open is called only when it is not.
func (t *Transcoder) Init(ctx context.Context, key string, final bool, open Opener) ([]byte, error) {
	return t.cached(ctx, key, final, keyInit, true, opened(open, t.init))
}

// Part returns the H.264 version of a stretch of segment key as one
// fragment (moof+mdat), to follow Init's section.
func (t *Transcoder) Part(ctx context.Context, key string, final bool, rg Range, open Opener) ([]byte, error) {
	rg = rg.micros()
	if err := rg.check(); err != nil {
		return nil, err
	}
	return t.cached(ctx, key, final, rg.key(), true, opened(open, func(ctx context.Context, src Source) ([]byte, error) {
		return t.part(ctx, src, rg)
	}))
}

// Warm starts, in the background, the transcodes of a final segment's init
// section and of its stretch rg, both at once: a player asks for them one
// after the other as soon as it has the playlist, and finds them done or
// in flight. Only free slots are used: a busy node does not warm.
func (t *Transcoder) Warm(key string, rg Range, open Opener) {
	rg = rg.micros()
	if rg.check() != nil || t.CacheBytes < 0 {
		return
	}
	warm := func(what string, fn func(context.Context) ([]byte, error)) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			return
		}
		t.calls.Add(1)
		go func() {
			defer t.calls.Done()
			_, err := t.cached(t.ctx, key, true, what, false, fn)
			if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrBusy) {
				t.Log.Warn("vodtranscode: ahead-of-request transcode failed", "recording", key, "what", what, "error", err)
			}
		}()
	}
	warm(keyInit, opened(open, t.init))
	warm(rg.key(), opened(open, func(ctx context.Context, src Source) ([]byte, error) { return t.part(ctx, src, rg) }))
}

// opened runs fn on the source open opens, and releases it.
func opened(open Opener, fn func(context.Context, Source) ([]byte, error)) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		src, done, err := open(ctx)
		if err != nil {
			return nil, err
		}
		defer done()
		return fn(ctx, src)
	}
}

// keyInit is the cache key of a segment's init section.
const keyInit = "init"

// key is the cache key of a stretch.
func (rg Range) key() string {
	return fmt.Sprintf("part %d %d %d %v", rg.From.Microseconds(), rg.To.Microseconds(), rg.Shift.Microseconds(), rg.First)
}

// micros keeps the range to the microsecond, as the URLs carry it: a warmed
// stretch and the player's request for it are one.
func (rg Range) micros() Range {
	return Range{
		From: rg.From.Truncate(time.Microsecond), To: rg.To.Truncate(time.Microsecond),
		Shift: rg.Shift.Truncate(time.Microsecond), First: rg.First,
	}
}

func (rg Range) check() error {
	if rg.From < 0 || rg.To < 0 || rg.Shift < 0 || rg.To != 0 && rg.To <= rg.From {
		return fmt.Errorf("%w: range from %s to %s", ErrNoVideo, rg.From, rg.To)
	}
	return nil
}

// cached runs fn once for identical requests in flight and keeps its
// answer when the segment is final. wait says whether to wait for a slot
// (else a busy node answers ErrBusy at once).
func (t *Transcoder) cached(ctx context.Context, segKey string, final bool, what string, wait bool,
	fn func(context.Context) ([]byte, error),
) ([]byte, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	t.calls.Add(1)
	defer t.calls.Done()
	if !final || t.CacheBytes < 0 {
		t.mu.Unlock()
		return t.run(ctx, wait, fn)
	}
	key := segKey + " " + what
	for e, ok := t.entries[key]; ok; e, ok = t.entries[key] {
		if e.elem != nil {
			t.lru.MoveToFront(e.elem)
		}
		e.waiters++
		t.mu.Unlock()
		select {
		case <-e.done:
			t.leave(e)
		case <-ctx.Done():
			t.leave(e)
			return nil, ctx.Err()
		}
		// A warm that found no free slot is no answer for a request
		// that waits for one, nor is a run its callers all left: it runs
		// its own.
		retry := wait && errors.Is(e.err, ErrBusy) || errors.Is(e.err, errAbandoned)
		if !retry {
			return e.b, e.err
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, ErrClosed
		}
	}
	// The run is not the first caller's alone: it ends when every caller
	// waiting for it has left (or Close).
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	e := &entry{key: key, done: make(chan struct{}), waiters: 1, stop: stop}
	t.entries[key] = e
	t.mu.Unlock()
	left := context.AfterFunc(ctx, func() { t.leave(e) })
	e.b, e.err = t.run(runCtx, wait, fn)
	left()
	if e.err != nil && runCtx.Err() != nil && t.ctx.Err() == nil {
		e.err = errAbandoned
	}
	t.mu.Lock()
	if e.err != nil || int64(len(e.b)) > t.CacheBytes {
		delete(t.entries, key)
	} else {
		e.elem = t.lru.PushFront(e)
		t.bytes += int64(len(e.b))
		for t.bytes > t.CacheBytes {
			old := t.lru.Remove(t.lru.Back()).(*entry)
			delete(t.entries, old.key)
			t.bytes -= int64(len(old.b))
		}
	}
	t.mu.Unlock()
	close(e.done)
	if err := ctx.Err(); err != nil && e.err == nil {
		return nil, err
	}
	return e.b, e.err
}

// run waits for a slot (unless !wait, or MaxQueue per slot already wait:
// ErrBusy) and calls fn with a context Close cancels.
func (t *Transcoder) run(ctx context.Context, wait bool, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	select {
	case t.slots <- struct{}{}:
	default:
		t.mu.Lock()
		busy := !wait || t.waiting >= MaxQueue*t.MaxRunning
		if !busy {
			t.waiting++
		}
		t.mu.Unlock()
		if busy {
			return nil, ErrBusy
		}
		var err error
		select {
		case t.slots <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
			if t.ctx.Err() != nil {
				err = ErrClosed
			}
		}
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	defer func() { <-t.slots }()
	start := time.Now()
	b, err := fn(ctx)
	t.Metrics.observe(err, time.Since(start))
	if err != nil && t.ctx.Err() != nil {
		return nil, ErrClosed
	}
	return b, err
}

// Metrics are the transcoder's Prometheus metrics.
type Metrics struct {
	runs    *prometheus.CounterVec
	seconds prometheus.Counter
}

// NewMetrics registers the transcoder's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recorder_vod_transcodes_total",
			Help: "H.264 transcodes of H.265 recordings for playback (init sections and stretches), by result (ok, failed).",
		}, []string{"result"}),
		seconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_vod_transcode_seconds_total",
			Help: "Wall-clock seconds spent in H.264 transcodes of H.265 recordings.",
		}),
	}
	reg.MustRegister(m.runs, m.seconds)
	return m
}

func (m *Metrics) observe(err error, d time.Duration) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.runs.WithLabelValues(result).Inc()
	m.seconds.Add(d.Seconds())
}
