package sipserver

// What devices do to media sessions and we to theirs: BYE, MediaStatus,
// playback control, a device that moved or went away.

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

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
	cseq, dlg, rcv, path := ms.rtspCSeq, ms.dlg, ms.row.ReceiverID, ms.row.Path
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
	// A paused device sends nothing: mediagw is not to take that for its
	// end (and ours, then, nor a superior's through us). Any other
	// control plays again.
	if rcv != "" && m.node != nil {
		if err := m.node.pause(ctx, rcv, action == "pause"); err != nil {
			m.log.Warn("tell mediagw of a playback's pause", "path", path, "action", action, "err", err)
		}
	}
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
	if from := req.From(); from != nil {
		if _, device := s.deviceState(from.Address.User); !device {
			// A superior's BYE right after our start waits until its
			// links run and the last run's upward sessions are back.
			s.cascade.waitRestored(s.Config.RequestTimeout.Std())
		}
	}
	if s.onSuperiorBye(req, tx) {
		return
	}
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
// left to the stream's own end (RTP timeout). The sessions are marked
// ended at once, before the MESSAGE is answered, so that a BYE the device
// sends right after cannot take the end for itself; it returns those whose
// teardown is the caller's, to run after the answer.
func (m *sessionManager) mediaStatus(deviceID, channelID, notifyType string, in *mediaSession) []*mediaSession {
	if notifyType != "121" {
		return nil
	}
	var done []*mediaSession
	if in != nil {
		if in.row.Kind != sipapi.KindPlay {
			done = []*mediaSession{in}
		}
	} else {
		done = m.matching(func(ms *mediaSession) bool {
			return ms.row.DeviceID == deviceID && ms.row.ChannelID == channelID && ms.row.Kind != sipapi.KindPlay
		})
		if len(done) > 1 {
			m.log.Info("MediaStatus 121 outside a dialog matches several sessions; each ends with its stream",
				"device", deviceID, "channel", channelID, "sessions", len(done))
			return nil
		}
	}
	var teardown []*mediaSession
	for _, ms := range done {
		if m.markEnded(ms, ReasonMediaStatus) {
			teardown = append(teardown, ms)
		}
	}
	return teardown
}
