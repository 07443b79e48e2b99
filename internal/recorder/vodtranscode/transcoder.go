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
	// Key names the object (its recording ID); with Final it keys the
	// cache.
	Key string
	// R reads the object; Layout is its scan (segment.Fragments).
	R      io.ReaderAt
	Layout segment.Layout
	// Final is set when the object no longer grows (a closed segment):
	// only then are answers cached.
	Final bool
}

// Range is the stretch of a segment to transcode: from its first video key
// frame at or after From to before the first one at or after To (To 0:
// to the end of what is written); Shift moves the answer's decode times
// later (as vod's shift query does). Times are from the segment's start.
type Range struct {
	From, To, Shift time.Duration
}

// Transcoder runs ffmpeg for the H.264 version of H.265 segments (see the
// package doc). It has no goroutine of its own: each call runs on its
// caller's, and Close stops the ffmpeg runs in progress.
//
// Fill the exported fields, call Initialize, and Close when done.
type Transcoder struct {
	// FFmpeg is the ffmpeg binary, DefaultFFmpeg (looked up in PATH) if
	// empty.
	FFmpeg string
	// MaxRunning bounds the ffmpeg runs at once; DefaultMaxRunning if 0.
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
	calls   sync.WaitGroup
	entries map[string]*entry
	lru     list.List // of *entry, most recent at the front
	bytes   int64
}

// entry is one cached or in-flight answer.
type entry struct {
	key  string
	done chan struct{}
	b    []byte
	err  error
	elem *list.Element // in lru once done and kept
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

// Init returns the H.264 version of the segment's init section: its
// tracks, the video as H.264 with the parameter sets ffmpeg gives the
// segment's first key frame.
func (t *Transcoder) Init(ctx context.Context, src Source) ([]byte, error) {
	return t.cached(ctx, src.Key, src.Final, keyInit, func(ctx context.Context) ([]byte, error) {
		return t.init(ctx, src)
	})
}

// Part returns the H.264 version of a stretch of the segment as one
// fragment (moof+mdat), to follow Init's section.
func (t *Transcoder) Part(ctx context.Context, src Source, rg Range) ([]byte, error) {
	if err := rg.check(); err != nil {
		return nil, err
	}
	return t.cached(ctx, src.Key, src.Final, rg.key(), func(ctx context.Context) ([]byte, error) {
		return t.part(ctx, src, rg)
	})
}

// Opener opens a segment object for a transcode in the background; done
// releases it.
type Opener func(ctx context.Context) (src Source, done func(), err error)

// Warm starts, in the background, the transcodes of a final segment's init
// section and of its stretch rg, both at once: a player asks for them one
// after the other as soon as it has the playlist, and finds them done or
// in flight. key is the segment's Source.Key.
func (t *Transcoder) Warm(key string, rg Range, open Opener) {
	if rg.check() != nil {
		return
	}
	warm := func(what string, fn func(context.Context, Source) ([]byte, error)) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			return
		}
		t.calls.Add(1)
		go func() {
			defer t.calls.Done()
			_, err := t.cached(t.ctx, key, true, what, func(ctx context.Context) ([]byte, error) {
				src, done, err := open(ctx)
				if err != nil {
					return nil, err
				}
				defer done()
				return fn(ctx, src)
			})
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Log.Warn("vodtranscode: ahead-of-request transcode failed", "recording", key, "what", what, "error", err)
			}
		}()
	}
	warm(keyInit, t.init)
	warm(rg.key(), func(ctx context.Context, src Source) ([]byte, error) { return t.part(ctx, src, rg) })
}

// keyInit is the cache key of a segment's init section.
const keyInit = "init"

// key is the cache key of a stretch.
func (rg Range) key() string { return fmt.Sprintf("part %d %d %d", rg.From, rg.To, rg.Shift) }

func (rg Range) check() error {
	if rg.From < 0 || rg.To < 0 || rg.Shift < 0 || rg.To != 0 && rg.To <= rg.From {
		return fmt.Errorf("%w: range from %s to %s", ErrNoVideo, rg.From, rg.To)
	}
	return nil
}

// cached runs fn once for identical requests in flight and keeps its
// answer when the segment is final.
func (t *Transcoder) cached(ctx context.Context, segKey string, final bool, what string,
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
		return t.run(ctx, fn)
	}
	key := segKey + " " + what
	if e, ok := t.entries[key]; ok {
		if e.elem != nil {
			t.lru.MoveToFront(e.elem)
		}
		t.mu.Unlock()
		select {
		case <-e.done:
			return e.b, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := &entry{key: key, done: make(chan struct{})}
	t.entries[key] = e
	t.mu.Unlock()

	// The run is not the first caller's alone: others may wait for it, so
	// only the Transcoder's Close stops it.
	e.b, e.err = t.run(context.WithoutCancel(ctx), fn)
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

// run waits for a slot and calls fn with a context Close cancels.
func (t *Transcoder) run(ctx context.Context, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		if t.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, ctx.Err()
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
