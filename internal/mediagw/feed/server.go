package feed

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

// Defaults of the Server configuration.
const (
	DefaultFlushInterval = 250 * time.Millisecond
	DefaultBufferSize    = 64 << 10
	DefaultWriteTimeout  = 10 * time.Second
)

// Server serves the unit feeds of the streams of a Source, one hub reader
// per request (see the package documentation).
//
// Fill the exported fields, call Initialize, mount it (ServeHTTP) at
// unitfeed.PathPrefix ("/feed/", without StripPrefix), and Close when done.
type Server struct {
	// Source authorizes requests, gives the hub readers and audits the
	// media opens.
	Source access.Source
	// Signer reads the subject of a feed's play token for Sessions and the
	// logs (the Source has checked the token); nil leaves it empty.
	Signer *playtoken.Signer
	// FlushInterval is the longest a unit waits: the units that arrive
	// within this long of the first one after a flush are taken from the
	// reader's queue together and flushed. It must be short enough for the
	// queue (hub.Hub.ReaderQueue units) to hold them. 0 means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// BufferSize is the buffer of a feed in bytes; a full buffer is written
	// at once, before the flush. Keep it above the HTTP server's own 4 KiB
	// (Go's client returns no byte of a chunk before it has all of it).
	// 0 means DefaultBufferSize.
	BufferSize int
	// WriteTimeout bounds every write to the client (the HTTP server has no
	// write timeout of its own: a feed lasts as long as its stream); a
	// write that takes longer cuts the feed. 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Log receives one line per feed opened and ended and per refused
	// request; nil discards.
	Log *slog.Logger
	// Now is the clock of the header's Now, the one the hub dates units
	// with (hub.Hub.Now); nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	ready    bool
	closed   bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// SessionStats is a snapshot of one feed, for the gateway's API.
type SessionStats struct {
	// Path is the stream path.
	Path string
	// Remote is the client's address.
	Remote string
	// Subject is the play token's subject ("" without a Signer).
	Subject string
	// Since is when the request came.
	Since time.Time
	// Open is set once the feed is answered (its media open audited);
	// before, the request waits for the stream or the audit.
	Open bool
	// Tracks are the codecs of the feed's header.
	Tracks []string
	// Units counts the units written, Skipped those of a codec the header
	// does not list (or too large for a frame).
	Units, Skipped uint64
	// Bytes counts the bytes of the response body handed to the HTTP
	// server; Flushes the flushes (timer and stream end, not the automatic
	// writes of a full buffer).
	Bytes, Flushes uint64
	// Reader is the hub reader's name, to find it in the stream's stats,
	// and Queued the units waiting in its queue.
	Reader string
	Queued int
}

// Initialize applies defaults and checks the configuration.
func (s *Server) Initialize() error {
	if s.Source == nil {
		return fmt.Errorf("configuration: Source is nil: %w", ErrInvalidConfig)
	}
	if s.FlushInterval == 0 {
		s.FlushInterval = DefaultFlushInterval
	}
	if s.BufferSize == 0 {
		s.BufferSize = DefaultBufferSize
	}
	if s.WriteTimeout == 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
	switch {
	case s.FlushInterval < 0:
		return fmt.Errorf("configuration: FlushInterval %s: %w", s.FlushInterval, ErrInvalidConfig)
	case s.BufferSize < 0:
		return fmt.Errorf("configuration: BufferSize %d: %w", s.BufferSize, ErrInvalidConfig)
	case s.WriteTimeout < 0:
		return fmt.Errorf("configuration: WriteTimeout %s: %w", s.WriteTimeout, ErrInvalidConfig)
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = make(map[*session]struct{})
	s.ready = true
	return nil
}

// Close ends every feed (ErrServerClosed: their responses are cut) and
// waits for their handlers to return; later requests get 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	sessions := s.snapshotLocked()
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.cancel(ErrServerClosed)
	}
	s.wg.Wait()
}

// Sessions returns a snapshot of the feeds, oldest first.
func (s *Server) Sessions() []SessionStats {
	s.mu.Lock()
	sessions := s.snapshotLocked()
	s.mu.Unlock()
	out := make([]SessionStats, 0, len(sessions))
	for _, sess := range sessions {
		out = append(out, sess.stats())
	}
	slices.SortFunc(out, func(a, b SessionStats) int { return a.Since.Compare(b.Since) })
	return out
}

// Viewers returns the open feeds as viewers: ending one cuts its response
// (ErrEnded) and releases its hub reader.
func (s *Server) Viewers() []access.Viewer {
	s.mu.Lock()
	sessions := s.snapshotLocked()
	s.mu.Unlock()
	out := make([]access.Viewer, 0, len(sessions))
	for _, sess := range sessions {
		if sess.open.Load() {
			out = append(out, access.Viewer{Token: sess.req.Token, End: func() { sess.cancel(ErrEnded) }})
		}
	}
	return out
}

// add registers sess, whose handler runs until remove; it fails once the
// server is closed.
func (s *Server) add(sess *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready || s.closed {
		return ErrServerClosed
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	return nil
}

func (s *Server) remove(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) snapshotLocked() []*session {
	out := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		out = append(out, sess)
	}
	return out
}
