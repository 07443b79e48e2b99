package whep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// SessionStats is a snapshot of one WHEP session, for the gateway's API.
type SessionStats struct {
	// ID is the session's identifier, the last element of its URL.
	ID string
	// Path is the stream path.
	Path string
	// Remote is the HTTP client address of the POST.
	Remote string
	// Since is when the session was created.
	Since time.Time
	// State is the peer connection state: new, connecting, connected,
	// disconnected, failed or closed.
	State string
	// VideoCodec and AudioCodec are what the session sends ("" for none),
	// e.g. "H264/96 profile-level-id=42e01f" and "PCMA/8".
	VideoCodec, AudioCodec string
	// Packets and Bytes count the RTP packets sent and their size (12-byte
	// header included, SRTP overhead and retransmissions excluded).
	Packets, Bytes uint64
	// Units counts the access units sent; Skipped counts units of a track
	// the session does not send (AAC, or a codec the player lacks).
	Units, Skipped uint64
	// NACKs counts the packets the player asked to be retransmitted, PLIs
	// its picture loss indications (answered by the next keyframe only:
	// the gateway does not encode).
	NACKs, PLIs uint64
	// Reader is the hub reader's name, to find it in the stream's stats.
	Reader string
	// Queued is the number of units waiting in the reader's queue.
	Queued int
}

// sessionTrack is one outgoing track and its packetizer.
type sessionTrack struct {
	codec  ps.Codec
	format rtpFormat
	track  *webrtc.TrackLocalStaticRTP
	pkt    *packetizer
}

// String names the track's format for stats and logs, "" for no track.
func (t *sessionTrack) String() string {
	if t == nil {
		return ""
	}
	s := fmt.Sprintf("%s/%d", t.format.name, t.format.payloadType)
	if plid, ok := t.format.fmtpParam("profile-level-id"); ok {
		s += " profile-level-id=" + plid
	}
	return s
}

// session is one WHEP viewer: a peer connection fed from a hub reader by
// the run goroutine, which owns the send path and the cleanup.
type session struct {
	srv    *Server
	id     string
	path   string
	remote string
	// token is the play token the session was admitted with (Viewers).
	token string
	etag  string
	since time.Time
	log   *slog.Logger
	ufrag string // the player's ICE ufrag

	reader  *hub.Reader
	pending []hub.Unit // taken from the reader before negotiation
	pc      *webrtc.PeerConnection
	video   *sessionTrack
	audio   *sessionTrack

	ctx       context.Context
	cancel    context.CancelCauseFunc
	connected chan struct{}
	connOnce  sync.Once
	done      chan struct{}
	rtcpWG    sync.WaitGroup

	state                 atomic.Int32 // webrtc.PeerConnectionState
	packets, bytes        atomic.Uint64
	units, skipped        atomic.Uint64
	nacks, plis           atomic.Uint64
	closeOnce, finishOnce sync.Once
}

// newSession negotiates a session for an offer on reader's stream and
// returns it with the SDP answer, ICE gathering complete. It takes reader:
// on error the reader is closed.
func (s *Server) newSession(ctx context.Context, req access.Request, o *offer, reader *hub.Reader) (*session, string, error) {
	id, err := randomHex(16)
	if err != nil {
		reader.Close()
		return nil, "", err
	}
	etag, err := randomHex(8)
	if err != nil {
		reader.Close()
		return nil, "", err
	}
	sess := &session{
		srv:       s,
		id:        id,
		path:      req.Path,
		remote:    req.Remote,
		token:     req.Token,
		etag:      `"` + etag + `"`,
		since:     time.Now(),
		log:       s.Log.With("session", id, "path", req.Path, "remote", req.Remote),
		ufrag:     o.ufrag,
		reader:    reader,
		connected: make(chan struct{}),
		done:      make(chan struct{}),
	}
	sess.state.Store(int32(webrtc.PeerConnectionStateNew))
	sess.ctx, sess.cancel = context.WithCancelCause(context.Background())
	answer, err := sess.negotiate(ctx, o)
	if err != nil {
		sess.cancel(err)
		sess.close()
		return nil, "", fmt.Errorf("whep session %s: %w", id, err)
	}
	return sess, answer, nil
}

