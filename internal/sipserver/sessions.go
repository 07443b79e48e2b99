package sipserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
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
	spawn(fn func()) bool
	background(fn func(ctx context.Context))
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
func (s *Server) EndPath(path, reason string) error { return s.sessions.endPath(path, reason) }

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

// start sets a session up: channel → device, SSRC, stored row, receiver,
// INVITE (trying the other transports when the device refuses the offer),
// ACK, SSRC and TCP fix-ups, active. Whatever fails is undone.
func (m *sessionManager) start(ms *mediaSession) {
	began := m.Parent.now()
	ctx, cancel := context.WithTimeout(m.ctx, m.Config.InviteTimeout.Std()+10*time.Second)
	defer cancel()
	err := m.setup(ctx, ms)
	m.mu.Lock()
	ms.err = err
	ended := ms.ended
	if err != nil {
		ms.ended = true
		if m.byPath[ms.row.Path] == ms {
			delete(m.byPath, ms.row.Path)
		}
	}
	m.mu.Unlock()
	if err != nil {
		m.log.Warn("media session failed", "kind", ms.row.Kind, "path", ms.row.Path, "device", ms.row.DeviceID,
			"took", time.Since(began).Round(time.Millisecond), "err", err)
		// Undone before the callers hear of the failure, so that what they
		// read next (the stored session) already says it ended.
		m.undo(ms, ReasonInviteFailure)
	}
	close(ms.ready)
	switch {
	case err != nil:
		// Undone above.
	case ended:
		// Ended (device gone, stopped) while it was being set up.
		m.teardown(ms, ms.row.EndReason, true)
	default:
		m.log.Info("media session active", "kind", ms.row.Kind, "path", ms.row.Path, "device", ms.row.DeviceID,
			"transport", ms.row.Transport, "ssrc", ms.row.SSRC, "took", time.Since(began).Round(time.Millisecond))
	}
}

func (m *sessionManager) setup(ctx context.Context, ms *mediaSession) error {
	st := m.Store
	ch, err := st.FindChannel(ctx, ms.row.ChannelID)
	if err != nil {
		return err
	}
	dev, err := st.GetDevice(ctx, ch.DeviceID)
	if err != nil {
		return err
	}
	ms.row.DeviceID = dev.ID
	if d, ok := m.Parent.deviceState(dev.ID); !ok || !d.Registered {
		return fmt.Errorf("device %s: %w", dev.ID, ErrOffline)
	}
	kind := sdp.KindLive
	if ms.row.Kind != sipapi.KindPlay {
		kind = sdp.KindHistory
	}
	if ms.ssrc, err = m.alloc.Allocate(kind); err != nil {
		return fmt.Errorf("allocate SSRC: %w", err)
	}
	ms.row.SSRC = ms.ssrc.String()
	if err := st.CreateSession(ctx, ms.row); errors.Is(err, store.ErrPathBusy) {
		// An open row nobody in this process runs: a leftover of a crash.
		if old, oerr := st.OpenSessionByPath(ctx, ms.row.Path); oerr == nil {
			m.endRow(old, ReasonOrphan)
		}
		err = st.CreateSession(ctx, ms.row)
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}

	var lastErr error
	for _, tr := range m.transports(ch.StreamTransport, dev.StreamTransport) {
		lastErr = m.attempt(ctx, ms, tr)
		var rej *RejectedError
		if lastErr == nil || !m.Config.Fallback || !errors.As(lastErr, &rej) || !notAcceptable(rej.Code) {
			break
		}
		m.log.Info("device refused the transport; trying the next", "path", ms.row.Path, "transport", tr, "err", lastErr)
	}
	if lastErr != nil {
		return lastErr
	}
	if err := st.ActivateSession(ctx, ms.row); err != nil {
		return err
	}
	now := m.Parent.now()
	m.mu.Lock()
	ms.row.State, ms.row.ActiveAt = store.SessionActive, &now
	m.mu.Unlock()
	return nil
}

