package hls

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
)

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