// negotiate picks the tracks, builds the peer connection and answers o.
func (sess *session) negotiate(ctx context.Context, o *offer) (string, error) {
	plid := sess.peekProfile()
	tracks := sess.reader.Tracks()
	me := &webrtc.MediaEngine{}

	switch vc := access.VideoCodec(tracks); vc {
	case ps.CodecUnknown:
	case ps.CodecH264:
		f, ok := chooseH264(o.h264, plid)
		if !ok {
			return "", fmt.Errorf("%w: no H.264 with packetization-mode=1 offered", ErrBadOffer)
		}
		// NACK only: the gateway relays, it cannot make a keyframe on PLI,
		// but players expect to be allowed to send one.
		fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
		t, err := sess.addFormat(me, vc, f, webrtc.MimeTypeH264, webrtc.RTPCodecTypeVideo, fb)
		if err != nil {
			return "", err
		}
		sess.video = t
	default:
		return "", fmt.Errorf("stream video is %s, WHEP sends H.264 only: %w", vc, access.ErrUnavailable)
	}

	if ac := audioCodec(tracks); ac != ps.CodecUnknown {
		var f *rtpFormat
		var mime string
		switch ac {
		case ps.CodecG711A:
			f, mime = o.pcma, webrtc.MimeTypePCMA
		case ps.CodecG711U:
			f, mime = o.pcmu, webrtc.MimeTypePCMU
		}
		switch {
		case mime == "":
			sess.log.Info("audio not sent: WHEP sends G.711 only", "codec", ac)
		case f == nil:
			sess.log.Info("audio not sent: player did not offer it", "codec", ac)
		default:
			t, err := sess.addFormat(me, ac, *f, mime, webrtc.RTPCodecTypeAudio, nil)
			if err != nil {
				return "", err
			}
			sess.audio = t
		}
	}
	if sess.video == nil && sess.audio == nil {
		return "", fmt.Errorf("%w: no common codec with stream tracks %v", ErrBadOffer, tracks)
	}

	ir := &interceptor.Registry{}
	responder, err := nack.NewResponderInterceptor()
	if err != nil {
		return "", fmt.Errorf("nack responder: %w", err)
	}
	ir.Add(responder)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return "", fmt.Errorf("rtcp reports: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(sess.srv.settings),
		webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", fmt.Errorf("new peer connection: %w", err)
	}
	sess.pc = pc
	pc.OnConnectionStateChange(sess.onState)

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.sdp}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	for _, t := range []*sessionTrack{sess.video, sess.audio} {
		if t == nil {
			continue
		}
		sender, err := pc.AddTrack(t.track)
		if err != nil {
			return "", fmt.Errorf("add %s track: %w", t.codec, err)
		}
		// Reading RTCP drives the interceptors (NACK responder, reports).
		sess.rtcpWG.Go(func() { sess.readRTCP(sender) })
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create answer: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set answer: %w", err)
	}
	// One UDP mux and no STUN: gathering takes microseconds, but stay
	// bounded by the request.
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// addFormat registers f with the media engine and makes its track.
func (sess *session) addFormat(me *webrtc.MediaEngine, codec ps.Codec, f rtpFormat, mime string,
	kind webrtc.RTPCodecType, fb []webrtc.RTCPFeedback,
) (*sessionTrack, error) {
	capability := webrtc.RTPCodecCapability{
		MimeType:     mime,
		ClockRate:    f.clockRate,
		SDPFmtpLine:  f.fmtp,
		RTCPFeedback: fb,
	}
	err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: capability,
		PayloadType:        webrtc.PayloadType(f.payloadType),
	}, kind)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", mime, err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(capability, kind.String(), "sharpeyes")
	if err != nil {
		return nil, fmt.Errorf("%s track: %w", mime, err)
	}
	return &sessionTrack{
		codec:  codec,
		format: f,
		track:  track,
		pkt:    newPacketizer(int64(f.clockRate), kind == webrtc.RTPCodecTypeVideo),
	}, nil
}

// audioCodec returns the first audio codec of tracks, CodecUnknown if none.
func audioCodec(tracks []ps.Codec) ps.Codec {
	for _, c := range tracks {
		if c.IsAudio() {
			return c
		}
	}
	return ps.CodecUnknown
}

// maxPeek bounds the units taken from the reader to find the first video
// unit; the GOP cache starts with it, so one or two suffice.
const maxPeek = 16

// peekProfile takes the units already queued up to the first video unit
// and returns the H.264 profile-level-id of its SPS ("" if none), so that
// the answer names the stream's profile. The taken units are sent first.
func (sess *session) peekProfile() string {
	for len(sess.pending) < maxPeek {
		select {
		case u, ok := <-sess.reader.Units():
			if !ok {
				return ""
			}
			sess.pending = append(sess.pending, u)
			if u.Codec.IsVideo() {
				plid, _ := h264ProfileLevelID(u.Payload)
				return plid
			}
		default:
			return ""
		}
	}
	return ""
}