// attempt runs one INVITE with transport tr.
func (m *sessionManager) attempt(ctx context.Context, ms *mediaSession, tr string) error {
	rcv, err := m.node.open(ctx, mediaapi.OpenRequest{
		Path: ms.row.Path, SSRC: ms.row.SSRC, Transport: tr, Shared: tr == "udp" && m.Config.SharedUDP,
		AllowIPs: m.mediaSources(ms.row.DeviceID, ""),
	})
	if err != nil {
		return fmt.Errorf("open receiver for %s: %w", ms.row.Path, err)
	}
	m.mu.Lock()
	ms.row.ReceiverID, ms.row.Transport, ms.receiverAt = rcv.ID, tr, time.Now()
	m.mu.Unlock()
	fail := func(err error) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if cerr := m.node.close(cctx, rcv.ID); cerr != nil {
			m.log.Warn("close receiver", "receiver", rcv.ID, "err", cerr)
		}
		m.mu.Lock()
		ms.row.ReceiverID = ""
		m.mu.Unlock()
		return err
	}
	offer, err := m.offer(ms, rcv, tr)
	if err != nil {
		return fail(err)
	}
	// The receiver learns the device's SSRC and media IPs before the ACK, on
	// which devices start sending or (tcp-passive) connecting.
	prepare := func(pctx context.Context, dlg *dialog, answer []byte) error {
		m.mu.Lock()
		ms.dlg = dlg
		ms.row.CallID, ms.row.FromTag, ms.row.ToTag = dlg.callID, dlg.fromTag, dlg.toTag
		ms.row.RemoteTarget, ms.row.CSeq = dlg.remoteTarget.String(), int(dlg.cseq)
		m.byCall[dlg.callID] = ms
		m.mu.Unlock()
		return m.fixMedia(pctx, ms, rcv, offer, answer)
	}
	res, err := m.Parent.invite(ctx, ms.row.DeviceID, ms.row.ChannelID, subjectOf(ms.row.ChannelID, ms.row.SSRC, m.PlatformID),
		offer.Marshal(), m.Config.InviteTimeout.Std(), prepare)
	outcome := "answered"
	var rej *RejectedError
	switch {
	case errors.As(err, &rej):
		outcome = "rejected"
	case errors.Is(err, ErrTimeout):
		outcome = "timeout"
	case err != nil:
		outcome = "error"
	}
	m.Metrics.invites.WithLabelValues(ms.row.Kind, outcome).Inc()
	if err == nil && res.prepared != nil {
		m.Parent.hangup(res.dlg, ReasonSetupFailed)
		err = fmt.Errorf("%s: %w", ReasonSetupFailed, res.prepared)
	}
	if err != nil {
		m.mu.Lock()
		if ms.dlg != nil {
			delete(m.byCall, ms.dlg.callID)
			ms.dlg = nil
		}
		m.mu.Unlock()
		return fail(err)
	}
	return nil
}

// fixMedia applies the answer: the SSRC the device really uses, and for
// TCP active the address mediagw must dial.
func (m *sessionManager) fixMedia(ctx context.Context, ms *mediaSession, rcv mediaapi.Receiver, offer *sdp.Session, answer []byte) error {
	ans, err := sdp.Parse(answer)
	if ans == nil {
		return fmt.Errorf("answer SDP: %w", err)
	}
	plan, err := sdp.ResolvePlan(offer, ans)
	if err != nil {
		return fmt.Errorf("answer SDP: %w", err)
	}
	for _, w := range plan.Warnings {
		m.log.Info("tolerated SDP answer quirk", "path", ms.row.Path, "device", ms.row.DeviceID, "quirk", w)
	}
	m.mu.Lock()
	ms.answerIP = plan.Answer.IP
	m.mu.Unlock()
	allow, ssrc := m.mediaSources(ms.row.DeviceID, plan.Answer.IP), ""
	if plan.HasSSRC && plan.SSRC.String() != ms.row.SSRC {
		ssrc = plan.SSRC.String()
		m.log.Info("device uses its own SSRC", "path", ms.row.Path, "offered", ms.row.SSRC, "answered", ssrc)
	}
	if err := m.node.patch(ctx, rcv.ID, ssrc, allow); err != nil {
		return fmt.Errorf("set the device's SSRC %s and media sources %v: %w", ssrc, allow, err)
	}
	if ssrc != "" {
		m.mu.Lock()
		ms.row.SSRC = ssrc
		m.mu.Unlock()
	}
	if plan.Connector == sdp.ConnectorOfferer {
		to := plan.Remote()
		if err := m.node.connect(ctx, rcv.ID, to.IP, to.Port); err != nil {
			return fmt.Errorf("connect to the device at %s: %w", to, err)
		}
	}
	return nil
}

// mediaSources lists the IPs a device's media may come from: its
// registered signalling IP (what a NAT in front of it shows) and the
// address its SDP answer gives (its own, for devices not behind NAT).
func (m *sessionManager) mediaSources(deviceID, answerIP string) []string {
	var out []string
	if d, ok := m.Parent.deviceState(deviceID); ok {
		if ip := hostOf(d.RemoteAddr); net.ParseIP(ip) != nil {
			out = append(out, ip)
		}
	}
	if ip := net.ParseIP(answerIP); ip != nil && !ip.IsUnspecified() && !slices.Contains(out, ip.String()) {
		out = append(out, ip.String())
	}
	return out
}

