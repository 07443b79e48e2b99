package sipserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// Reasons a session ends, as stored in stream_sessions.end_reason.
const (
	ReasonIdle          = "idle"            // mediagw: nobody watched it
	ReasonDeviceBye     = "device_bye"      // the device hung up
	ReasonUnregister    = "unregister"      // the device unregistered or went offline
	ReasonMediaStatus   = "media_status"    // MediaStatus 121: the recording was sent completely
	ReasonReceiverGone  = "receiver_gone"   // mediagw lost the receiver (restart, RTP timeout)
	ReasonStopped       = "stopped"         // closed through the API
	ReasonRestart       = "restart"         // sipserver restarted while the session was being set up
	ReasonOrphan        = "orphan"          // the reconcile loop found it open with nothing behind it
	ReasonSetupFailed   = "setup_failed"    // the INVITE succeeded but the media path could not be set up
	ReasonInviteFailure = "invite_failed"   // the INVITE was refused or not answered
	ReasonMediaNodeDown = "media_node_down" // mediagw failed its health check for sessions.media_node_grace
	ReasonUpwardEnded   = "upward_ended"    // the superior platform's playback or download it served ended
)

// mediaSession is one INVITE dialog and the mediagw receiver its media goes to.
type mediaSession struct {
	row   store.StreamSession
	ssrc  sdp.SSRC
	speed int
	// ready is closed when set-up finished; err tells how.
	ready chan struct{}
	err   error

	// Guarded by sessionManager.mu.
	dlg        *dialog
	ended      bool
	rtspCSeq   uint32
	receiverAt time.Time // when its receiver was opened
	answerIP   string    // the c= address of the device's SDP answer
}

// sessionInfo is a stored session as the API shows it.
func sessionInfo(r store.StreamSession) sipapi.Session {
	return sipapi.Session{
		ID: r.ID, Kind: r.Kind, DeviceID: r.DeviceID, ChannelID: r.ChannelID, Path: r.Path, State: r.State,
		Transport: r.Transport, SSRC: r.SSRC, Receiver: r.ReceiverID, RangeStart: r.RangeStart, RangeEnd: r.RangeEnd,
		StartedAt: r.StartedAt, ActiveAt: r.ActiveAt, EndedAt: r.EndedAt, EndReason: r.EndReason, Owner: r.Owner,
	}
}

// sessionParent is what sessionManager needs of the Server: the clock, the
// devices' registrations, INVITE dialogs with devices, and work that Close
// waits for.
type sessionParent interface {
	now() time.Time
	deviceState(id string) (deviceSnapshot, bool)
	invite(ctx context.Context, deviceID, channelID, subject string, offer []byte, timeout time.Duration,
		prepare func(ctx context.Context, dlg *dialog, answer []byte) error) (*inviteResult, error)
	inDialog(ctx context.Context, dlg *dialog, method sip.RequestMethod, contentType string, body []byte) error
	hangup(dlg *dialog, reason string)
	// sessionEnded learns that session id of owner ended (an upward
	// stream may read it).
	sessionEnded(id, owner, reason string)
	spawn(fn func()) bool
	background(fn func(ctx context.Context))
	// upwardReceivers are the mediagw receivers that upward replays of
	// our recordings own (no session of ours does).
	upwardReceivers(ctx context.Context) (map[string]bool, error)
}

// sessionStore is what sessionManager reads (where a channel is) and writes
// (its stream_sessions rows).
type sessionStore interface {
	FindChannel(ctx context.Context, id string) (store.Channel, error)
	GetDevice(ctx context.Context, id string) (store.Device, error)
	CreateSession(ctx context.Context, ss store.StreamSession) error
	ActivateSession(ctx context.Context, ss store.StreamSession) error
	SetSessionCSeq(ctx context.Context, id string, cseq int) error
	EndSession(ctx context.Context, id, reason string) (bool, error)
	OpenSessionByPath(ctx context.Context, path string) (store.StreamSession, error)
	OpenSessions(ctx context.Context, deviceID string) ([]store.StreamSession, error)
}

