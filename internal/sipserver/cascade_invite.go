package sipserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// upSession is a superior's INVITE we answered: a mediagw sender of one of
// our streams to it, in the dialog the superior started.
type upSession struct {
	rl        *runningLink
	callID    string
	remoteTag string // the superior's From tag
	localTag  string // our To tag
	channelID string
	// localUser is the channel as the superior knows it (its exposed ID):
	// our side of the dialog.
	localUser string
	// kind is play, playback or download; for the last two, sessionID is
	// the device session of ours the sender reads, or replay our own
	// recordings' replay.
	kind      string
	sessionID string
	replay    *upReplay
	path      string
	senderID  string
	started   time.Time
	// cseq is our last CSeq in the dialog (MediaStatus, BYE).
	cseq atomic.Uint32
	// remoteTarget is the superior's Contact, for our BYE.
	remoteTarget sip.Uri
	// acked is closed by the superior's ACK of our 200.
	acked   chan struct{}
	ackOnce sync.Once
}

// upAckTimeout is how long a 200 to a superior's INVITE may wait for its
// ACK (64·T1, RFC 3261 §13.3.1.4) before the sender is closed.
const upAckTimeout = 32 * time.Second

// upInviteTimeout bounds the set-up of an upward live session: the sender
// opens at once, its stream starts on demand after the answer. A playback
// or download waits for the device session's own set-up bound on top
// (upInviteWait), so that it never leaves a session nobody reads.
const upInviteTimeout = 10 * time.Second

// upInviteWait is how long the answer to a superior's INVITE of kind may
// take.
func (s *Server) upInviteWait(kind string) time.Duration {
	if kind == sipapi.KindPlay {
		return upInviteTimeout
	}
	return upInviteTimeout + s.sessions.setupBound()
}

// superiorRequest returns the link of the superior platform req (an
// INVITE or SUBSCRIBE) comes from. Anyone else is answered here: 405 to a
// device (a platform takes neither from one), 403 to a source that claims
// a superior's ID.
func (s *Server) superiorRequest(req *sip.Request, tx sip.ServerTransaction) (*runningLink, bool) {
	from := req.From()
	if from == nil {
		s.reply(req, tx, sip.StatusBadRequest, "Missing From")
		return nil, false
	}
	rl, ok := s.cascade.superior(from.Address.User, req)
	switch {
	case rl == nil:
		s.reply(req, tx, sip.StatusMethodNotAllowed, "Method Not Allowed")
	case !ok:
		s.refuseForeign(req, tx, from.Address.User, "superior platform's "+req.Method.String())
	}
	return rl, ok
}

