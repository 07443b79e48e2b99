package rtsp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
)

// Defaults of the Server configuration.
const (
	DefaultAddress = ":8554"
	DefaultTimeout = 10 * time.Second
)

// writeQueueSize is the per-session packet queue of gortsplib: a 4K
// keyframe is several hundred packets, more than its default of 256.
const writeQueueSize = 1024

// Server serves the streams of a Source over RTSP, read only
// (DESCRIBE/SETUP/PLAY; ANNOUNCE/RECORD are refused), for video-wall
// decoders and third-party systems.
//
// Fill the exported fields, call Initialize, and Close when done.
type Server struct {
	// Source authorizes viewers and gives the hub readers.
	Source access.Source
	// Address is the RTSP (TCP) listen address; DefaultAddress if empty.
	Address string
	// UDPRTPAddress and UDPRTCPAddress are the server ports of the UDP
	// transport, an even port and the next one (":8000", ":8001"). Both
	// empty serve TCP interleaved only.
	UDPRTPAddress  string
	UDPRTCPAddress string
	// ReadTimeout bounds waiting for a stream to be ready and for a
	// keyframe; WriteTimeout bounds writes to a client. Both default to
	// DefaultTimeout.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Log receives one line per stream, session and refused request; nil
	// discards.
	Log *slog.Logger

	srv    *gortsplib.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// playWait bounds how long a PLAY waits for the next keyframe;
	// describeHold is how long a DESCRIBE keeps a stream open for the SETUP
	// that should follow.
	playWait     time.Duration
	describeHold time.Duration

	mu         sync.Mutex
	closed     bool
	streams    map[string]*stream
	sessions   map[*gortsplib.ServerSession]*session
	activating map[*gortsplib.ServerConn]*playWaiter
	nextID     uint64
	holdGen    uint64
}

// session is what the server knows of one RTSP session.
type session struct {
	id   string
	path string
	// req is the SETUP's request (token, remote): the audit of the PLAY.
	req       access.Request
	remote    string
	transport string
	since     time.Time
	stream    *stream
	playing   bool // guarded by Server.mu

	writeErrors atomic.Uint64
}

// SessionStats is a snapshot of one RTSP session.
type SessionStats struct {
	// ID identifies the session in logs.
	ID string
	// Path is the stream path the session reads.
	Path string
	// Remote is the client's address.
	Remote string
	// Transport is "TCP" or "UDP".
	Transport string
	// Since is when the session was set up.
	Since time.Time
	// Playing is true once PLAY was answered.
	Playing bool
	// Reader is the name of the hub reader the path's sessions share, and
	// PathSessions the number of sessions sharing it.
	Reader       string
	PathSessions int
	// BytesSent, RTPPacketsSent and RTPPacketsReportedLost come from
	// gortsplib; WriteErrors counts packets dropped because the session's
	// queue was full.
	BytesSent              uint64
	RTPPacketsSent         uint64
	RTPPacketsReportedLost uint64
	WriteErrors            uint64
}

// Initialize applies defaults and starts listening.
func (s *Server) Initialize() error {
	if s.Source == nil {
		return errors.New("initialize rtsp server: no Source")
	}
	if s.Address == "" {
		s.Address = DefaultAddress
	}
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = DefaultTimeout
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = DefaultTimeout
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	// Half the read timeout keeps a client's own response timeout (often
	// the same 10 s) from firing while PLAY waits for a keyframe.
	s.playWait = s.ReadTimeout / 2
	s.describeHold = s.ReadTimeout
	s.streams = make(map[string]*stream)
	s.sessions = make(map[*gortsplib.ServerSession]*session)
	s.activating = make(map[*gortsplib.ServerConn]*playWaiter)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &gortsplib.Server{
		Handler:        &handler{s: s},
		RTSPAddress:    s.Address,
		UDPRTPAddress:  s.UDPRTPAddress,
		UDPRTCPAddress: s.UDPRTCPAddress,
		ReadTimeout:    s.ReadTimeout,
		WriteTimeout:   s.WriteTimeout,
		WriteQueueSize: writeQueueSize,
	}
	if err := s.srv.Start(); err != nil {
		s.cancel()
		return fmt.Errorf("start rtsp server on %s: %w", s.Address, err)
	}
	s.Log.Info("rtsp listening", "address", s.srv.NetListener().Addr().String(),
		"udp_rtp", s.UDPRTPAddress, "udp_rtcp", s.UDPRTCPAddress)
	return nil
}