// sessionManager runs the media sessions: one per path, shared by every
// viewer of it, each backed by a row of stream_sessions so that a restart
// recovers or ends it.
type sessionManager struct {
	// Config configures the sessions; initialize fills in the defaults.
	// Without a mediagw URL no session opens.
	Config config.Sessions
	// PlatformID is the platform's SIP ID: the SSRCs' prefix, the INVITE
	// Subject's and the SDP origin's.
	PlatformID string
	// Token is the service token, sipserver's credential at mediagw.
	Token   string
	Store   sessionStore
	Metrics *metrics
	Log     *slog.Logger
	Parent  sessionParent

	// ctx is the Server's lifetime: session set-ups and store writes end with it.
	ctx   context.Context
	node  *mediaNode
	alloc *sdp.Allocator
	log   *slog.Logger

	mu     sync.Mutex
	byPath map[string]*mediaSession
	byCall map[string]*mediaSession
	// ending holds the IDs of sessions whose row is being marked ended, so
	// that the reconcile loop does not take them for orphans.
	ending map[string]bool
	// draining holds, by path, the sessions whose receiver is still being
	// closed: a new session of the path waits for it (mediagw has one
	// receiver per path, and the old one's SSRC is not free until then).
	draining map[string]chan struct{}
}

// initialize prepares the manager; ctx is the Server's lifetime.
func (m *sessionManager) initialize(ctx context.Context) error {
	// A Server built without session settings (tests of signalling alone)
	// gets the defaults; without a mediagw URL it opens no sessions.
	cfg := &m.Config
	if cfg.InviteTimeout <= 0 {
		cfg.InviteTimeout = config.Duration(8 * time.Second)
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = config.Duration(5 * time.Second)
	}
	if cfg.MediaNodeGrace <= 0 {
		cfg.MediaNodeGrace = config.Duration(5 * time.Second)
	}
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	m.ctx, m.log = ctx, m.Log.With("component", "sessions")
	m.node = newMediaNode(cfg.MediagwURL, m.Token)
	alloc, err := sdp.NewAllocator(m.PlatformID)
	if err != nil {
		return fmt.Errorf("SSRC allocator: %w", err)
	}
	m.alloc = alloc
	m.byPath, m.byCall, m.ending = map[string]*mediaSession{}, map[string]*mediaSession{}, map[string]bool{}
	m.draining = map[string]chan struct{}{}
	return nil
}

// open returns the number of sessions open (being set up or active).
func (m *sessionManager) open() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byPath)
}

// Need returns the live session of path ("live/<channelID>"), starting it
// when there is none. Concurrent callers share one INVITE.
func (s *Server) Need(ctx context.Context, path string) (sipapi.Session, error) {
	return s.sessions.need(ctx, path)
}

// OpenSession starts a playback or download session and returns once the
// device answered. Its stream path is <kind>/<session ID>.
func (s *Server) OpenSession(ctx context.Context, r sipapi.SessionRequest) (sipapi.Session, error) {
	return s.sessions.openSession(ctx, r)
}

// EndPath ends the session of path (reason idle, ended by mediagw, …).
func (s *Server) EndPath(path, reason string) error {
	if s.cascade.replaysTo(path) {
		// An upward replay's receiver: its sender ends next, and with it
		// the upward session (SenderEnded).
		return nil
	}
	return s.sessions.endPath(path, reason)
}

// EndSession ends the session with the given ID.
func (s *Server) EndSession(id, reason string) error { return s.sessions.endSession(id, reason) }

// ControlPlayback sends a MANSRTSP command (pause, resume, seek, scale) to
// the device of a playback session.
func (s *Server) ControlPlayback(ctx context.Context, id, action string, position time.Duration, scale float64) error {
	return s.sessions.controlPlayback(ctx, id, action, position, scale)
}

func (m *sessionManager) need(ctx context.Context, path string) (sipapi.Session, error) {
	kind, channelID, err := streampath.Parse(path)
	if err != nil || kind != streampath.KindLive {
		return sipapi.Session{}, badRequest("path must be live/<20-digit channel ID>, got %q", path)
	}
	if m.Config.MediagwURL == "" {
		return sipapi.Session{}, fmt.Errorf("no mediagw configured (sessions.mediagw_url): %w", ErrMediaUnavailable)
	}
	m.mu.Lock()
	ms := m.byPath[path]
	if ms == nil {
		ms = m.newSession(sipapi.KindPlay, channelID, path)
		m.byPath[path] = ms
		m.mu.Unlock()
		m.launch(ms)
	} else {
		m.mu.Unlock()
	}
	return m.wait(ctx, ms)
}