// onState follows the peer connection: connected starts the send loop,
// failed or closed ends the session. Disconnected only logs: ICE turns it
// into failed after the failed timeout, or back into connected.
func (sess *session) onState(st webrtc.PeerConnectionState) {
	sess.state.Store(int32(st))
	switch st {
	case webrtc.PeerConnectionStateConnected:
		sess.connOnce.Do(func() {
			sess.log.Info("session connected", "after", time.Since(sess.since).Round(time.Millisecond))
			close(sess.connected)
		})
	case webrtc.PeerConnectionStateDisconnected:
		sess.log.Info("session disconnected")
	case webrtc.PeerConnectionStateFailed:
		sess.cancel(ErrConnectionFailed)
	case webrtc.PeerConnectionStateClosed:
		sess.cancel(ErrConnectionClosed)
	}
}

// readRTCP reads the player's RTCP for sender until the connection closes.
func (sess *session) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				var n uint64
				for _, pair := range p.Nacks {
					n += uint64(len(pair.PacketList()))
				}
				sess.nacks.Add(n)
			case *rtcp.PictureLossIndication:
				sess.plis.Add(1)
			}
		}
	}
}

// readerPoll is how often the reader is checked while the connection is
// being established: units stay queued until then, so its closing (stream
// end, slow reader) is not seen on the channel.
const readerPoll = 100 * time.Millisecond

// run waits for DTLS, then sends the reader's units until the reader or
// the connection ends, and cleans up.
func (sess *session) run(timeout time.Duration) {
	defer sess.finish()
	// Units wait in the reader's queue, GOP cache first: pion drops what is
	// written before SRTP is up, and the keyframe must not be lost.
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(readerPoll)
	defer poll.Stop()
wait:
	for {
		select {
		case <-sess.connected:
			break wait
		case <-deadline.C:
			sess.cancel(fmt.Errorf("%w after %v", ErrConnectTimeout, timeout))
			return
		case <-poll.C:
			if err := sess.reader.Err(); err != nil {
				sess.cancel(fmt.Errorf("reader: %w", err))
				return
			}
		case <-sess.ctx.Done():
			return
		}
	}
	poll.Stop()

	for _, u := range sess.pending {
		if err := sess.send(u); err != nil {
			sess.cancel(err)
			return
		}
	}
	sess.pending = nil
	units := sess.reader.Units()
	for {
		select {
		case u, ok := <-units:
			if !ok {
				sess.cancel(fmt.Errorf("reader: %w", sess.reader.Err()))
				return
			}
			if err := sess.send(u); err != nil {
				sess.cancel(err)
				return
			}
		case <-sess.ctx.Done():
			return
		}
	}
}

// send packetizes u onto its track, or counts it as skipped.
func (sess *session) send(u hub.Unit) error {
	var t *sessionTrack
	switch {
	case sess.video != nil && u.Codec == sess.video.codec:
		t = sess.video
	case sess.audio != nil && u.Codec == sess.audio.codec:
		t = sess.audio
	default:
		sess.skipped.Add(1)
		return nil
	}
	err := t.pkt.packetize(u, func(p *rtp.Packet) error {
		if err := t.track.WriteRTP(p); err != nil {
			return err
		}
		sess.packets.Add(1)
		sess.bytes.Add(uint64(p.Header.MarshalSize() + len(p.Payload)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", t.codec, err)
	}
	sess.units.Add(1)
	return nil
}

// close releases the reader and the peer connection; safe to call twice.
func (sess *session) close() {
	sess.closeOnce.Do(func() {
		sess.reader.Close()
		if sess.pc != nil {
			if err := sess.pc.Close(); err != nil {
				sess.log.Debug("close peer connection", "error", err)
			}
		}
		sess.rtcpWG.Wait()
	})
}

// finish ends a session that was running: cleanup, unregister, log why.
func (sess *session) finish() {
	sess.finishOnce.Do(func() {
		sess.cancel(nil) // no-op when a cause was set
		sess.close()
		sess.srv.remove(sess)
		reason := context.Cause(sess.ctx)
		if errors.Is(reason, context.Canceled) {
			reason = nil
		}
		sess.log.Info("session ended", "reason", reason,
			"duration", time.Since(sess.since).Round(time.Millisecond),
			"units", sess.units.Load(), "packets", sess.packets.Load(),
			"nacks", sess.nacks.Load(), "plis", sess.plis.Load())
		close(sess.done)
	})
}

// stats returns a snapshot of the session.
func (sess *session) stats() SessionStats {
	return SessionStats{
		ID:         sess.id,
		Path:       sess.path,
		Remote:     sess.remote,
		Since:      sess.since,
		State:      webrtc.PeerConnectionState(sess.state.Load()).String(),
		VideoCodec: sess.video.String(),
		AudioCodec: sess.audio.String(),
		Packets:    sess.packets.Load(),
		Bytes:      sess.bytes.Load(),
		Units:      sess.units.Load(),
		Skipped:    sess.skipped.Load(),
		NACKs:      sess.nacks.Load(),
		PLIs:       sess.plis.Load(),
		Reader:     sess.reader.Name(),
		Queued:     len(sess.reader.Units()),
	}
}
