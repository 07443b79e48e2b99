package sipserver

// Setting a media session up: the stored row, a mediagw receiver, the
// INVITE with the transports to try, and the fix-ups the SDP answer asks for.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// start sets a session up: channel → device, SSRC, stored row, receiver,
// INVITE (trying the other transports when the device refuses the offer),
// ACK, SSRC and TCP fix-ups, active. Whatever fails is undone.
func (m *sessionManager) start(ms *mediaSession) {
	began := m.Parent.now()
	ctx, cancel := context.WithTimeout(m.ctx, m.setupBound())
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
	// The path's previous session may still be closing its receiver (a
	// viewer back right after the stream ended).
	m.mu.Lock()
	draining := m.draining[ms.row.Path]
	m.mu.Unlock()
	if draining != nil {
		select {
		case <-draining:
		case <-ctx.Done():
			return fmt.Errorf("%s: the previous session is still ending: %w", ms.row.Path, ErrTimeout)
		}
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

// setupBound bounds one session's set-up: the INVITE, its answer and the
// media path behind it.
func (m *sessionManager) setupBound() time.Duration {
	return m.Config.InviteTimeout.Std() + 10*time.Second
}