func (m *sessionManager) offer(ms *mediaSession, rcv mediaapi.Receiver, tr string) (*sdp.Session, error) {
	ep := sdp.Endpoint{ID: m.PlatformID, IP: rcv.IP, Port: rcv.Port}
	if ep.Port == 0 {
		ep.Port = 9 // tcp-active: nominal, but devices want a number
	}
	opt := sdp.WithTransport(map[string]sdp.Transport{
		"udp": sdp.TransportUDP, "tcp-passive": sdp.TransportTCPPassive, "tcp-active": sdp.TransportTCPActive,
	}[tr])
	switch ms.row.Kind {
	case sipapi.KindPlayback:
		return sdp.NewPlaybackOffer(ep, ms.ssrc, ms.row.ChannelID, *ms.row.RangeStart, *ms.row.RangeEnd, opt)
	case sipapi.KindDownload:
		return sdp.NewDownloadOffer(ep, ms.ssrc, ms.row.ChannelID, *ms.row.RangeStart, *ms.row.RangeEnd, ms.speed, opt)
	}
	return sdp.NewPlayOffer(ep, ms.ssrc, opt)
}

// transports lists the transports to try: the channel's, else the device's,
// else the configured one, then (with fallback) the others.
func (m *sessionManager) transports(channel, device string) []string {
	first := m.Config.Transport
	switch {
	case channel != "":
		first = channel
	case device != "":
		first = device
	}
	out := []string{first}
	if m.Config.Fallback {
		for _, t := range []string{"udp", "tcp-passive", "tcp-active"} {
			if t != first {
				out = append(out, t)
			}
		}
	}
	return out
}

func notAcceptable(code int) bool { return code == 488 || code == 415 || code == 606 }

// end ends an open session: marks it ended, hangs up (bye) and closes its
// receiver. Only the first of concurrent enders does the work.
func (m *sessionManager) end(ms *mediaSession, reason string, bye bool) {
	m.mu.Lock()
	if ms.ended {
		m.mu.Unlock()
		return
	}
	ms.ended = true
	ms.row.EndReason = reason
	if m.byPath[ms.row.Path] == ms {
		delete(m.byPath, ms.row.Path)
	}
	if !ms.isReady() {
		// Still being set up: start() sees ended and tears down.
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	m.teardown(ms, reason, bye)
}

// teardown undoes an ended session: row, dialog, receiver, SSRC.
func (m *sessionManager) teardown(ms *mediaSession, reason string, bye bool) {
	m.mu.Lock()
	dlg := ms.dlg
	if dlg != nil {
		delete(m.byCall, dlg.callID)
	}
	rcv := ms.row.ReceiverID
	m.ending[ms.row.ID] = true
	m.mu.Unlock()
	if bye && dlg != nil {
		m.Parent.hangup(dlg, reason)
	}
	m.Parent.background(func(ctx context.Context) {
		if _, err := m.Store.EndSession(ctx, ms.row.ID, reason); err != nil {
			m.log.Error("store session end", "session", ms.row.ID, "err", err)
		}
		m.mu.Lock()
		delete(m.ending, ms.row.ID)
		m.mu.Unlock()
		if rcv != "" {
			if err := m.node.close(ctx, rcv); err != nil {
				m.log.Warn("close receiver", "receiver", rcv, "path", ms.row.Path, "err", err)
			}
		}
	})
	m.alloc.Release(ms.ssrc)
	m.Metrics.sessionsEnd.WithLabelValues(ms.row.Kind, reason).Inc()
	m.log.Info("media session ended", "kind", ms.row.Kind, "path", ms.row.Path, "device", ms.row.DeviceID, "reason", reason)
}

// undo cleans up after a failed set-up (receivers were closed by attempt).
func (m *sessionManager) undo(ms *mediaSession, reason string) {
	if ms.row.DeviceID != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 5*time.Second)
		defer cancel()
		if _, err := m.Store.EndSession(ctx, ms.row.ID, reason); err != nil {
			m.log.Error("store session end", "session", ms.row.ID, "err", err)
		}
	}
	if ms.ssrc != 0 {
		m.alloc.Release(ms.ssrc)
	}
}

