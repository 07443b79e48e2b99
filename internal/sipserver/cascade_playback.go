package sipserver

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/sipserver/uplink"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// upKind is the session kind of a superior's offer (its s= line): play,
// playback or download; "" for anything else.
func upKind(offer *sdp.Session) string {
	switch strings.ToLower(offer.Name) {
	case "", "play":
		return sipapi.KindPlay
	case "playback":
		return sipapi.KindPlayback
	case "download":
		return sipapi.KindDownload
	}
	return ""
}

// upSpeed is the download speed we ask the device for: the superior's
// a=downloadspeed rounded down to one the devices take (1, 2, 4, 8).
func upSpeed(v int) int {
	switch {
	case v >= 8:
		return 8
	case v >= 4:
		return 4
	case v >= 2:
		return 2
	}
	return 1
}

// openUpRecording starts the playback or download of the superior's t=
// window for an upward session: a replay of our own recordings when they
// serve it (replayNode), else a session of our own with the device, as a
// console user's. The sender then reads its path. It answers the path and
// the device session's ID or the replay.
func (s *Server) openUpRecording(ctx context.Context, rl *runningLink, kind string, ch store.Channel, offer *sdp.Session) (
	path, sessionID string, replay *upReplay, err error,
) {
	tr := offer.Time
	if tr.Start == 0 || tr.Stop <= tr.Start {
		return "", "", nil, badRequest("t= %d %d: need start < stop", tr.Start, tr.Stop)
	}
	speed := 1
	if kind == sipapi.KindDownload {
		speed = upSpeed(offer.Medias[0].DownloadSpeed)
	}
	start, end := tr.StartTime(), tr.StopTime()
	node, err := s.replayNode(ctx, ch, start, end)
	if err != nil {
		s.Log.Warn("our recordings for a superior's "+kind+"; the device's instead", "channel", ch.ID, "err", err)
	}
	if node != "" {
		// A replay covers a day at most; our RecordInfo items may be longer.
		rend := end
		if rend.Sub(start) > recorderapi.MaxRange {
			rend = start.Add(recorderapi.MaxRange)
		}
		path, replay, err := s.openUpReplay(ctx, rl, kind, ch.ID, node, strconv.FormatUint(uint64(offer.SSRC), 10),
			start, rend, speed)
		if err == nil || !ch.Online {
			return path, "", replay, err
		}
		s.Log.Warn("replay of our recordings for a superior; the device's instead", "channel", ch.ID, "err", err)
	}
	ss, err := s.sessions.openSession(ctx, sipapi.SessionRequest{
		Kind: kind, ChannelID: ch.ID, Speed: speed, Owner: "platform:" + rl.cfg.ServerID, Start: start, End: end,
	})
	if err != nil {
		return "", "", nil, err
	}
	return ss.Path, ss.ID, nil, nil
}

// passedUp are the device's refusals a superior gets as they are: what
// they say holds for our answer too.
var passedUp = []int{
	sip.StatusNotFound, sip.StatusRequestTimeout, sip.StatusUnsupportedMediaType, sip.StatusTemporarilyUnavailable,
	sip.StatusBusyHere, sip.StatusNotAcceptableHere, sip.StatusGlobalBusyEverywhere, sip.StatusGlobalDecline,
	sip.StatusGlobalDoesNotExistAnywhere, sip.StatusGlobalNotAcceptable,
}

// sipStatusOf is the SIP answer to a superior for an error of ours or of
// the device behind us.
func sipStatusOf(err error) (int, string) {
	var rej *RejectedError
	switch {
	case errors.As(err, &rej) && slices.Contains(passedUp, rej.Code):
		return rej.Code, rej.Reason // the device's own answer, passed up
	case errors.As(err, &rej):
		// Its 481 would tell the superior our dialog is gone, a 401 ask it
		// for credentials it has no use for: a gateway's error instead.
		return sip.StatusBadGateway, "Device Refused"
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrUnknownDevice), errors.Is(err, ErrNoSession):
		return sip.StatusNotFound, "Not Found"
	case errors.Is(err, ErrOffline):
		return sip.StatusTemporarilyUnavailable, "Device Offline"
	case errors.Is(err, ErrInvalid), errors.Is(err, store.ErrInvalid), svcapi.CodeOf(err) == svcapi.CodeBadRequest:
		return sip.StatusBadRequest, "Bad Request"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return sip.StatusRequestTimeout, "Device Timeout"
	}
	return sip.StatusServiceUnavailable, "Service Unavailable"
}

