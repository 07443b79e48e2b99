package gbsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// ackTimeout is how long a 200 to an INVITE waits for its ACK (64*T1).
const ackTimeout = 32 * time.Second

// session is one INVITE dialog: a live, playback or download stream of a
// channel.
type session struct {
	dev    *device
	ch     *channel
	callID string
	kind   string // sdp.SessionPlay, SessionPlayback or SessionDownload
	ssrc   uint32
	// invite and toTag (ours) let the device hang up itself (Sim.Hangup).
	invite *sip.Request
	toTag  string

	transport sdp.Transport
	remote    string       // where media goes (UDP) or whom we dial (TCP)
	udp       *net.UDPConn // UDP: our sending socket, bound before answering
	listener  net.Listener // TCP: we listen (platform offered setup:active)

	// Playback window and speed.
	start, end time.Time
	scale      float64

	ctrl   chan mansrtsp.Request
	acked  chan struct{}
	ackOne sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func (s *session) stop() {
	s.cancel()
	if s.listener != nil {
		s.listener.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
}

func (d *device) onInvite(req *sip.Request, tx *sip.ServerTx) {
	callID := req.CallID().Value()
	d.mu.Lock()
	_, reinvite := d.sessions[callID]
	d.mu.Unlock()
	if reinvite {
		_ = tx.Respond(response(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	if d.sim.cfg.MediaOff {
		_ = tx.Respond(response(req, sip.StatusServiceUnavailable, "Media Off", nil))
		return
	}
	chID := req.Recipient.User
	if chID == "" || d.channel(chID) == nil {
		chID = req.To().Address.User
	}
	c := d.channel(chID)
	if c == nil {
		_ = tx.Respond(response(req, sip.StatusNotFound, "Not Found", nil))
		return
	}
	offer, err := sdp.Parse(req.Body())
	if offer == nil {
		d.log.Warn("bad INVITE SDP", "channel_id", c.id, "err", err)
		_ = tx.Respond(response(req, sip.StatusBadRequest, "Bad SDP", nil))
		return
	}
	if delay := d.sim.cfg.Faults.InviteDelay; delay > 0 {
		cancelled := make(chan struct{})
		var once sync.Once
		tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) })
		_ = tx.Respond(response(req, sip.StatusTrying, "Trying", nil))
		wait := time.NewTimer(delay)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-d.sim.ctx.Done():
			return
		case <-cancelled:
			// CANCEL: the transaction answered 487 itself.
			d.sim.stats.cancels.Add(1)
			d.log.Info("INVITE cancelled", "channel_id", c.id)
			return
		}
	}
	s, answer, err := d.newSession(c, callID, offer)
	if err != nil {
		d.log.Warn("INVITE refused", "channel_id", c.id, "err", err)
		_ = tx.Respond(response(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	res := response(req, sip.StatusOK, "OK", answer.Marshal())
	s.invite, s.toTag = req, newToken(6)
	res.To().Params.Add("tag", s.toTag)
	ep := d.txEndpoint(tx)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.id, Host: ep.local.IP.String(), Port: ep.local.Port}})
	ct := sip.ContentTypeHeader("APPLICATION/SDP")
	res.AppendHeader(&ct)
	d.mu.Lock()
	d.sessions[callID] = s
	d.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		d.endSession(s)
		return
	}
	d.log.Info("INVITE accepted", "channel_id", c.id, "session", s.kind, "transport", s.transport.String(),
		"remote", s.remote, "ssrc", fmt.Sprintf("%010d", s.ssrc), "codec", c.codec.String())
	if !d.sim.spawn(func() { s.awaitAck(res, ep) }) {
		d.endSession(s)
	}
}

// awaitAck retransmits the 2xx over UDP until the ACK comes (RFC 3261
// 13.3.1.4: the UAS core, not the transaction, does this), then streams.
func (s *session) awaitAck(res *sip.Response, ep *endpoint) {
	deadline := time.NewTimer(ackTimeout)
	defer deadline.Stop()
	interval := sip.T1
	var retrans <-chan time.Time
	var t *time.Timer
	if ep.network == "UDP" {
		t = time.NewTimer(interval)
		defer t.Stop()
		retrans = t.C
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.acked:
			s.dev.sim.stats.streams.Add(1)
			defer s.dev.sim.stats.streams.Add(-1)
			if err := s.stream(); err != nil && s.ctx.Err() == nil {
				s.dev.log.Warn("media stream ended", "channel_id", s.ch.id, "err", err)
			}
			return
		case <-retrans:
			_ = ep.WriteMsg(res)
			interval = min(interval*2, 4*time.Second)
			t.Reset(interval)
		case <-deadline.C:
			s.dev.log.Warn("no ACK for INVITE 200", "channel_id", s.ch.id)
			s.dev.endSession(s)
			return
		}
	}
}