// endRow ends a stored session nobody runs in this process: BYE from the
// stored dialog, close its receiver, mark it ended.
func (m *sessionManager) endRow(r store.StreamSession, reason string) {
	ctx, cancel := context.WithTimeout(m.ctx, 5*time.Second)
	defer cancel()
	ended, err := m.Store.EndSession(ctx, r.ID, reason)
	if err != nil || !ended {
		return
	}
	if dlg := dialogOf(r); dlg != nil {
		m.Parent.hangup(dlg, reason)
	}
	if r.ReceiverID != "" {
		if err := m.node.close(ctx, r.ReceiverID); err != nil {
			m.log.Warn("close receiver", "receiver", r.ReceiverID, "err", err)
		}
	}
	m.Metrics.sessionsEnd.WithLabelValues(r.Kind, reason).Inc()
	m.log.Info("stored media session ended", "kind", r.Kind, "path", r.Path, "device", r.DeviceID, "reason", reason)
}

// dialogOf rebuilds the dialog of a stored session, nil when it has none.
func dialogOf(r store.StreamSession) *dialog {
	if r.CallID == "" || r.ToTag == "" {
		return nil
	}
	target, err := parseURI(r.RemoteTarget)
	if err != nil {
		return nil
	}
	return &dialog{
		deviceID: r.DeviceID, channelID: r.ChannelID, callID: r.CallID, fromTag: r.FromTag, toTag: r.ToTag,
		remoteTarget: target, cseq: uint32(r.CSeq),
	}
}

func (m *sessionManager) endPath(path, reason string) error {
	m.mu.Lock()
	ms := m.byPath[path]
	m.mu.Unlock()
	if ms == nil {
		return fmt.Errorf("%s: %w", path, ErrNoSession)
	}
	m.end(ms, reason, true)
	return nil
}

func (m *sessionManager) endSession(id, reason string) error {
	found := m.matching(func(ms *mediaSession) bool { return ms.row.ID == id })
	if len(found) == 0 {
		return fmt.Errorf("session %s: %w", id, ErrNoSession)
	}
	m.end(found[0], reason, true)
	return nil
}