// endUpRecording ends the device session an upward playback or download
// read, if it still runs.
func (s *Server) endUpRecording(u *upSession) {
	if u.replay != nil {
		s.endUpReplay(s.ctx, u.replay)
	}
	if u.sessionID == "" {
		return
	}
	if err := s.sessions.endSession(u.sessionID, ReasonUpwardEnded); err != nil && !errors.Is(err, ErrNoSession) {
		s.Log.Warn("end the device session of an upward stream", "session", u.sessionID, "err", err)
	}
}

// sessionEnded learns that a media session ended: an upward playback or
// download that read it ends too, and when the device said the recording
// was sent whole (MediaStatus 121) the superior hears it first, in the
// upward dialog, where superiors look for it. A platform's session that
// ends before its upward session is recorded (a short download) is
// remembered for it (endedEarly).
func (s *Server) sessionEnded(id, owner, reason string) {
	u := s.cascade.upBySession(id)
	if u == nil {
		if strings.HasPrefix(owner, "platform:") {
			s.cascade.rememberEnded(id, reason, s.now())
		}
		return
	}
	s.endUp(u, reason)
}

// endUp ends upward session u, already forgotten, whose playback or
// download ended for reason.
func (s *Server) endUp(u *upSession, reason string) {
	s.spawn(func() {
		// Our requests in the dialog wait for the superior's ACK of our
		// 200 (RFC 3261 §15); without one in time they go anyway. At
		// shutdown the row stays and the next start ends it.
		t := time.NewTimer(upAckTimeout)
		defer t.Stop()
		select {
		case <-u.acked:
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.Config.RequestTimeout.Std())
		defer cancel()
		if reason == ReasonMediaStatus {
			s.mediaStatusUp(ctx, u)
		}
		s.closeUp(ctx, u, "device_session_"+reason, true)
	})
}

// mediaStatusUp tells u's superior, in u's dialog, that the recording was
// sent whole (MediaStatus 121).
func (s *Server) mediaStatusUp(ctx context.Context, u *upSession) {
	msg := &manscdp.MediaStatusNotify{
		Header:     manscdp.Header{SN: int(s.now().UnixMilli() % 1_000_000_000), DeviceID: u.localUser},
		NotifyType: manscdp.NotifyTypeEndOfFile,
	}
	if err := u.rl.link.DialogMessage(ctx, u.dialog(), msg); err != nil {
		s.Log.Info("MediaStatus 121 to a superior platform", "platform", u.rl.cfg.ServerID, "channel", u.channelID, "err", err)
	}
}

// endedEarlyTTL is how long the end of a platform's session is remembered
// for its upward session: far longer than an INVITE's answer takes.
const endedEarlyTTL = time.Minute

// rememberEnded records that the platform's session id ended for reason
// before its upward session was recorded.
func (c *cascadeLinks) rememberEnded(id, reason string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.endedEarly {
		if now.Sub(e.at) > endedEarlyTTL {
			delete(c.endedEarly, k)
		}
	}
	c.endedEarly[id] = endedSession{reason: reason, at: now}
}

// endedEarly is a platform's session that ended before its upward session
// was recorded.
type endedSession struct {
	reason string
	at     time.Time
}

// takeEnded returns (and forgets) why session id ended early, if it did.
func (c *cascadeLinks) takeEnded(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.endedEarly[id]
	delete(c.endedEarly, id)
	return e.reason, ok
}