// onInvite answers INVITE: only superior platforms we are registered to may
// invite us, for a live stream of a channel their grants give them live
// on. Devices never INVITE a platform here (405, as before).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	rl, ok := s.superiorRequest(req, tx)
	if !ok {
		return
	}
	from, id := req.From(), req.From().Address.User
	log := s.Log.With("platform", id, "call_id", req.CallID().Value())
	if to := req.To(); to != nil && to.Params.Has("tag") {
		// A re-INVITE: the session stays as it is.
		s.reply(req, tx, sip.StatusNotAcceptableHere, "Re-INVITE Not Supported")
		return
	}
	if s.cascade.hasUp(req.CallID().Value()) {
		s.reply(req, tx, sip.StatusLoopDetected, "Call-ID In Use")
		return
	}
	offer, err := sdp.Parse(req.Body())
	if err != nil || offer == nil || len(offer.Medias) == 0 {
		log.Warn("INVITE of a superior platform with a bad SDP", "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Bad SDP")
		return
	}
	kind := upKind(offer)
	if kind == "" {
		log.Info("superior platform's INVITE for an unknown session kind", "s", offer.Name)
		s.reply(req, tx, sip.StatusNotAcceptableHere, "s= Play, Playback or Download")
		return
	}
	if offer.SSRCStatus != sdp.SSRCValid {
		s.reply(req, tx, sip.StatusBadRequest, "Missing y= SSRC")
		return
	}
	// The channel as the superior knows it (exposed), and ours.
	exposed := req.Recipient.User
	if h := req.GetHeader("Subject"); h != nil {
		if ch, _, ok := strings.Cut(h.Value(), ":"); ok && validID(ch) {
			exposed = ch
		}
	}
	channelID := rl.ourID(exposed)
	ctx, cancel := context.WithTimeout(context.Background(), s.upInviteWait(kind))
	defer cancel()
	// The kind's right on the channel, by the platform's grants now.
	ch, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, upRight(kind), s.now())).FindChannel(ctx, channelID)
	if err != nil {
		log.Info("superior platform's INVITE for a channel it may not play", "channel", channelID, "s", offer.Name, "err", err)
		s.reply(req, tx, sip.StatusNotFound, "Not Found")
		return
	}
	if s.sessions.node == nil {
		s.reply(req, tx, sip.StatusServiceUnavailable, "No Media Gateway")
		return
	}
	path, sessionID := streampath.Join(streampath.KindLive, channelID), ""
	var replay *upReplay
	if kind != sipapi.KindPlay {
		var err error
		if path, sessionID, replay, err = s.openUpRecording(ctx, rl, kind, ch, offer); err != nil {
			code, reason := sipStatusOf(err)
			log.Info("superior platform's "+kind+" refused", "channel", channelID, "code", code, "err", err)
			s.reply(req, tx, code, reason)
			return
		}
	}
	m := offer.Medias[0]
	host := m.Connection.Address
	if host == "" {
		host = offer.Connection.Address
	}
	sr := mediaapi.SenderRequest{
		Path: path, SSRC: strconv.FormatUint(uint64(offer.SSRC), 10),
		Transport: mediaapi.SenderUDP, Dest: net.JoinHostPort(host, strconv.Itoa(m.Port)),
		Subject: "platform:" + rl.cfg.ServerID,
	}
	if m.IsTCP() {
		sr.Transport = mediaapi.SenderTCPConnect
		if m.Setup == sdp.SetupActive {
			sr.Transport, sr.Dest = mediaapi.SenderTCPListen, ""
			for _, ip := range rl.ips {
				sr.AllowIPs = append(sr.AllowIPs, ip.String())
			}
		}
	}
	snd, err := s.sessions.node.client.OpenSender(ctx, sr)
	if err != nil {
		log.Warn("open a sender for a superior platform", "channel", channelID, "err", err)
		s.endUpRecording(&upSession{sessionID: sessionID, replay: replay})
		s.reply(req, tx, sip.StatusServiceUnavailable, "Media Gateway Unavailable")
		return
	}
	u := &upSession{
		rl: rl, callID: req.CallID().Value(), channelID: channelID, localUser: exposed, kind: kind, sessionID: sessionID,
		replay: replay, path: sr.Path, senderID: snd.ID,
		localTag: sip.GenerateTagN(12), started: s.now(), acked: make(chan struct{}),
	}
	u.remoteTag, _ = from.Params.Get("tag")
	u.remoteTarget = *from.Address.Clone()
	if c := req.Contact(); c != nil {
		u.remoteTarget = *c.Address.Clone()
	}
	answer := upAnswer(offer, m, kind, exposed, snd)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", answer.Marshal())
	if to := res.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok && tag != "" {
			u.localTag = tag // sipgo tags 2xx answers itself
		} else {
			to.Params.Add("tag", u.localTag)
		}
	}
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: exposed, Host: s.advertise, Port: s.sipPort}})
	ct := sip.ContentTypeHeader("APPLICATION/SDP")
	res.AppendHeader(&ct)
	if code := s.cascade.addUp(u); code != 0 {
		// The link stopped meanwhile (disabled, deleted, changed), or an
		// INVITE with the same Call-ID won the race (its row is not ours
		// to forget).
		if err := s.sessions.node.client.CloseSender(ctx, u.senderID); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
			log.Warn("close the sender of an upward session not started", "sender", u.senderID, "err", err)
		}
		s.endUpRecording(u)
		reason := "Link Stopped"
		if code == sip.StatusLoopDetected {
			reason = "Call-ID In Use"
		}
		s.reply(req, tx, code, reason)
		return
	}
	// Stored before the answer: a restart from now on takes it back.
	if err := s.Store.SaveUpwardSession(ctx, u.row()); err != nil {
		log.Warn("store an upward session; a restart of ours will end it", "err", err)
	}
	if err := s.tryRespond(req, tx, res); err != nil {
		// CANCELled during a slow set-up: nobody will read the sender.
		log.Info("superior platform's INVITE ended before our answer", "channel", channelID, "err", err)
		if s.cascade.takeUp(u) {
			s.background(func(ctx context.Context) { s.closeUp(ctx, u, "cancelled", false) })
		}
		return
	}
	s.background(func(ctx context.Context) { s.cascade.reportUp(ctx, rl) })
	if u.sessionID != "" {
		// The playback or download may have ended already (a short one).
		if reason, ended := s.cascade.takeEnded(u.sessionID); ended && s.cascade.takeUp(u) {
			s.endUp(u, reason)
		}
	}
	s.spawn(func() {
		t := time.NewTimer(upAckTimeout)
		defer t.Stop()
		select {
		case <-u.acked:
		case <-s.ctx.Done():
		case <-t.C:
			if s.cascade.takeUp(u) {
				ctx, cancel := context.WithTimeout(s.ctx, s.Config.RequestTimeout.Std())
				defer cancel()
				s.closeUp(ctx, u, "no_ack", false)
			}
		}
	})
	log.Info("upward stream to a superior platform", "channel", channelID, "kind", kind, "transport", sr.Transport,
		"dest", sr.Dest, "ssrc", sr.SSRC, "sender", snd.ID)
}