// Close closes every session and stream and stops listening.
func (s *Server) Close() {
	// Cancelling first ends the waits of DESCRIBE and PLAY handlers, which
	// gortsplib's Close waits for.
	s.cancel()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
	s.Log.Info("rtsp server closed")
}

// Addr returns the address the RTSP listener is bound to (useful with
// port 0).
func (s *Server) Addr() net.Addr {
	return s.srv.NetListener().Addr()
}

// Viewers returns the RTSP sessions as viewers: ending one closes the
// session and its connection; the other sessions of its path play on.
func (s *Server) Viewers() []access.Viewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]access.Viewer, 0, len(s.sessions))
	for ss, sess := range s.sessions {
		out = append(out, access.Viewer{Token: sess.req.Token, End: ss.Close})
	}
	return out
}

// Sessions returns a snapshot of the RTSP sessions, sorted by ID.
func (s *Server) Sessions() []SessionStats {
	type entry struct {
		ss   *gortsplib.ServerSession
		sess *session
		st   SessionStats
	}
	s.mu.Lock()
	entries := make([]entry, 0, len(s.sessions))
	for ss, sess := range s.sessions {
		st := SessionStats{
			ID:           sess.id,
			Path:         sess.path,
			Remote:       sess.remote,
			Transport:    sess.transport,
			Since:        sess.since,
			Playing:      sess.playing,
			PathSessions: len(sess.stream.sessions),
			WriteErrors:  sess.writeErrors.Load(),
		}
		if sess.stream.reader != nil {
			st.Reader = sess.stream.reader.Name()
		}
		entries = append(entries, entry{ss: ss, sess: sess, st: st})
	}
	s.mu.Unlock()
	out := make([]SessionStats, 0, len(entries))
	for _, e := range entries {
		gs := e.ss.Stats()
		e.st.BytesSent = gs.OutboundBytes
		e.st.RTPPacketsSent = gs.OutboundRTPPackets
		e.st.RTPPacketsReportedLost = gs.OutboundRTPPacketsReportedLost
		out = append(out, e.st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// pathAndToken extracts the stream path (slashes allowed) and the play
// token from a request URL's path and query.
func pathAndToken(rawPath, query string) (path, token string) {
	path = strings.Trim(rawPath, "/")
	if q, err := url.ParseQuery(query); err == nil {
		token = q.Get("token")
	}
	return path, token
}

// statusOf maps a Source or setup error to an RTSP status.
func statusOf(err error) base.StatusCode {
	switch {
	case errors.Is(err, access.ErrUnauthorized):
		return base.StatusUnauthorized
	case errors.Is(err, access.ErrNotFound):
		return base.StatusNotFound
	default:
		return base.StatusServiceUnavailable
	}
}

// acquire returns the ready shared stream of req.Path, creating it if
// needed, and calls hold under s.mu while the stream is known to be open,
// so that the caller's claim on it cannot race its closing.
func (s *Server) acquire(req access.Request, hold func(*stream)) (*stream, error) {
	// A joiner whose creator failed (say, with its own bad token) retries
	// as a creator; a few attempts bound a flapping source.
	const attempts = 3
	var lastErr error
	for range attempts {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrServerClosed
		}
		st := s.streams[req.Path]
		if st == nil || st.closed {
			st = newStream(s, req.Path)
			s.streams[req.Path] = st
			s.mu.Unlock()
			if err := st.setup(req); err != nil {
				s.mu.Lock()
				s.dropLocked(st)
				s.mu.Unlock()
				st.close(err)
				return nil, err
			}
			s.mu.Lock()
			if s.closed || st.closed {
				s.dropLocked(st)
				s.mu.Unlock()
				st.close(ErrServerClosed)
				st.ss.Close()
				st.reader.Close()
				return nil, ErrServerClosed
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				st.run()
			}()
			hold(st)
			s.mu.Unlock()
			return st, nil
		}
		s.mu.Unlock()

		// The stream exists: only this viewer's token is left to check.
		if err := s.Source.Authorize(req); err != nil {
			return nil, err
		}
		timer := time.NewTimer(s.ReadTimeout)
		select {
		case <-st.ready:
			timer.Stop()
		case <-timer.C:
			return nil, fmt.Errorf("stream %s not ready: %w", req.Path, access.ErrUnavailable)
		case <-s.ctx.Done():
			timer.Stop()
			return nil, ErrServerClosed
		}
		if st.err != nil {
			lastErr = st.err
			continue
		}
		s.mu.Lock()
		if !st.closed {
			hold(st)
			s.mu.Unlock()
			return st, nil
		}
		s.mu.Unlock()
		lastErr = ErrStreamEnded
	}
	return nil, fmt.Errorf("stream %s: %w: %w", req.Path, access.ErrUnavailable, lastErr)
}

// dropLocked removes st from the path map and marks it closed.
func (s *Server) dropLocked(st *stream) {
	st.closed = true
	if s.streams[st.path] == st {
		delete(s.streams, st.path)
	}
}

// dropStream is called by a stream's writer when it ends.
func (s *Server) dropStream(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(st)
}

// releaseLocked closes st when nothing holds it any more: no session and
// no DESCRIBE waiting for its SETUP.
func (s *Server) releaseLocked(st *stream) {
	if st.closed || len(st.sessions) > 0 || len(st.pending) > 0 {
		return
	}
	s.dropLocked(st)
	st.close(errLastSession)
}

// holdForSetup keeps st open for the SETUP that should follow a DESCRIBE
// on conn, for at most describeHold.
func (s *Server) holdForSetup(st *stream, conn *gortsplib.ServerConn) {
	s.holdGen++
	gen := s.holdGen
	st.pending[conn] = gen
	time.AfterFunc(s.describeHold, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st.pending[conn] == gen {
			delete(st.pending, conn)
			s.releaseLocked(st)
		}
	})
}

func remoteOf(conn *gortsplib.ServerConn) string {
	if nc := conn.NetConn(); nc != nil {
		return nc.RemoteAddr().String()
	}
	return ""
}

// handler receives gortsplib's callbacks; it is apart from Server so that
// they do not become part of Server's API.
type handler struct {
	s *Server
}

// OnConnClose drops the DESCRIBE holds of a closed connection.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.activating, ctx.Conn)
	for _, st := range s.streams {
		if _, ok := st.pending[ctx.Conn]; ok {
			delete(st.pending, ctx.Conn)
			s.releaseLocked(st)
		}
	}
}