// upBySession returns (and forgets) the upward session that reads the
// media session id.
func (c *cascadeLinks) upBySession(id string) *upSession {
	return c.takeUpWhere(func(u *upSession) bool { return u.sessionID == id })
}

// upInDialog returns the upward session whose dialog req (an INFO of its
// superior) is in; it stays.
func (c *cascadeLinks) upInDialog(req *sip.Request) *upSession { return c.upOfDialog(req, false) }

// onInfo relays a superior's MANSRTSP (pause, resume, seek, scale) in an
// upward playback to the device's playback session, and answers with the
// device's verdict. Devices send no INFO to a platform: 405 as before.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	// Right after our start, the links and the last run's sessions first.
	s.cascade.waitRestored(s.Config.RequestTimeout.Std())
	rl, ok := s.superiorRequest(req, tx)
	if !ok {
		return
	}
	log := s.Log.With("platform", rl.cfg.ServerID, "call_id", req.CallID().Value())
	u := s.cascade.upInDialog(req)
	if u == nil && s.cascade.waitRestored(s.Config.RequestTimeout.Std()) {
		u = s.cascade.upInDialog(req)
	}
	if u == nil || u.rl != rl {
		s.metrics.dialogMismatch.WithLabelValues(req.Method.String()).Inc()
		s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	r, err := mansrtsp.ParseRequest(req.Body())
	if err != nil {
		log.Warn("bad MANSRTSP from a superior platform", "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Bad MANSRTSP")
		return
	}
	if u.kind != sipapi.KindPlayback {
		s.reply(req, tx, sip.StatusNotAcceptableHere, "Only Playback Takes Control")
		return
	}
	if r.Method == mansrtsp.MethodTeardown {
		// The superior's BYE follows; TEARDOWN alone ends the stream too.
		s.reply(req, tx, sip.StatusOK, "OK")
		if s.cascade.takeUp(u) {
			s.background(func(ctx context.Context) { s.closeUp(ctx, u, "superior_teardown", true) })
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Config.RequestTimeout.Std())
	defer cancel()
	for _, c := range upControls(r) {
		var err error
		if u.replay != nil {
			err = s.controlUpReplay(ctx, u.replay, c)
		} else {
			err = s.sessions.controlPlayback(ctx, u.sessionID, c.action, c.position, c.scale)
		}
		if err != nil {
			log.Info("relay a superior's playback control", "channel", u.channelID, "action", c.action, "err", err)
			code, reason := sipStatusOf(err)
			s.reply(req, tx, code, reason)
			return
		}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", mansrtsp.NewResponse(r.CSeq, 200).Marshal())
	ct := sip.ContentTypeHeader("Application/MANSRTSP")
	res.AppendHeader(&ct)
	s.respond(req, tx, res)
}

// upControl is one playback control of ours.
type upControl struct {
	action   string
	position time.Duration
	scale    float64
}

// upControls maps a superior's MANSRTSP request to the controls of our
// playback session: PAUSE pauses; a PLAY seeks when it has a Range other
// than now, changes speed when it has a Scale, and resumes otherwise.
func upControls(r *mansrtsp.Request) []upControl {
	if r.Method == mansrtsp.MethodPause {
		return []upControl{{action: "pause"}}
	}
	var out []upControl
	if r.Range != nil && !r.Range.Now {
		out = append(out, upControl{action: "seek", position: r.Range.Start})
	}
	if r.Scale != 0 {
		out = append(out, upControl{action: "scale", scale: min(max(r.Scale, -16), 16)})
	}
	if len(out) == 0 {
		out = append(out, upControl{action: "resume"})
	}
	return out
}

// dialog is u's dialog for our next request in it.
func (u *upSession) dialog() uplink.Dialog {
	return uplink.Dialog{
		CallID: u.callID, LocalTag: u.localTag, RemoteTag: u.remoteTag, LocalUser: u.localUser,
		RemoteTarget: u.remoteTarget, CSeq: u.cseq.Add(1),
	}
}
