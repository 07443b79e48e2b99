package vod

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// Defaults of Server.
const (
	// DefaultTimeout bounds the index and store reads of one playlist.
	DefaultTimeout = 10 * time.Second
	// RevocationInterval is how long a user's token, found not revoked,
	// is trusted for segment fetches before the console is asked again
	// (mediagw's audit.revocation_interval at most).
	RevocationInterval = 5 * time.Second
)

// maxViewers bounds the remembered revocation answers; past it the
// stale ones are dropped.
const maxViewers = 4096

// Index is what the server reads of the recordings index
// (recordingdb.DB).
type Index interface {
	PlaybackSegments(ctx context.Context, channel string, start, end time.Time) ([]recordingdb.Segment, error)
	ChannelSegment(ctx context.Context, channel string, id int64) (recordingdb.Segment, error)
	NodeURLs(ctx context.Context) (map[string]string, error)
}

// Auditor stores a viewer's playlist request in the console's audit log and
// answers which users' tokens are revoked (AuditClient).
type Auditor interface {
	// MediaOpen returns nil once the row is stored, an error wrapping
	// auditapi.ErrRevoked for a revoked user's token.
	MediaOpen(ctx context.Context, m auditapi.MediaOpen) error
	// CheckViewers returns the viewers whose tokens are revoked.
	CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error)
}

// Transcoder makes the H.264 version of H.265 segments
// (vodtranscode.Transcoder).
type Transcoder interface {
	Init(ctx context.Context, key string, final bool, open vodtranscode.Opener) ([]byte, error)
	Part(ctx context.Context, key string, final bool, rg vodtranscode.Range, open vodtranscode.Opener) ([]byte, error)
	Warm(key string, rg vodtranscode.Range, open vodtranscode.Opener)
}

// Server serves a node's recordings as HLS VOD (see the package doc). It
// has no goroutine of its own: every request is served on its own.
type Server struct {
	// Node names this recorder node (recordings.node of what it writes).
	Node string
	// Store is the node's object store under its index name
	// ("dir://<node>" or "s3://<bucket>/<prefix>").
	Store objstore.Store
	// Index reads the segments.
	Index Index
	// Signer checks play tokens (the secret mediagw and the console
	// share); nil answers every request 503 vod_unconfigured.
	Signer *playtoken.Signer
	// Auditor audits playlists and checks revocations; required with a
	// Signer.
	Auditor Auditor
	// Transcoder makes the H.264 version of H.265 segments for
	// video=h264 playlists; nil refuses those playlists when they hold
	// H.265 (503 transcode_unavailable).
	Transcoder Transcoder
	// Timeout bounds the index and store reads of one request; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of token expiry; nil means time.Now.
	Now func() time.Time
	// Log receives refusals and failures.
	Log *slog.Logger

	mu sync.Mutex
	// checked holds when a user's token was last found not revoked;
	// revoked the tokens found revoked.
	checked map[auditapi.Viewer]time.Time
	revoked map[auditapi.Viewer]time.Time

	layouts layouts
}

// Initialize checks the configuration.
func (s *Server) Initialize() error {
	switch {
	case s.Node == "" || s.Store == nil || s.Index == nil:
		return fmt.Errorf("%w: Node, Store and Index are required", ErrInvalid)
	case s.Signer != nil && s.Auditor == nil:
		return fmt.Errorf("%w: an Auditor is required to serve viewers", ErrInvalid)
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.checked = map[auditapi.Viewer]time.Time{}
	s.revoked = map[auditapi.Viewer]time.Time{}
	return nil
}

// Close implements the component shape; the server holds nothing that
// outlives a request.
func (s *Server) Close() {}

// ServeHTTP serves GET and HEAD under Prefix (mount it at "/vod/").
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Browsers play from the console's origin and draw frames on a canvas
	// (snapshots): tokens travel in the query, not cookies, so any origin
	// may read the answers.
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Range")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
		return
	}
	if strings.HasPrefix(r.UserAgent(), "Lavf/") {
		// FFmpeg (5.1 at least) reusing a connection for an entry without
		// a byte range sends the previous entry's range end again and
		// waits forever for bytes that never come: one request per
		// connection for it.
		h.Set("Connection", "close")
	}
	req, err := parseRequest(r.URL.Path, r.URL.Query())
	if err == nil {
		err = s.serve(w, r, req)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, req request) error {
	if s.Signer == nil {
		return ErrUnconfigured
	}
	claims, err := s.authorize(req)
	if err != nil {
		return err
	}
	if req.File == filePlaylist {
		return s.servePlaylist(w, r, req, claims)
	}
	if err := s.checkRevoked(r.Context(), claims); err != nil {
		return err
	}
	if req.File == fileH264Init || req.File == fileH264Seg {
		return s.serveH264(w, r, req)
	}
	return s.serveMedia(w, r, req)
}

// authorize checks the request's play token for its recording path.
func (s *Server) authorize(req request) (playtoken.Claims, error) {
	if req.Token == "" {
		return playtoken.Claims{}, fmt.Errorf("%w: no token", ErrUnauthorized)
	}
	c, err := s.Signer.Verify(req.Token, req.Path, s.Now())
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, playtoken.ErrPath), errors.Is(err, playtoken.ErrRight):
		return c, fmt.Errorf("%w: %w", ErrForbidden, err)
	default:
		return c, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
}