// OnRequest logs refused publishing attempts.
func (h *handler) OnRequest(conn *gortsplib.ServerConn, req *base.Request) {
	if req.Method == base.Announce || req.Method == base.Record {
		h.s.Log.Warn("rtsp publish refused", "method", string(req.Method), "remote", remoteOf(conn))
	}
}

// OnResponse tells a PLAY waiting for activation that gortsplib has made
// its session a reader: the response is built after that.
func (h *handler) OnResponse(conn *gortsplib.ServerConn, _ *base.Response) {
	s := h.s
	s.mu.Lock()
	w := s.activating[conn]
	delete(s.activating, conn)
	s.mu.Unlock()
	if w == nil {
		return
	}
	s.mu.Lock()
	ok := w.ok
	s.mu.Unlock()
	if ok && w.st.held {
		// Before the keyframe the writer holds back for it (activated).
		w.st.addActive(w.ss)
	}
	w.activated()
}

// sessionOpen reports whether ss has not closed.
func (s *Server) sessionOpen(ss *gortsplib.ServerSession) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[ss]
	return ok
}

// OnDescribe answers with the shared stream's description.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	s := h.s
	path, token := pathAndToken(ctx.Path, ctx.Query)
	req := access.Request{Path: path, Token: token, Protocol: access.ProtocolRTSP, Remote: remoteOf(ctx.Conn)}
	st, err := s.acquire(req, func(st *stream) { s.holdForSetup(st, ctx.Conn) })
	if err != nil {
		code := statusOf(err)
		s.Log.Warn("rtsp describe refused", "path", path, "remote", req.Remote, "status", int(code), "error", err)
		return &base.Response{StatusCode: code}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, st.ss, nil
}

// OnSetup attaches the session to the shared stream of its path.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	s := h.s
	path, token := pathAndToken(ctx.Path, ctx.Query)
	remote := remoteOf(ctx.Conn)

	s.mu.Lock()
	if sess := s.sessions[ctx.Session]; sess != nil {
		// A further track of a session already set up: gortsplib requires
		// the same stream.
		st := sess.stream
		closed := st.closed
		s.mu.Unlock()
		if closed {
			return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
		}
		return &base.Response{StatusCode: base.StatusOK}, st.ss, nil
	}
	s.mu.Unlock()

	req := access.Request{Path: path, Token: token, Protocol: access.ProtocolRTSP, Remote: remote}
	var sess *session
	st, err := s.acquire(req, func(st *stream) {
		s.nextID++
		sess = &session{
			id:        strconv.FormatUint(s.nextID, 10),
			path:      path,
			req:       req,
			remote:    remote,
			transport: ctx.Transport.Protocol.String(),
			since:     time.Now(),
			stream:    st,
		}
		s.sessions[ctx.Session] = sess
		st.sessions[ctx.Session] = struct{}{}
		delete(st.pending, ctx.Conn)
	})
	if err != nil {
		code := statusOf(err)
		s.Log.Warn("rtsp setup refused", "path", path, "remote", remote, "status", int(code), "error", err)
		return &base.Response{StatusCode: code}, nil, nil
	}
	s.Log.Info("rtsp session opened", "path", path, "remote", remote, "session", sess.id, "transport", sess.transport)
	return &base.Response{StatusCode: base.StatusOK}, st.ss, nil
}

