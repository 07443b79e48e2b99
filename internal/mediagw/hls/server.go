package hls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

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

// viewerKey identifies an HLS viewer session (see Server).
type viewerKey struct {
	token, ip, path string
}

// viewer is one HLS viewer session.
type viewer struct {
	// opened is closed when the audit of the session's start is done; err
	// is its outcome.
	opened chan struct{}
	err    error
	// last is when the viewer's last request came; guarded by Server.mu.
	last time.Time
	// joined counts the requests that came while the audit ran and wait
	// for its outcome; guarded by Server.mu (tests read it).
	joined int
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

// ServeHTTP serves GET /hls/<path>/<file>?token=...: the multivariant
// playlist index.m3u8 and every file the path's muxer serves. It is mounted
// by the gateway at "/hls/" (without StripPrefix).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The browser console runs on another origin; tokens travel in the
	// query, not in cookies, so any origin may read the answers.
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	path, file, ok := splitPath(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	req := access.Request{
		Path:     path,
		Token:    r.URL.Query().Get("token"),
		Protocol: access.ProtocolHLS,
		Remote:   r.RemoteAddr,
		H264Only: true,
	}
	if err := s.Source.Authorize(req); err != nil {
		s.writeErr(w, r, path, fmt.Errorf("authorize %s: %w", path, err))
		return
	}

	deadline := time.NewTimer(requestWait)
	defer deadline.Stop()
	contentDeadline := time.NewTimer(contentWait)
	defer contentDeadline.Stop()

	// Only playlists start a muxer: segment names carry the random prefix
	// of the muxer that made them, so a new muxer would not have them.
	// Media playlists do, for a player whose muxer was closed under it.
	m, err := s.acquire(path, req, file == "index.m3u8" || strings.HasSuffix(file, "_stream.m3u8"))
	if err != nil {
		s.writeErr(w, r, path, err)
		return
	}
	if m == nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	defer s.release(m)

	select {
	case <-m.ready:
	case <-deadline.C:
		s.writeErr(w, r, path, fmt.Errorf("muxer of %s not started: %w", path, ErrTimeout))
		return
	case <-r.Context().Done():
		return
	}
	if m.hm == nil { // failed to start
		<-m.done
		s.writeErr(w, r, path, m.err)
		return
	}
	// The stream plays: this request's viewer gets media now, so this is
	// where its session starts (and is audited).
	if err := s.admit(r.Context(), req); err != nil {
		s.writeErr(w, r, path, fmt.Errorf("open %s: %w", path, err))
		return
	}
	if strings.HasSuffix(file, ".m3u8") {
		// gohlslib answers as soon as one segment exists, but Chromium's
		// native player fails on a live playlist of fewer than three.
		// Past contentWait, gohlslib's own wait takes over, for players
		// that are content with less (hls.js, Safari) and long GOPs.
		select {
		case <-m.content:
		case <-contentDeadline.C:
		case <-m.done:
		case <-r.Context().Done():
			return
		}
	}
	s.serveMuxer(w, r, m, file, deadline.C)
}

// admit starts the viewer session of req, auditing it with Source.Opened,
// or finds the running one. Concurrent first requests of one viewer share
// one audit; a failed audit starts no session (the next request tries
// again).
func (s *Server) admit(ctx context.Context, req access.Request) error {
	key := viewerKey{token: req.Token, ip: hostOf(req.Remote), path: req.Path}
	now := s.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	v := s.viewers[key]
	if v != nil && isClosed(v.opened) && now.Sub(v.last) >= s.IdleTimeout {
		v = nil // the session ended: this request starts a new one
	}
	if v != nil {
		v.last = now
		if !isClosed(v.opened) {
			v.joined++
		}
		s.mu.Unlock()
		select {
		case <-v.opened:
			return v.err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", access.ErrUnavailable, ctx.Err())
		}
	}
	s.sweepViewersLocked(now)
	v = &viewer{opened: make(chan struct{}), last: now}
	s.viewers[key] = v
	s.mu.Unlock()

	// The audit is the session's, not this request's: a player that drops
	// its first request must not fail the requests waiting on the audit.
	err := s.Source.Opened(context.WithoutCancel(ctx), req)
	s.mu.Lock()
	v.err = err
	if err != nil && s.viewers[key] == v {
		delete(s.viewers, key)
	}
	close(v.opened)
	s.mu.Unlock()
	return err
}

// sweepViewersLocked forgets the sessions that ended.
func (s *Server) sweepViewersLocked(now time.Time) {
	for k, v := range s.viewers {
		if isClosed(v.opened) && now.Sub(v.last) >= s.IdleTimeout {
			delete(s.viewers, k)
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// hostOf returns the IP of an ip:port remote address (the port changes
// with every connection of one player).
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// serveMuxer passes the request to gohlslib. Its handlers may block without
// regard to the request's context (waiting for the first segment, for a
// part of an LL-HLS blocking reload, for a preload-hinted part), so they run
// in their own goroutine: the request gives up at the deadline or when the
// client leaves, and a handler that unblocks later writes nowhere. gohlslib
// wakes every blocked handler when its muxer closes, so none outlives it.
func (s *Server) serveMuxer(w http.ResponseWriter, r *http.Request, m *muxer, file string, deadline <-chan time.Time) {
	r = muxerRequest(r)
	if strings.HasSuffix(file, ".m3u8") {
		s.servePlaylist(w, r, m, file, deadline)
		return
	}
	g := &gate{w: w, header: make(http.Header)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.hm.Handle(g, r)
	}()
	select {
	case <-done:
	case <-deadline:
		if g.abandon() {
			s.writeErr(w, r, m.path, fmt.Errorf("%s/%s: %w", m.path, file, ErrTimeout))
			return
		}
		<-done // the handler is already writing the answer
	case <-r.Context().Done():
		if g.abandon() {
			return
		}
		<-done
	}
	if !g.started {
		// gohlslib writes nothing for a file it does not have.
		writeError(w, http.StatusNotFound, "not found")
	}
}

// servePlaylist answers a playlist request. Playlists are small, so the
// handler writes into a buffer the request copies out when it is complete:
// a request that gives up simply leaves the buffer behind.
func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, m *muxer, file string, deadline <-chan time.Time) {
	b := &bufferWriter{header: make(http.Header)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.hm.Handle(b, r)
	}()
	select {
	case <-done:
	case <-deadline:
		s.writeErr(w, r, m.path, fmt.Errorf("%s/%s: %w", m.path, file, ErrTimeout))
		return
	case <-r.Context().Done():
		return
	}
	if b.code == 0 {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	body := b.body.Bytes()
	if b.code == http.StatusOK && file != "index.m3u8" && s.variant == gohlslib.MuxerVariantLowLatency &&
		!strings.Contains(r.UserAgent(), "AppleCoreMedia") {
		if nb, err := dropGaps(body); err == nil {
			body = nb
		} else {
			s.Log.Debug("hls: playlist kept with its gaps", "path", m.path, "error", err)
		}
	}
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.code != http.StatusOK {
		h.Set("Cache-Control", "no-store")
	} else if file == "index.m3u8" {
		// gohlslib lets the multivariant playlist be cached for 30 s; a
		// cached one would outlive a muxer whose tracks changed.
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(b.code)
	_, _ = w.Write(body) // the client may have left; nothing to do then
}

// dropGaps removes the EXT-X-GAP segments gohlslib puts at the start of a
// young LL-HLS media playlist (for iOS, it says). Chromium's native player
// fetches gap.mp4 like any segment and fails on it. The gaps always lead the
// list and take the media sequence numbers below the first real segment, so
// removing them moves EXT-X-MEDIA-SEQUENCE up by their number and leaves
// every real segment's number, hence _HLS_msn, unchanged. In a delta update
// the gaps hidden by EXT-X-SKIP are those of the full list
// (initialGaps - MEDIA-SEQUENCE) that are not shown.
func dropGaps(b []byte) ([]byte, error) {
	var pl playlist.Media
	if err := pl.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("parse media playlist: %w", err)
	}
	shown := 0
	for _, seg := range pl.Segments {
		if seg.Gap {
			shown++
		}
	}
	total := shown
	if pl.Skip != nil {
		// The skipped segments are the oldest, so gaps go first.
		total = max(initialGaps-pl.MediaSequence, shown)
		hidden := min(total-shown, pl.Skip.SkippedSegments)
		total = shown + hidden
		pl.Skip.SkippedSegments -= hidden
	}
	if total == 0 {
		return b, nil
	}
	segs := make([]*playlist.MediaSegment, 0, len(pl.Segments)-shown)
	for _, seg := range pl.Segments {
		if !seg.Gap {
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("only gaps")
	}
	pl.Segments = segs
	pl.MediaSequence += total
	out, err := pl.Marshal()
	if err != nil {
		return nil, fmt.Errorf("write media playlist: %w", err)
	}
	// The parser accepts URIs the writer cannot quote; never hand out a
	// playlist that does not read back.
	var check playlist.Media
	if err := check.Unmarshal(out); err != nil {
		return nil, fmt.Errorf("rewritten media playlist: %w", err)
	}
	return out, nil
}

// initialGaps is the number of gap segments a gohlslib LL-HLS muxer starts
// with (gohlslib 2.4.5, muxer_stream.go).
const initialGaps = 7

// bufferWriter collects a handler's answer.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// muxerRequest returns a shallow copy of r whose query keeps only the token
// and the LL-HLS parameters, re-encoded: gohlslib copies the query into
// every URL of its playlists, and nothing else of the viewer's should end up
// there.
func muxerRequest(r *http.Request) *http.Request {
	in := r.URL.Query()
	out := make(url.Values, 4)
	for _, k := range []string{"token", "_HLS_msn", "_HLS_part", "_HLS_skip"} {
		if v, ok := in[k]; ok && len(v) > 0 {
			out[k] = v[:1]
		}
	}
	u := *r.URL
	u.RawQuery = out.Encode()
	r2 := *r
	r2.URL = &u
	return &r2
}

// gate is the ResponseWriter given to a gohlslib handler: it forwards to the
// request's writer until the request abandons it.
type gate struct {
	w      http.ResponseWriter
	header http.Header // the handler's own, copied at WriteHeader

	mu        sync.Mutex
	started   bool
	abandoned bool
}

func (g *gate) Header() http.Header { return g.header }

func (g *gate) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeaderLocked(code)
}

func (g *gate) writeHeaderLocked(code int) {
	if g.abandoned || g.started {
		return
	}
	g.started = true
	h := g.w.Header()
	for k, v := range g.header {
		h[k] = v
	}
	if code != http.StatusOK || h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	g.w.WriteHeader(code)
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return 0, errAbandoned
	}
	g.writeHeaderLocked(http.StatusOK)
	return g.w.Write(p)
}

// abandon stops forwarding if the handler has not started its answer and
// reports whether it did.
func (g *gate) abandon() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return false
	}
	g.abandoned = true
	return true
}

var errAbandoned = errors.New("hls: request abandoned")

// splitPath splits the URL path /hls/<path>/<file> into the stream path and
// the file name. The stream path may contain slashes but no empty, "." or
// ".." elements; the file is one non-empty element.
func splitPath(p string) (path, file string, ok bool) {
	rest, ok := strings.CutPrefix(p, mountPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	path, file = rest[:i], rest[i+1:]
	if file == "." || file == ".." {
		return "", "", false
	}
	for _, e := range strings.Split(path, "/") {
		if e == "" || e == "." || e == ".." {
			return "", "", false
		}
	}
	return path, file, true
}

// statusOf maps an error to its HTTP status: the Source's refusals keep
// their meaning, everything else means "not now" (start failed, no content
// in time, stream ended, shutting down) and the player may retry.
func statusOf(err error) int {
	switch {
	case errors.Is(err, access.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, access.ErrNotFound):
		return http.StatusNotFound
	default:
		return http.StatusServiceUnavailable
	}
}

// writeErr answers err; unexpected errors are logged (access refusals are
// the Source's business and too frequent to log here).
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, path string, err error) {
	code := statusOf(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
		s.Log.Debug("hls request failed", "path", path, "remote", r.RemoteAddr, "error", err)
	}
	writeError(w, code, http.StatusText(code))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