// viewer names a user's token for revocation; ok is false for tokens the
// console does not revoke (services').
func viewer(c playtoken.Claims) (auditapi.Viewer, bool) {
	if !c.Revocable() || c.IssuedAt == 0 {
		return auditapi.Viewer{}, false
	}
	return auditapi.Viewer{User: c.Subject, IssuedAt: time.Unix(c.IssuedAt, 0).UTC()}, true
}

// audit stores the playlist request in the console's audit log; a revoked
// user's token is refused there. An audit that cannot be stored refuses
// the request: every video access is audited.
func (s *Server) audit(ctx context.Context, r *http.Request, req request, c playtoken.Claims) error {
	m := auditapi.MediaOpen{
		At: s.Now(), User: c.Subject, Path: req.Path, Protocol: auditapi.ProtocolHLS, Remote: r.RemoteAddr, Node: s.Node,
	}
	v, revocable := viewer(c)
	if revocable {
		m.IssuedAt = v.IssuedAt
	}
	if err := s.Auditor.MediaOpen(ctx, m); err != nil {
		if errors.Is(err, auditapi.ErrRevoked) {
			s.remember(v, true, c)
			return fmt.Errorf("%w: %w", ErrRevoked, err)
		}
		return fmt.Errorf("%w: audit: %w", ErrUnavailable, err)
	}
	if revocable {
		s.remember(v, false, c)
	}
	return nil
}

// checkRevoked refuses a revoked user's token on segment fetches. The
// console is asked at most every RevocationInterval per token; a console
// that does not answer cuts nobody (as mediagw's revocation watch), the
// failure is logged.
func (s *Server) checkRevoked(ctx context.Context, c playtoken.Claims) error {
	v, ok := viewer(c)
	if !ok {
		return nil
	}
	now := s.Now()
	s.mu.Lock()
	_, revoked := s.revoked[v]
	at, seen := s.checked[v]
	s.mu.Unlock()
	if revoked {
		return fmt.Errorf("%w: %s", ErrRevoked, v.User)
	}
	if seen && now.Sub(at) < RevocationInterval && !now.Before(at) {
		return nil
	}
	got, err := s.Auditor.CheckViewers(ctx, []auditapi.Viewer{v})
	if err != nil {
		s.Log.Warn("vod: revocation check failed; the viewer plays on", "user", v.User, "error", err)
		return nil
	}
	s.remember(v, len(got) > 0, c)
	if len(got) > 0 {
		return fmt.Errorf("%w: %s", ErrRevoked, v.User)
	}
	return nil
}

// remember keeps a revocation answer, dropping stale ones when there are
// many (a revoked token is kept until it expires anyway).
func (s *Server) remember(v auditapi.Viewer, revoked bool, c playtoken.Claims) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.checked)+len(s.revoked) >= maxViewers {
		for k, at := range s.checked {
			if now.Sub(at) >= RevocationInterval {
				delete(s.checked, k)
			}
		}
		for k, exp := range s.revoked {
			if now.After(exp) {
				delete(s.revoked, k)
			}
		}
	}
	if revoked {
		s.revoked[v] = time.Unix(c.Expires, 0).Add(time.Minute)
		delete(s.checked, v)
		return
	}
	s.checked[v] = now
}

// fail answers err as JSON {"code","message"} with its status, and logs
// it: refusals at info, failures at warn.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The player left (a seek while a stretch was transcoded): no one
		// reads the answer, and nothing failed.
		s.Log.Debug("vod request abandoned", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
		return
	}
	status, code := statusOf(err)
	if status >= 500 {
		s.Log.Warn("vod request failed", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
	} else {
		s.Log.Info("vod request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "status", status, "error", err)
	}
	writeError(w, status, code, err.Error())
}

// statusOf maps an error to its HTTP status and code.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, vodtranscode.ErrNotH265), errors.Is(err, vodtranscode.ErrTooLong):
		return http.StatusBadRequest, "bad_request"
	case errors.Is(err, ErrNoTranscoder):
		return http.StatusServiceUnavailable, "transcode_unavailable"
	case errors.Is(err, vodtranscode.ErrBusy):
		return http.StatusServiceUnavailable, "busy"
	case errors.Is(err, vodtranscode.ErrFFmpeg), errors.Is(err, vodtranscode.ErrSegment):
		return http.StatusBadGateway, "transcode_failed"
	case errors.Is(err, vodtranscode.ErrNoVideo):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, vodtranscode.ErrClosed), errors.Is(err, vodtranscode.ErrRead):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, ErrNoRecordings):
		return http.StatusNotFound, "no_recordings"
	case errors.Is(err, ErrNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, objstore.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrRevoked):
		return http.StatusForbidden, auditapi.CodeRevoked
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrUnconfigured):
		return http.StatusServiceUnavailable, "vod_unconfigured"
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// apiError is the JSON body of an error answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Del("Content-Range")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Code: code, Message: strings.TrimPrefix(message, "vod: ")})
}
