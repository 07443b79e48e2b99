package whep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
)

// ServeHTTP serves POST and OPTIONS on /whep/<path> and PATCH, DELETE and
// OPTIONS on the session URLs /whep/<path>/sessions/<id>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "OPTIONS, POST, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Post, Accept-Patch")

	s.mu.Lock()
	up := s.ready && !s.closed
	s.mu.Unlock()
	if !up {
		s.fail(w, r, ErrServerClosed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, routePrefix)
	if !ok {
		s.fail(w, r, fmt.Errorf("%w: %s is not under %s", ErrBadPath, r.URL.Path, routePrefix))
		return
	}
	if i := strings.LastIndex(rest, sessionsElem); i >= 0 {
		streamPath, id := rest[:i], rest[i+len(sessionsElem):]
		switch r.Method {
		case http.MethodOptions:
			h.Set("Accept-Patch", contentTypeSDPFrag)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPatch:
			s.patch(w, r, streamPath, id)
		case http.MethodDelete:
			s.delete(w, r, streamPath, id)
		default:
			h.Set("Allow", "OPTIONS, PATCH, DELETE")
			s.fail(w, r, fmt.Errorf("%w: %s on a session", ErrMethodNotAllowed, r.Method))
		}
		return
	}
	if err := streampath.Valid(rest); err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", ErrBadPath, err))
		return
	}
	switch r.Method {
	case http.MethodOptions:
		h.Set("Accept-Post", contentTypeSDP)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		s.post(w, r, rest)
	default:
		h.Set("Allow", "OPTIONS, POST")
		s.fail(w, r, fmt.Errorf("%w: %s on a stream", ErrMethodNotAllowed, r.Method))
	}
}

// post creates a session: offer in, answer out.
func (s *Server) post(w http.ResponseWriter, r *http.Request, streamPath string) {
	req := access.Request{
		Path:     streamPath,
		Token:    requestToken(r),
		Protocol: access.ProtocolWHEP,
		Remote:   r.RemoteAddr,
		H264Only: true,
	}
	// Who may play is settled before the body is even read.
	if err := s.Source.Authorize(req); err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(w, r, contentTypeSDP)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := parseOffer(string(body))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reader, err := s.Source.Read(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess, answer, err := s.newSession(r.Context(), req, o, reader)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The media open is audited before the answer: without its audit row
	// the viewer gets no session.
	if err := s.Source.Opened(r.Context(), req); err != nil {
		sess.cancel(err)
		sess.close()
		s.fail(w, r, err)
		return
	}
	if err := s.add(sess); err != nil {
		sess.cancel(err)
		sess.close()
		s.fail(w, r, err)
		return
	}
	sess.log.Info("session created", "video", sess.video.String(), "audio", sess.audio.String())
	h := w.Header()
	h.Set("Content-Type", contentTypeSDP)
	h.Set("Location", (&url.URL{Path: routePrefix + streamPath + sessionsElem + sess.id}).EscapedPath())
	h.Set("ETag", sess.etag)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// patch adds trickled remote candidates to a session.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, streamPath, id string) {
	sess, err := s.lookup(streamPath, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(w, r, contentTypeSDPFrag)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	frag, err := parseSDPFrag(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// An ICE restart comes with new credentials (and If-Match: *).
	if frag.Ufrag != "" && frag.Ufrag != sess.ufrag {
		s.fail(w, r, ErrICERestart)
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != sess.etag {
		s.fail(w, r, fmt.Errorf("%w: If-Match %s", ErrPreconditionFailed, m))
		return
	}
	for _, c := range frag.Candidates {
		init := webrtc.ICECandidateInit{Candidate: c.Candidate}
		if c.Mid != "" {
			init.SDPMid = &c.Mid
		}
		if c.MLineIndex >= 0 && c.MLineIndex <= 0xFFFF {
			idx := uint16(c.MLineIndex)
			init.SDPMLineIndex = &idx
		}
		if err := sess.pc.AddICECandidate(init); err != nil {
			s.fail(w, r, fmt.Errorf("%w: %.80q: %w", ErrBadSDPFrag, c.Candidate, err))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// delete ends a session and waits until its reader is closed.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, streamPath, id string) {
	sess, err := s.lookup(streamPath, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess.cancel(ErrDeleted)
	select {
	case <-sess.done:
	case <-time.After(deleteWait):
		sess.log.Warn("session cleanup slow after DELETE")
	case <-r.Context().Done():
	}
	w.WriteHeader(http.StatusOK)
}

// readBody checks the content type and reads a body of at most
// MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request, contentType string) ([]byte, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(ct, contentType) {
		return nil, fmt.Errorf("%w: %q, want %s", ErrUnsupportedMediaType, r.Header.Get("Content-Type"), contentType)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, MaxBodyBytes)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// requestToken returns the play token: ?token=, else a bearer token (the
// WHIP/WHEP way of authenticating).
func requestToken(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(a)
	}
	return ""
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fail answers a request with err's status and a JSON body, and logs it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := httpStatus(err)
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelWarn
	}
	s.Log.Log(r.Context(), level, "whep request failed", "method", r.Method, "url", r.URL.Path,
		"remote", r.RemoteAddr, "status", status, "error", err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="whep"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Code: code, Message: err.Error()})
}
