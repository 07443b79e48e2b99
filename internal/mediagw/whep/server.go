package whep

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/snapshot"
)

// Defaults of the Server configuration.
const (
	DefaultICEUDPAddress  = ":8189"
	DefaultSessionTimeout = 10 * time.Second
)

// MaxBodyBytes bounds the body of a POST or PATCH; offers are a few KiB.
const MaxBodyBytes = 64 << 10

// routePrefix is where the gateway mounts the handler.
const routePrefix = "/whep/"

// sessionsElem separates the stream path from the session ID in a session
// URL: /whep/<path>/sessions/<id>.
const sessionsElem = "/sessions/"

// Content types of WHEP.
const (
	contentTypeSDP     = "application/sdp"
	contentTypeSDPFrag = "application/trickle-ice-sdpfrag"
)

// ICE timeouts: a player silent for iceDisconnectedTimeout is disconnected,
// and its session ends iceFailedTimeout later unless it comes back.
const (
	iceDisconnectedTimeout = 5 * time.Second
	iceFailedTimeout       = 10 * time.Second
	iceKeepalive           = 2 * time.Second
)

// deleteWait bounds how long DELETE waits for the session's cleanup.
const deleteWait = 5 * time.Second

// Server serves WHEP sessions for the streams of a Source.
//
// Fill the exported fields, call Initialize, mount it (ServeHTTP) at
// "/whep/", and Close when done.
type Server struct {
	// Source gives the streams; token check, on-demand start and transcode
	// selection happen there.
	Source access.Source
	// ICEUDPAddress is the one UDP address all ICE traffic of all sessions
	// uses; DefaultICEUDPAddress if empty. Port 0 picks a free port (tests).
	ICEUDPAddress string
	// ICEHosts are the IP addresses advertised as host candidates, replacing
	// the local ones (1:1 NAT, containers); empty advertises the addresses of
	// ICEUDPAddress (every local address when it is unspecified).
	ICEHosts []string
	// SessionTimeout bounds the time from the answer to an established
	// connection; DefaultSessionTimeout if zero.
	SessionTimeout time.Duration
	// Log receives one line per session event and per failed request; nil
	// discards.
	Log *slog.Logger

	conn     net.PacketConn
	mux      ice.UDPMux
	settings webrtc.SettingEngine

	mu       sync.Mutex
	sessions map[string]*session
	ready    bool
	closed   bool
	wg       sync.WaitGroup
}

// Initialize checks the configuration, opens the ICE UDP port and readies
// the server.
func (s *Server) Initialize() error {
	if s.Source == nil {
		return errors.New("initialize whep server: no Source")
	}
	if s.ICEUDPAddress == "" {
		s.ICEUDPAddress = DefaultICEUDPAddress
	}
	if s.SessionTimeout == 0 {
		s.SessionTimeout = DefaultSessionTimeout
	}
	if s.SessionTimeout < 0 {
		return fmt.Errorf("initialize whep server: negative session timeout %v", s.SessionTimeout)
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	for _, h := range s.ICEHosts {
		if net.ParseIP(h) == nil {
			return fmt.Errorf("initialize whep server: ICE host %q is not an IP address", h)
		}
	}
	conn, err := net.ListenPacket("udp", s.ICEUDPAddress)
	if err != nil {
		return fmt.Errorf("initialize whep server: listen ICE UDP %s: %w", s.ICEUDPAddress, err)
	}
	s.conn = conn
	s.mux = webrtc.NewICEUDPMux(nil, conn)

	se := webrtc.SettingEngine{}
	se.SetICEUDPMux(s.mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// No mDNS: it would open a multicast socket per session, and the
	// players' .local candidates are not needed, their checks reach the
	// server's host candidate and make peer-reflexive ones.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, iceKeepalive)
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.IsLoopback() {
		// Listening on loopback only: its address is the only candidate.
		se.SetIncludeLoopbackCandidate(true)
	}
	if len(s.ICEHosts) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        s.ICEHosts,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			s.mux.Close()
			return fmt.Errorf("initialize whep server: ICE hosts %v: %w", s.ICEHosts, err)
		}
	}
	s.settings = se

	s.mu.Lock()
	s.sessions = make(map[string]*session)
	s.ready = true
	s.mu.Unlock()
	s.Log.Info("whep server ready", "ice_udp", conn.LocalAddr().String(), "ice_hosts", s.ICEHosts)
	return nil
}

// ICEAddr returns the address of the ICE UDP port (useful with port 0).
func (s *Server) ICEAddr() net.Addr {
	if s.conn == nil {
		return nil
	}
	return s.conn.LocalAddr()
}

// Close ends every session and closes the ICE UDP port. Requests after
// Close get 503.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed || !s.ready {
		s.closed = true
		s.mu.Unlock()
		return
	}
	s.closed = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.cancel(ErrServerClosed)
	}
	s.wg.Wait()
	if err := s.mux.Close(); err != nil {
		s.Log.Debug("close ICE UDP mux", "error", err)
	}
	s.Log.Info("whep server closed")
}

// Sessions returns a snapshot of every session, oldest first.
func (s *Server) Sessions() []SessionStats {
	sessions := snapshot.Values(&s.mu, s.sessions)
	out := make([]SessionStats, 0, len(sessions))
	for _, sess := range sessions {
		out = append(out, sess.stats())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// add registers and starts sess; it fails once the server is closed.
func (s *Server) add(sess *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	s.sessions[sess.id] = sess
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sess.run(s.SessionTimeout)
	}()
	return nil
}

func (s *Server) remove(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
}

// lookup returns the session id of stream path.
func (s *Server) lookup(path, id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || sess.path != path {
		return nil, fmt.Errorf("%w: %s", ErrSessionNotFound, id)
	}
	return sess, nil
}

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

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
