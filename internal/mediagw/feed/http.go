package feed

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// ServeHTTP serves GET /feed/<path>?token=<play token>: the stream's units
// until it ends or the feed is cut (see the package documentation).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.fail(w, r, fmt.Errorf("%w: %s", ErrMethodNotAllowed, r.Method))
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, unitfeed.PathPrefix)
	if !ok {
		s.fail(w, r, fmt.Errorf("%w: %s is not under %s", ErrBadPath, r.URL.Path, unitfeed.PathPrefix))
		return
	}
	if err := streampath.Valid(path); err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", ErrBadPath, err))
		return
	}
	sess := newSession(s, r, access.Request{
		Path:     path,
		Token:    r.URL.Query().Get("token"),
		Protocol: access.ProtocolFeed,
		Remote:   r.RemoteAddr,
	})
	if err := s.add(sess); err != nil {
		s.fail(w, r, err)
		return
	}
	defer s.remove(sess)
	defer sess.cancel(nil)

	reader, err := s.Source.Read(sess.ctx, sess.req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer reader.Close()
	if err := sess.admit(reader); err != nil {
		s.fail(w, r, fmt.Errorf("open %s: %w", path, err))
		return
	}
	err = sess.serve(w, reader)
	sess.logEnd(err)
	if !errors.Is(err, ErrStreamEnded) {
		// Only the stream's end ends the body cleanly; the client must not
		// take any other end for it.
		panic(http.ErrAbortHandler)
	}
}

// fail answers a request with err's status and a JSON body (svcapi.Error:
// {"error","code"}), and logs it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := httpStatus(err)
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelWarn
	}
	s.Log.Log(r.Context(), level, "feed request refused", "method", r.Method, "url", r.URL.Path,
		"remote", r.RemoteAddr, "status", status, "error", err)
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="feed"`)
	}
	h.Set("Cache-Control", "no-store")
	svcapi.WriteJSON(w, status, svcapi.Error{Error: err.Error(), Code: code})
}