func (m *sessionManager) controlPlayback(ctx context.Context, id, action string, position time.Duration, scale float64) error {
	m.mu.Lock()
	var ms *mediaSession
	for _, c := range m.byPath {
		if c.row.ID == id {
			ms = c
		}
	}
	if ms == nil || ms.dlg == nil {
		m.mu.Unlock()
		return fmt.Errorf("session %s: %w", id, ErrNoSession)
	}
	if ms.row.Kind != sipapi.KindPlayback {
		m.mu.Unlock()
		return badRequest("session %s is %s: only playback sessions take playback control", id, ms.row.Kind)
	}
	ms.rtspCSeq++
	cseq, dlg := ms.rtspCSeq, ms.dlg
	m.mu.Unlock()
	var b mansrtsp.Builder
	var req *mansrtsp.Request
	var err error
	switch action {
	case "pause":
		req = b.Pause(cseq)
	case "resume":
		req = b.Play(cseq)
	case "seek":
		req, err = b.Seek(cseq, position)
	case "scale":
		req, err = b.Scale(cseq, scale)
	default:
		return badRequest("action must be pause, resume, seek or scale, got %q", action)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	if err := m.Parent.inDialog(ctx, dlg, sip.INFO, "Application/MANSRTSP", req.Marshal()); err != nil {
		return err
	}
	m.saveCSeq(ms)
	return nil
}

func (m *sessionManager) saveCSeq(ms *mediaSession) {
	m.mu.Lock()
	cseq := int(ms.dlg.cseq)
	m.mu.Unlock()
	m.Parent.background(func(ctx context.Context) {
		if err := m.Store.SetSessionCSeq(ctx, ms.row.ID, cseq); err != nil {
			m.log.Warn("store session CSeq", "session", ms.row.ID, "err", err)
		}
	})
}

// onBye handles a BYE from a device: the session ends, its receiver closes.
// It must match one of our dialogs by Call-ID and both tags (481 otherwise)
// and come from the device's registered source (403 otherwise): a BYE is as
// good as a MediaStatus 121 at ending someone's video.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	ms, dlg := s.sessions.byCallID(req)
	if dlg == nil || !dlg.matchesIncoming(req) {
		s.metrics.dialogMismatch.WithLabelValues(req.Method.String()).Inc()
		s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	d := s.devices.get(dlg.deviceID)
	if d == nil || !fromDevice(d, req) {
		s.refuseForeign(req, tx, dlg.deviceID, "BYE")
		return
	}
	s.reply(req, tx, sip.StatusOK, "OK")
	s.sessions.end(ms, ReasonDeviceBye, false)
}

// byCallID returns the session whose dialog has req's Call-ID, and that
// dialog; both nil when there is none. Whether req matches the dialog's
// tags is the caller's to check.
func (m *sessionManager) byCallID(req *sip.Request) (*mediaSession, *dialog) {
	cid := req.CallID()
	if cid == nil {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ms := m.byCall[cid.Value()]
	if ms == nil {
		return nil, nil
	}
	return ms, ms.dlg
}

// dialogDevice returns the device of the session whose dialog req (with a
// To tag) claims by its Call-ID. The claim is checked later like any other:
// source, and for MediaStatus the tags.
func (m *sessionManager) dialogDevice(req *sip.Request) (string, bool) {
	to, cid := req.To(), req.CallID()
	if to == nil || cid == nil || !to.Params.Has("tag") {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms := m.byCall[cid.Value()]; ms != nil {
		return ms.row.DeviceID, true
	}
	return "", false
}

// mediaStatusSession finds what a MediaStatus from deviceID (whose source
// was checked) about channelID is about. Sent inside a session's dialog (a
// To tag), it must match that dialog's Call-ID, tags, device and channel,
// and concerns that session only; ok is false otherwise (481). Sent outside
// any dialog, as most devices do, ms is nil and mediaStatus matches it to
// the device's sessions of the channel.
func (m *sessionManager) mediaStatusSession(req *sip.Request, deviceID, channelID string) (ms *mediaSession, ok bool) {
	if to := req.To(); to == nil || !to.Params.Has("tag") {
		return nil, true
	}
	cid := req.CallID()
	if cid == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ms = m.byCall[cid.Value()]
	if ms == nil || ms.dlg == nil || ms.row.DeviceID != deviceID || ms.row.ChannelID != channelID ||
		!ms.dlg.matchesIncoming(req) {
		return nil, false
	}
	return ms, true
}

// deviceMoved tells the receivers of a device's open sessions its new
// signalling IP after an authenticated registration from another address
// (a carrier NAT gave it a new one): its media comes from there now too.
func (m *sessionManager) deviceMoved(deviceID string) {
	type move struct{ path, receiver, answerIP string }
	m.mu.Lock()
	var moves []move
	for _, ms := range m.byPath {
		if !ms.isReady() {
			continue // being set up: its PATCH is still to come
		}
		if ms.row.DeviceID == deviceID && ms.row.ReceiverID != "" && !ms.ended {
			moves = append(moves, move{ms.row.Path, ms.row.ReceiverID, ms.answerIP})
		}
	}
	m.mu.Unlock()
	for _, mv := range moves {
		ips := m.mediaSources(deviceID, mv.answerIP)
		m.Parent.background(func(ctx context.Context) {
			if err := m.node.patch(ctx, mv.receiver, "", ips); err != nil {
				m.log.Warn("tell the receiver the device's new address", "path", mv.path, "receiver", mv.receiver, "err", err)
				return
			}
			m.log.Info("receiver follows the device's new address", "path", mv.path, "allow_ips", ips)
		})
	}
}

// deviceGone ends every session of a device that unregistered or went
// offline; the BYE is still sent in case it can hear it.
func (m *sessionManager) deviceGone(deviceID, reason string) {
	for _, ms := range m.matching(func(ms *mediaSession) bool { return ms.row.DeviceID == deviceID }) {
		m.end(ms, reason, true)
	}
}

// mediaStatus handles MediaStatus from a device: 121 means a playback or
// download reached the end of its range, so the session is hung up. in is
// the session whose dialog carried it, or nil when it came outside any
// dialog: then it ends the device's playback or download of the channel
// only when there is exactly one — with two users fetching the same
// camera, ending both would cut the other's short, so an ambiguous one is
// left to the stream's own end (RTP timeout).
func (m *sessionManager) mediaStatus(deviceID, channelID, notifyType string, in *mediaSession) {
	if notifyType != "121" {
		return
	}
	if in != nil {
		if in.row.Kind != sipapi.KindPlay {
			m.end(in, ReasonMediaStatus, true)
		}
		return
	}
	done := m.matching(func(ms *mediaSession) bool {
		return ms.row.DeviceID == deviceID && ms.row.ChannelID == channelID && ms.row.Kind != sipapi.KindPlay
	})
	switch len(done) {
	case 0:
	case 1:
		m.end(done[0], ReasonMediaStatus, true)
	default:
		m.log.Info("MediaStatus 121 outside a dialog matches several sessions; each ends with its stream",
			"device", deviceID, "channel", channelID, "sessions", len(done))
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