// upRight is the right a superior needs for a session of kind.
func upRight(kind string) string {
	switch kind {
	case sipapi.KindPlayback:
		return catalogview.RightPlayback
	case sipapi.KindDownload:
		return catalogview.RightDownload
	}
	return catalogview.RightLive
}

// sdpName is the s= of a session of kind.
func sdpName(kind string) string {
	switch kind {
	case sipapi.KindPlayback:
		return sdp.SessionPlayback
	case sipapi.KindDownload:
		return sdp.SessionDownload
	}
	return sdp.SessionPlay
}

// upAnswer is our SDP answer to a superior's offer: the sender's
// address, sendonly PS, the superior's SSRC, and for TCP who connects.
func upAnswer(offer *sdp.Session, m *sdp.Media, kind, channelID string, snd mediaapi.Sender) *sdp.Session {
	am := &sdp.Media{
		Type: sdp.MediaVideo, Port: snd.Port, Proto: m.Proto, Formats: []uint8{96}, Direction: sdp.DirectionSendOnly,
		RTPMaps: []sdp.RTPMap{{PayloadType: 96, EncodingName: "PS", ClockRate: 90000}},
	}
	if m.IsTCP() {
		am.ConnectionMode = sdp.ConnectionNew
		am.Setup = sdp.SetupActive
		if m.Setup == sdp.SetupActive {
			am.Setup = sdp.SetupPassive
		}
	}
	a := &sdp.Session{
		Origin:     sdp.Origin{Username: channelID, SessionID: "0", SessionVersion: "0", NetType: "IN", AddrType: "IP4", Address: snd.IP},
		Name:       sdpName(kind),
		Connection: sdp.Connection{NetType: "IN", AddrType: "IP4", Address: snd.IP},
		Time:       offer.Time,
		Medias:     []*sdp.Media{am},
	}
	a.SetSSRC(offer.SSRC)
	return a
}

// onAck takes the ACK of a 2xx we sent to a superior's INVITE: the sender
// is running already (a superior listening on UDP gets the media at once);
// without an ACK it is closed after upAckTimeout.
func (s *Server) onAck(req *sip.Request, _ sip.ServerTransaction) {
	cid := req.CallID()
	if cid == nil {
		return
	}
	s.cascade.mu.Lock()
	u := s.cascade.ups[cid.Value()]
	s.cascade.mu.Unlock()
	if u != nil {
		u.ackOnce.Do(func() { close(u.acked) })
	}
}

// addUp records an upward session and returns 0, or the SIP status that
// refuses it: 503 when its link stopped meanwhile, 482 when another
// session has its Call-ID.
func (c *cascadeLinks) addUp(u *upSession) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.links[u.rl.cfg.ID] != u.rl:
		return sip.StatusServiceUnavailable
	case c.ups[u.callID] != nil:
		return sip.StatusLoopDetected
	}
	c.ups[u.callID] = u
	return 0
}

// hasUp reports whether an upward session has Call-ID id.
func (c *cascadeLinks) hasUp(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ups[id] != nil
}

// upByBye returns (and forgets) the upward session whose dialog req, a
// BYE of its superior, is in.
func (c *cascadeLinks) upByBye(req *sip.Request) *upSession { return c.upOfDialog(req, true) }

// upOfDialog returns the upward session whose dialog req is in (Call-ID
// and both tags), forgotten when take.
func (c *cascadeLinks) upOfDialog(req *sip.Request, take bool) *upSession {
	from, to, cid := req.From(), req.To(), req.CallID()
	if from == nil || to == nil || cid == nil {
		return nil
	}
	fromTag, _ := from.Params.Get("tag")
	toTag, _ := to.Params.Get("tag")
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.ups[cid.Value()]
	if u == nil || u.remoteTag != fromTag || u.localTag != toTag {
		return nil
	}
	if take {
		c.dropLocked(u)
	}
	return u
}