// OnPlay answers just before the next keyframe is sent (bounded by
// playWait), so that the session starts with a decodable picture.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	s := h.s
	s.mu.Lock()
	sess := s.sessions[ctx.Session]
	if sess == nil {
		s.mu.Unlock()
		return &base.Response{StatusCode: base.StatusSessionNotFound}, nil
	}
	if sess.playing {
		s.mu.Unlock()
		return &base.Response{StatusCode: base.StatusOK}, nil
	}
	st := sess.stream
	if st.closed {
		s.mu.Unlock()
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	s.mu.Unlock()

	// The media open is audited before the session gets anything: no
	// PLAY without its audit row.
	if err := s.Source.Opened(s.ctx, sess.req); err != nil {
		code := statusOf(err)
		s.Log.Warn("rtsp play refused", "path", sess.path, "remote", sess.remote, "session", sess.id,
			"status", int(code), "error", err)
		return &base.Response{StatusCode: code}, nil
	}

	s.mu.Lock()
	if st.closed {
		s.mu.Unlock()
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	w := &playWaiter{release: make(chan struct{}), active: make(chan struct{}), ss: ctx.Session, st: st}
	s.activating[ctx.Conn] = w
	s.mu.Unlock()

	st.addWaiter(w)
	start := time.Now()
	timer := time.NewTimer(s.playWait)
	defer timer.Stop()
	select {
	case <-w.release:
	case <-timer.C:
		st.removeWaiter(w)
		s.Log.Warn("rtsp no keyframe before PLAY deadline, playing from now",
			"path", sess.path, "session", sess.id, "wait", s.playWait)
	case <-st.ctx.Done():
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	case <-s.ctx.Done():
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	if st.ctx.Err() != nil {
		// Released because the stream ended, not for a keyframe.
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	s.mu.Lock()
	sess.playing = true
	w.ok = true
	s.mu.Unlock()
	s.Log.Info("rtsp session playing", "path", sess.path, "remote", sess.remote, "session", sess.id,
		"keyframe_wait", time.Since(start).Round(time.Millisecond))
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose detaches the session and closes the stream it leaves
// without readers.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	s := h.s
	s.mu.Lock()
	sess := s.sessions[ctx.Session]
	delete(s.sessions, ctx.Session)
	if sess != nil {
		delete(sess.stream.sessions, ctx.Session)
		s.releaseLocked(sess.stream)
	}
	s.mu.Unlock()
	if sess != nil {
		s.Log.Info("rtsp session closed", "path", sess.path, "remote", sess.remote, "session", sess.id,
			"reason", ctx.Error, "write_errors", sess.writeErrors.Load())
	}
}

// OnStreamWriteError counts packets a slow session could not take; the
// first one per session is logged.
func (h *handler) OnStreamWriteError(ctx *gortsplib.ServerHandlerOnStreamWriteErrorCtx) {
	s := h.s
	s.mu.Lock()
	sess := s.sessions[ctx.Session]
	s.mu.Unlock()
	if sess == nil {
		return
	}
	if sess.writeErrors.Add(1) == 1 {
		s.Log.Warn("rtsp session cannot keep up, dropping packets", "path", sess.path,
			"remote", sess.remote, "session", sess.id, "error", ctx.Error)
	}
}

// OnDecodeError ignores undecodable packets from readers (RTCP receiver
// reports); without it gortsplib would print them.
func (h *handler) OnDecodeError(ctx *gortsplib.ServerHandlerOnDecodeErrorCtx) {
	h.s.Log.Debug("rtsp decode error", "error", ctx.Error)
}

// OnPacketsLost ignores inbound losses: readers send no RTP.
func (h *handler) OnPacketsLost(*gortsplib.ServerHandlerOnPacketsLostCtx) {}
