package whep

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

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

// Viewers returns the running sessions as viewers: ending one ends its
// session (ErrEnded) as a DELETE would.
func (s *Server) Viewers() []access.Viewer {
	sessions := snapshot.Values(&s.mu, s.sessions)
	out := make([]access.Viewer, 0, len(sessions))
	for _, sess := range sessions {
		out = append(out, access.Viewer{Token: sess.token, End: func() { sess.cancel(ErrEnded) }})
	}
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

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