// onSuperiorBye ends an upward session at its superior's BYE and reports
// whether req was one.
func (s *Server) onSuperiorBye(req *sip.Request, tx sip.ServerTransaction) bool {
	from := req.From()
	if from == nil {
		return false
	}
	rl, ok := s.cascade.superior(from.Address.User, req)
	if rl == nil {
		return false
	}
	if !ok {
		s.refuseForeign(req, tx, from.Address.User, "superior platform's BYE")
		return true
	}
	u := s.cascade.upByBye(req)
	if u == nil && s.cascade.waitRestored(s.Config.RequestTimeout.Std()) {
		u = s.cascade.upByBye(req) // one of the last run's, taken back meanwhile
	}
	if u == nil {
		s.metrics.dialogMismatch.WithLabelValues(req.Method.String()).Inc()
		s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return true
	}
	s.reply(req, tx, sip.StatusOK, "OK")
	s.background(func(ctx context.Context) { s.closeUp(ctx, u, "superior_bye", false) })
	return true
}

// closeUp stops an upward session's sender (the stream it read stops when
// nobody else watches it) and, with bye, tells the superior.
func (s *Server) closeUp(ctx context.Context, u *upSession, reason string, bye bool) {
	err := s.sessions.node.client.CloseSender(ctx, u.senderID)
	if err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		s.Log.Warn("close the sender of an upward stream", "platform", u.rl.cfg.ServerID, "sender", u.senderID, "err", err)
	}
	s.endUpRecording(u)
	if bye {
		s.byeUp(ctx, u)
	}
	s.forgetUp(ctx, u)
	s.cascade.reportUp(ctx, u.rl)
	s.Log.Info("upward stream ended", "platform", u.rl.cfg.ServerID, "channel", u.channelID, "reason", reason,
		"lasted", s.now().Sub(u.started).Round(time.Second))
}

// byeUp ends an upward session's dialog from our side.
func (s *Server) byeUp(ctx context.Context, u *upSession) {
	err := u.rl.link.Bye(ctx, u.dialog())
	if err != nil {
		s.Log.Info("BYE to a superior platform", "platform", u.rl.cfg.ServerID, "channel", u.channelID, "err", err)
	}
}

// allowedUp reports whether u's platform still has the right of u's kind
// on its channel.
func (s *Server) allowedUp(ctx context.Context, u *upSession) bool {
	ctx, cancel := context.WithTimeout(ctx, s.Config.RequestTimeout.Std())
	defer cancel()
	_, err := s.Store.In(catalogview.PlatformScope(u.rl.cfg.ID, upRight(u.kind), s.now())).FindChannel(ctx, u.channelID)
	// A database error is not a revocation: the next check decides.
	return err == nil || !errors.Is(err, store.ErrNotFound)
}

// upBySender returns (and forgets) the upward session of a mediagw sender.
func (c *cascadeLinks) upBySender(id string) *upSession {
	return c.takeUpWhere(func(u *upSession) bool { return u.senderID == id })
}

// takeUpWhere returns (and forgets) an upward session match selects, nil
// for none.
func (c *cascadeLinks) takeUpWhere(match func(*upSession) bool) *upSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.ups {
		if match(u) {
			c.dropLocked(u)
			return u
		}
	}
	return nil
}

// SenderEnded ends the upward session whose sender stopped by itself (the
// stream ended, the superior's TCP connection dropped): a BYE to the
// superior. An unknown sender is ErrNoSession (the superior's BYE came first).
func (s *Server) SenderEnded(ctx context.Context, id, reason string) error {
	u := s.cascade.upBySender(id)
	if u == nil {
		return fmt.Errorf("sender %s: %w", id, ErrNoSession)
	}
	if u.replay != nil && s.replayDone(ctx, u.replay) {
		// Our recordings were sent whole: as a device says at a file's end.
		reason = "replay done"
		s.mediaStatusUp(ctx, u)
	}
	s.endUpRecording(u)
	s.byeUp(ctx, u)
	s.forgetUp(ctx, u)
	s.cascade.reportUp(ctx, u.rl)
	s.Log.Info("upward stream ended", "platform", u.rl.cfg.ServerID, "channel", u.channelID, "reason", "sender: "+reason,
		"lasted", s.now().Sub(u.started).Round(time.Second))
	return nil
}

// takeUp forgets u and reports whether it was still there (nobody else
// ended it meanwhile).
func (c *cascadeLinks) takeUp(u *upSession) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ups[u.callID] != u {
		return false
	}
	c.dropLocked(u)
	return true
}