// newSession reads the offer and prepares the media path and the answer.
func (d *device) newSession(c *channel, callID string, offer *sdp.Session) (*session, *sdp.Session, error) {
	var m *sdp.Media
	for _, x := range offer.Medias {
		if x.Type == sdp.MediaVideo {
			m = x
			break
		}
	}
	if m == nil {
		return nil, nil, fmt.Errorf("%w: no video m= line", ErrUnsupportedOffer)
	}
	s := &session{
		dev:    d,
		ch:     c,
		callID: callID,
		kind:   offer.Name,
		scale:  1,
		ctrl:   make(chan mansrtsp.Request, 8),
		acked:  make(chan struct{}),
	}
	switch strings.ToLower(offer.Name) {
	case "playback", "download":
		if offer.Time.Start == 0 || offer.Time.Stop <= offer.Time.Start {
			return nil, nil, fmt.Errorf("%w: %s without a t= range", ErrUnsupportedOffer, offer.Name)
		}
		s.start, s.end = offer.Time.StartTime(), offer.Time.StopTime()
		if strings.EqualFold(offer.Name, sdp.SessionDownload) && m.DownloadSpeed > 0 {
			s.scale = float64(m.DownloadSpeed)
		}
	case "play", "":
	default:
		return nil, nil, fmt.Errorf("%w: s=%s", ErrUnsupportedOffer, offer.Name)
	}
	if offer.SSRCStatus == sdp.SSRCValid {
		s.ssrc = uint32(offer.SSRC)
	} else {
		// No usable y=: make one up the way the standard builds them.
		prefix := "0"
		if s.start != (time.Time{}) {
			prefix = "1"
		}
		dom, _ := sdp.DomainDigits(d.sim.cfg.ServerID)
		v, _ := strconv.ParseUint(fmt.Sprintf("%s%s%04d", prefix, dom, rand.IntN(10000)), 10, 32)
		s.ssrc = uint32(v)
	}
	host := m.Connection.Address
	if host == "" {
		host = offer.Connection.Address
	}
	s.remote = net.JoinHostPort(host, strconv.Itoa(m.Port))
	localIP := d.sim.cfg.LocalIP

	answerMedia := &sdp.Media{
		Type:      sdp.MediaVideo,
		Proto:     m.Proto,
		Formats:   []uint8{96},
		Direction: sdp.DirectionSendOnly,
		RTPMaps:   []sdp.RTPMap{{PayloadType: 96, EncodingName: "PS", ClockRate: 90000}},
	}
	if m.IsTCP() {
		answerMedia.ConnectionMode = sdp.ConnectionNew
		if m.Setup == sdp.SetupActive {
			// The platform connects: we listen and announce our port.
			ln, err := net.Listen("tcp", net.JoinHostPort(localIP, "0"))
			if err != nil {
				return nil, nil, fmt.Errorf("listen for TCP media: %w", err)
			}
			s.listener = ln
			s.transport = sdp.TransportTCPActive
			answerMedia.Setup = sdp.SetupPassive
			answerMedia.Port = ln.Addr().(*net.TCPAddr).Port
		} else {
			// passive, actpass or nothing: we connect; the port is nominal.
			s.transport = sdp.TransportTCPPassive
			answerMedia.Setup = sdp.SetupActive
			answerMedia.Port = 9
		}
	} else {
		raddr, err := net.ResolveUDPAddr("udp", s.remote)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: media address %s: %w", ErrUnsupportedOffer, s.remote, err)
		}
		conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)}, raddr)
		if err != nil {
			return nil, nil, fmt.Errorf("open UDP media socket: %w", err)
		}
		s.udp = conn
		s.transport = sdp.TransportUDP
		answerMedia.Port = conn.LocalAddr().(*net.UDPAddr).Port
	}
	if strings.EqualFold(offer.Name, sdp.SessionDownload) {
		answerMedia.FileSize = int64(s.end.Sub(s.start).Seconds() * recordBitrate / 8)
	}
	answer := &sdp.Session{
		Origin:     sdp.Origin{Username: c.id, SessionID: "0", SessionVersion: "0", NetType: "IN", AddrType: "IP4", Address: localIP},
		Name:       offer.Name,
		URI:        offer.URI,
		Connection: sdp.Connection{NetType: "IN", AddrType: "IP4", Address: localIP},
		Time:       offer.Time,
		Medias:     []*sdp.Media{answerMedia},
	}
	if answer.Name == "" {
		answer.Name = sdp.SessionPlay
	}
	answer.SetSSRC(sdp.SSRC(s.ssrc))
	s.ctx, s.cancel = context.WithCancel(d.sim.ctx)
	return s, answer, nil
}

func (d *device) session(req *sip.Request) *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[req.CallID().Value()]
}

func (d *device) onAck(req *sip.Request) {
	if s := d.session(req); s != nil {
		s.ackOne.Do(func() { close(s.acked) })
	}
}

func (d *device) onBye(req *sip.Request, tx *sip.ServerTx) {
	s := d.session(req)
	if s == nil {
		_ = tx.Respond(response(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
	d.sim.stats.byes.Add(1)
	d.log.Info("BYE", "channel_id", s.ch.id, "session", s.kind)
	d.endSession(s)
}

func (d *device) endSession(s *session) {
	d.mu.Lock()
	delete(d.sessions, s.callID)
	d.mu.Unlock()
	s.stop()
}

// onInfo applies MANSRTSP playback control (Annex B) to a session.
func (d *device) onInfo(req *sip.Request, tx *sip.ServerTx) {
	s := d.session(req)
	if s == nil {
		_ = tx.Respond(response(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	r, err := mansrtsp.ParseRequest(req.Body())
	if err != nil {
		d.log.Warn("bad MANSRTSP", "err", err)
		_ = tx.Respond(response(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	d.log.Info("playback control", "channel_id", s.ch.id, "method", r.Method, "scale", r.Scale, "range", r.Range)
	if r.Method == mansrtsp.MethodTeardown {
		_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
		d.endSession(s)
		return
	}
	// Queued before the 200, so that the stream applies it before anything
	// the platform does after the answer.
	select {
	case s.ctrl <- *r:
	default:
	}
	_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
}
