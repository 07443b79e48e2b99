package hub

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/snapshot"
)

// Defaults of the Hub configuration.
const (
	DefaultReaderQueue  = 512
	DefaultMaxOverflows = 3
	DefaultGOPMaxBytes  = 8 << 20
	DefaultGOPMaxUnits  = 300
)

// Hub holds the published streams, keyed by path (live/<channelID>).
//
// Fill the exported fields, call Initialize, and Close when done.
type Hub struct {
	// ReaderQueue is the queue length of each reader, in units.
	ReaderQueue int
	// MaxOverflows is the number of consecutive GOPs in which a reader's queue
	// may overflow before the reader is disconnected with ErrSlowReader.
	MaxOverflows int
	// GOPMaxBytes and GOPMaxUnits bound the GOP cache of each stream; a GOP
	// that grows beyond either is not cached (new readers then wait for the
	// next keyframe).
	GOPMaxBytes int
	GOPMaxUnits int
	// IdleTimeout is how long a stream may have no reader before OnIdle is
	// called; zero disables the check.
	IdleTimeout time.Duration
	// OnIdle is called, from the hub's goroutine, once per idle period of a
	// stream, with the stream itself: a callee that keeps streams tells an
	// idle report of a stream it has replaced since by its identity. It may
	// call back into the hub.
	OnIdle func(s *Stream)
	// Log receives one line per stream or reader event; nil discards.
	Log *slog.Logger
	// Now is the clock, time.Now if nil; tests inject a fake one.
	Now func() time.Time

	mu      sync.Mutex
	streams map[string]*Stream
	closed  bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// wg counts the feeders of held readers (see PublishHold).
	wg sync.WaitGroup
}

// Initialize applies defaults and starts the idle check.
func (h *Hub) Initialize() error {
	if h.ReaderQueue <= 0 {
		h.ReaderQueue = DefaultReaderQueue
	}
	if h.MaxOverflows <= 0 {
		h.MaxOverflows = DefaultMaxOverflows
	}
	if h.GOPMaxBytes <= 0 {
		h.GOPMaxBytes = DefaultGOPMaxBytes
	}
	if h.GOPMaxUnits <= 0 {
		h.GOPMaxUnits = DefaultGOPMaxUnits
	}
	if h.IdleTimeout < 0 {
		return fmt.Errorf("initialize hub: negative idle timeout %v", h.IdleTimeout)
	}
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	h.streams = make(map[string]*Stream)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.done = make(chan struct{})
	go h.run()
	return nil
}

// Close closes every stream (their readers get ErrStreamClosed), stops
// the idle check and waits for the feeders of held readers.
func (h *Hub) Close() {
	h.cancel()
	<-h.done
	h.mu.Lock()
	h.closed = true
	streams := make([]*Stream, 0, len(h.streams))
	for _, s := range h.streams {
		streams = append(streams, s)
	}
	h.mu.Unlock()
	for _, s := range streams {
		s.Close()
	}
	h.wg.Wait()
}

func (h *Hub) run() {
	defer close(h.done)
	if h.IdleTimeout == 0 {
		<-h.ctx.Done()
		return
	}
	// A quarter of the timeout keeps the callback within 25% of it.
	t := time.NewTicker(min(h.IdleTimeout/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			h.checkIdle()
		case <-h.ctx.Done():
			return
		}
	}
}

// checkIdle calls OnIdle for every stream that has had no reader for
// IdleTimeout and was not reported since its last reader left.
func (h *Hub) checkIdle() {
	now := h.Now()
	var idle []*Stream
	for _, s := range h.snapshot() {
		if s.idleDue(now, h.IdleTimeout) {
			idle = append(idle, s)
		}
	}
	for _, s := range idle {
		h.Log.Info("stream idle", "path", s.path, "timeout", h.IdleTimeout)
		if h.OnIdle != nil {
			h.OnIdle(s)
		}
	}
}

// Publish creates the stream of path. The caller is its only writer.
func (h *Hub) Publish(path string) (*Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("publish %s: %w", path, ErrHubClosed)
	}
	if _, ok := h.streams[path]; ok {
		return nil, fmt.Errorf("publish %s: %w", path, ErrAlreadyPublished)
	}
	s := newStream(h, path)
	h.streams[path] = s
	h.Log.Info("stream published", "path", path)
	return s, nil
}

// Stream returns the stream published at path.
func (h *Hub) Stream(path string) (*Stream, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.streams[path]
	return s, ok
}

// Streams returns the statistics of every stream, sorted by path.
func (h *Hub) Streams() []StreamStats {
	streams := h.snapshot()
	out := make([]StreamStats, 0, len(streams))
	for _, s := range streams {
		out = append(out, s.Stats())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (h *Hub) snapshot() []*Stream { return snapshot.Values(&h.mu, h.streams) }

func (h *Hub) remove(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams[s.path] == s {
		delete(h.streams, s.path)
	}
}