func (m *sessionManager) openSession(ctx context.Context, r sipapi.SessionRequest) (sipapi.Session, error) {
	if r.Kind != sipapi.KindPlayback && r.Kind != sipapi.KindDownload {
		return sipapi.Session{}, badRequest("kind must be playback or download, got %q", r.Kind)
	}
	if !validID(r.ChannelID) {
		return sipapi.Session{}, badRequest("channel_id must be a 20-digit ID, got %q", r.ChannelID)
	}
	if r.Start.IsZero() || !r.End.After(r.Start) {
		return sipapi.Session{}, badRequest("need start < end")
	}
	if r.Speed == 0 {
		r.Speed = 1
	}
	if len(r.Owner) > 128 {
		return sipapi.Session{}, badRequest("owner is longer than 128 bytes")
	}
	if !slices.Contains([]int{1, 2, 4, 8}, r.Speed) {
		return sipapi.Session{}, badRequest("speed must be 1, 2, 4 or 8, got %d", r.Speed)
	}
	if m.Config.MediagwURL == "" {
		return sipapi.Session{}, fmt.Errorf("no mediagw configured (sessions.mediagw_url): %w", ErrMediaUnavailable)
	}
	id := newSessionID()
	ms := m.newSession(r.Kind, r.ChannelID, streampath.Join(streampath.Kind(r.Kind), id))
	ms.row.ID = id
	start, end := r.Start.UTC(), r.End.UTC()
	ms.row.RangeStart, ms.row.RangeEnd, ms.speed = &start, &end, r.Speed
	ms.row.Owner = r.Owner
	m.mu.Lock()
	m.byPath[ms.row.Path] = ms
	m.mu.Unlock()
	m.launch(ms)
	return m.wait(ctx, ms)
}

// launch sets ms up in a worker, or fails it at once when sipserver is
// shutting down.
func (m *sessionManager) launch(ms *mediaSession) {
	if m.Parent.spawn(func() { m.start(ms) }) {
		return
	}
	m.mu.Lock()
	ms.err, ms.ended = fmt.Errorf("%s: sipserver is shutting down: %w", ms.row.Path, ErrMediaUnavailable), true
	if m.byPath[ms.row.Path] == ms {
		delete(m.byPath, ms.row.Path)
	}
	m.mu.Unlock()
	close(ms.ready)
}

// matching returns the open sessions keep selects: a copy taken under the
// lock, which keep runs with.
func (m *sessionManager) matching(keep func(*mediaSession) bool) []*mediaSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*mediaSession
	for _, ms := range m.byPath {
		if keep(ms) {
			out = append(out, ms)
		}
	}
	return out
}

// isReady reports whether the session's set-up finished (either way).
func (ms *mediaSession) isReady() bool {
	select {
	case <-ms.ready:
		return true
	default:
		return false
	}
}

func (m *sessionManager) newSession(kind, channelID, path string) *mediaSession {
	return &mediaSession{
		row: store.StreamSession{
			ID: newSessionID(), Kind: kind, ChannelID: channelID, Path: path,
			MediaNode: m.Config.MediagwURL, State: store.SessionInviting, StartedAt: m.Parent.now(),
		},
		ready: make(chan struct{}),
	}
}

func (m *sessionManager) wait(ctx context.Context, ms *mediaSession) (sipapi.Session, error) {
	select {
	case <-ms.ready:
		if ms.err != nil {
			return sipapi.Session{}, ms.err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return sessionInfo(ms.row), nil
	case <-ctx.Done():
		return sipapi.Session{}, fmt.Errorf("session %s: still being set up: %w", ms.row.Path, ErrTimeout)
	}
}

func validID(v string) bool {
	_, err := ids.Parse(v)
	return err == nil && len(v) == 20
}

func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
