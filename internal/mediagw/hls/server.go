package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/snapshot"
)

// Defaults of the Server configuration.
const (
	DefaultIdleTimeout        = 30 * time.Second
	DefaultSegmentCount       = 7
	DefaultSegmentMinDuration = time.Second
	DefaultPartMinDuration    = 200 * time.Millisecond
	DefaultVariant            = "lowLatency"
)

// requestWait bounds how long one request waits for content: the muxer's
// start (Source.Read, first keyframe) plus gohlslib's blocking (first
// segment, LL-HLS blocking playlist reload, preload hint). hls.js gives up
// on a playlist after 10 s, so waiting longer helps nobody.
const requestWait = 10 * time.Second

// contentWait bounds, within requestWait, the wait of a playlist request
// for playSegments complete segments.
const contentWait = 8 * time.Second

// playSegments is how many complete segments a playlist needs before
// Chromium's native HLS player starts a live stream (with fewer it fails
// with DEMUXER_ERROR_COULD_NOT_PARSE; hls.js and Safari start on one).
const playSegments = 3

// mountPrefix is where the gateway mounts the Server.
const mountPrefix = "/hls/"

// Server serves streams of a Source as LL-HLS (fMP4), one muxer per path
// created on the first request and closed when no request came for
// IdleTimeout.
//
// Every request (playlists, segments, parts, init) carries the viewer's
// play token as ?token= and is authorized by Source.Authorize; gohlslib
// copies the playlist request's query into every URL it writes, so players
// that resolve URLs relative to the playlist send the token back.
//
// HLS has no session of its own, so the Server keeps one per viewer for the
// audit: a viewer is the play token it presents (the console issues one per
// play), its IP address and the path. The first request of a viewer (in
// practice its first playlist request) that finds the stream playing
// starts its session and is audited with Source.Opened before it is
// answered; the session lasts while the viewer keeps requesting and ends
// IdleTimeout after its last request, so a viewer that comes back later is
// audited again.
type Server struct {
	// Source authorizes requests and gives the hub readers.
	Source access.Source
	// IdleTimeout closes a muxer, and its hub reader, after this long
	// without any request for its path. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// SegmentCount is the number of segments kept; 0 means
	// DefaultSegmentCount (LL-HLS needs at least 7, the others 3).
	SegmentCount int
	// SegmentMinDuration is the minimum segment duration (segments end on a
	// keyframe). 0 means DefaultSegmentMinDuration.
	SegmentMinDuration time.Duration
	// PartMinDuration is the minimum LL-HLS part duration. 0 means
	// DefaultPartMinDuration.
	PartMinDuration time.Duration
	// Variant is "lowLatency" (LL-HLS with fMP4 parts, the default), "fmp4"
	// (HLS with fMP4 segments) or "mpegts" (HLS with MPEG-TS segments,
	// H.264 only).
	Variant string
	// Log receives the muxer events; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock of the viewer sessions and of the muxers (their
	// idle timeout, the wall-clock time of their media); nil means
	// time.Now.
	Now func() time.Time

	variant gohlslib.MuxerVariant
	ctx     context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	closed  bool
	muxers  map[string]*muxer
	viewers map[viewerKey]*viewer
	wg      sync.WaitGroup
}

// Initialize applies defaults and checks the configuration.
func (s *Server) Initialize() error {
	if s.Source == nil {
		return fmt.Errorf("configuration: Source is nil: %w", ErrInvalidConfig)
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}
	if s.SegmentCount == 0 {
		s.SegmentCount = DefaultSegmentCount
	}
	if s.SegmentMinDuration == 0 {
		s.SegmentMinDuration = DefaultSegmentMinDuration
	}
	if s.PartMinDuration == 0 {
		s.PartMinDuration = DefaultPartMinDuration
	}
	if s.Variant == "" {
		s.Variant = DefaultVariant
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	minSegments := 3
	switch s.Variant {
	case "lowLatency":
		s.variant = gohlslib.MuxerVariantLowLatency
		minSegments = 7
	case "fmp4":
		s.variant = gohlslib.MuxerVariantFMP4
	case "mpegts":
		s.variant = gohlslib.MuxerVariantMPEGTS
	default:
		return fmt.Errorf("configuration: Variant %q (want lowLatency, fmp4 or mpegts): %w", s.Variant, ErrInvalidConfig)
	}
	switch {
	case s.IdleTimeout < 0:
		return fmt.Errorf("configuration: IdleTimeout %s: %w", s.IdleTimeout, ErrInvalidConfig)
	case s.SegmentCount < minSegments:
		return fmt.Errorf("configuration: SegmentCount %d (%s needs at least %d): %w", s.SegmentCount, s.Variant, minSegments, ErrInvalidConfig)
	case s.SegmentMinDuration < 0:
		return fmt.Errorf("configuration: SegmentMinDuration %s: %w", s.SegmentMinDuration, ErrInvalidConfig)
	case s.PartMinDuration < 0:
		return fmt.Errorf("configuration: PartMinDuration %s: %w", s.PartMinDuration, ErrInvalidConfig)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.muxers = make(map[string]*muxer)
	s.viewers = make(map[viewerKey]*viewer)
	if s.Now == nil {
		s.Now = time.Now
	}
	return nil
}

// Close closes every muxer and waits for them; later requests get 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.cancel != nil { // Initialize succeeded
		s.cancel()
	}
	s.wg.Wait()
}

// Muxers returns a snapshot of the live muxers, sorted by path.
func (s *Server) Muxers() []MuxerStats {
	ms := snapshot.Values(&s.mu, s.muxers)
	out := make([]MuxerStats, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.stats())
	}
	slices.SortFunc(out, func(a, b MuxerStats) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// acquire returns the live muxer of path, counting the request in it. When
// there is none and create is set it starts one for req; otherwise it
// returns nil. The caller calls release when done with the muxer.
func (s *Server) acquire(path string, req access.Request, create bool) (*muxer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	m, ok := s.muxers[path]
	if !ok || m.isDone() {
		if !create {
			return nil, nil
		}
		m = newMuxer(s, path, req, s.remove)
		s.muxers[path] = m
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			m.run()
		}()
	}
	// Counted under s.mu so that removeIfIdle cannot close a muxer that a
	// request has just found.
	m.inflight.Add(1)
	m.requests.Add(1)
	m.touch()
	return m, nil
}

func (s *Server) release(m *muxer) {
	m.touch()
	m.inflight.Add(-1)
}

// removeIfIdle forgets m and reports true when no request is in flight and
// none came for IdleTimeout; it also returns the last request's time.
func (s *Server) removeIfIdle(m *muxer) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := time.Unix(0, m.lastRequest.Load())
	if m.inflight.Load() > 0 || s.Now().Sub(last) < s.IdleTimeout {
		return last, false
	}
	if s.muxers[m.path] == m {
		delete(s.muxers, m.path)
	}
	return last, true
}

// remove forgets m unless a newer muxer took its path.
func (s *Server) remove(m *muxer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.muxers[m.path] == m {
		delete(s.muxers, m.path)
	}
}

// initialGaps is the number of gap segments a gohlslib LL-HLS muxer starts
// with (gohlslib 2.4.5, muxer_stream.go).
const initialGaps = 7

var errAbandoned = errors.New("hls: request abandoned")
