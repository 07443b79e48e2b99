package rtsp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtcp"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// aacWait bounds, in 90 kHz ticks after the first keyframe, how long the
// description waits for the first AAC unit (its config is in the ADTS
// header); after it the stream is described without that track.
const aacWait = 90000

// activationWait bounds how long the writer holds a keyframe back while
// released PLAY requests are answered; a healthy session takes
// microseconds, so this only matters for a stuck one.
const activationWait = time.Second

// heldRetry is how long the writer of a held stream waits before it
// offers a packet again to a session whose write queue is full.
const heldRetry = 2 * time.Millisecond

// playWaiter is a PLAY waiting for the next keyframe.
type playWaiter struct {
	// release is closed by the writer just before it sends a keyframe.
	release chan struct{}
	// active is closed once the PLAY response is being sent, that is once
	// gortsplib has made the session a reader of the stream.
	active     chan struct{}
	activeOnce sync.Once
	// ss and st are the session and its stream; ok is set (under
	// Server.mu) when the PLAY is answered 200, so that a held stream
	// writes to the session from its activation on.
	ss *gortsplib.ServerSession
	st *stream
	ok bool
}

func (w *playWaiter) activated() { w.activeOnce.Do(func() { close(w.active) }) }

// stream is the ServerStream of one path, shared by every RTSP session
// reading it and fed by one hub reader.
type stream struct {
	s    *Server
	path string
	log  *slog.Logger

	// ready is closed once setup finished; err says whether it failed.
	ready chan struct{}
	err   error

	reader   *hub.Reader
	ss       *gortsplib.ServerStream
	tracks   map[ps.Codec]*track
	hasVideo bool

	// held is set when the hub reader is the first reader of a held stream
	// (a download): the stream then starts at that reader's first keyframe
	// when the first session plays, writes to each session without loss
	// (waiting while its queue is full) and, when the hub stream has ended,
	// sends RTCP BYE so that readers see the end (ffmpeg finishes its file).
	held bool
	// backlog are the units describe read from the first keyframe on, for
	// the first session (held only; owned by setup, then by run).
	backlog []hub.Unit
	// firstPlay is closed by the first PLAY waiting on the stream.
	firstPlay     chan struct{}
	firstPlayOnce sync.Once

	ctx    context.Context
	cancel context.CancelCauseFunc

	// Guarded by Server.mu.
	sessions map[*gortsplib.ServerSession]struct{}
	pending  map[*gortsplib.ServerConn]uint64
	closed   bool

	wmu     sync.Mutex
	waiters []*playWaiter
	// active are the sessions a held stream writes to, in order of
	// activation; sessions that closed are skipped (Server.sessions).
	active []*gortsplib.ServerSession

	// Owned by the writer goroutine.
	ptsBase    int64
	ntpBase    time.Time
	encodeErrs uint64

	units atomic.Uint64
}

func newStream(s *Server, path string) *stream {
	ctx, cancel := context.WithCancelCause(s.ctx)
	return &stream{
		s:         s,
		path:      path,
		log:       s.Log.With("path", path),
		ready:     make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		sessions:  make(map[*gortsplib.ServerSession]struct{}),
		pending:   make(map[*gortsplib.ServerConn]uint64),
		tracks:    make(map[ps.Codec]*track),
		firstPlay: make(chan struct{}),
	}
}

// setup attaches the hub reader and describes the stream from its first
// units; the caller then starts run. It runs in the request that created
// the stream; ready is closed when it returns.
func (st *stream) setup(req access.Request) (err error) {
	defer func() {
		st.err = err
		close(st.ready)
	}()
	ctx, cancel := context.WithTimeout(st.ctx, st.s.ReadTimeout)
	defer cancel()

	r, err := st.s.Source.Read(ctx, req)
	if err != nil {
		return err
	}
	st.held = r.Held()
	desc, err := st.describe(ctx, r)
	if err != nil {
		r.Close()
		return err
	}
	st.reader = r
	st.ss = &gortsplib.ServerStream{Server: st.s.srv, Desc: desc}
	if err := st.ss.Initialize(); err != nil {
		r.Close()
		return fmt.Errorf("initialize stream: %w", err)
	}
	codecs := make([]string, 0, len(desc.Medias))
	for _, c := range r.Tracks() {
		if st.tracks[c] != nil {
			codecs = append(codecs, c.String())
		}
	}
	st.log.Info("rtsp stream opened", "tracks", codecs, "reader", r.Name(), "held", st.held)
	return nil
}

// describe reads r until the tracks can be described: the first video
// keyframe with its parameter sets and, for AAC, the first ADTS header.
// The units read meanwhile are dropped, nobody plays the stream yet; a held
// stream keeps them from that keyframe on for its first session.
func (st *stream) describe(ctx context.Context, r *hub.Reader) (*description.Session, error) {
	codecs := r.Tracks()
	video := access.VideoCodec(codecs)
	wantAAC := false
	for _, c := range codecs {
		wantAAC = wantAAC || c == ps.CodecAAC
	}
	var vt *track
	var aac *mpeg4audio.AudioSpecificConfig
	var keyPTS int64
	for (video != ps.CodecUnknown && vt == nil) || (wantAAC && aac == nil) {
		u, err := r.Next(ctx)
		if err != nil {
			if vt != nil && ctx.Err() != nil {
				break // describe without AAC rather than fail
			}
			if video != ps.CodecUnknown && vt == nil {
				return nil, fmt.Errorf("wait for keyframe: %w: %w", ErrNoKeyframe, err)
			}
			return nil, fmt.Errorf("wait for AAC config: %w", err)
		}
		switch {
		case u.Codec == video && u.Keyframe && vt == nil:
			p, ok := findParamSets(video, u.Payload)
			if !ok {
				continue // wait for a keyframe that carries them
			}
			if vt, err = newVideoTrack(video, p); err != nil {
				return nil, err
			}
			keyPTS = u.PTS
		case u.Codec == ps.CodecAAC && aac == nil:
			if aac, err = aacConfig(u.Payload); err != nil {
				st.log.Warn("cannot read AAC config", "error", err)
				aac = nil
			}
		}
		if st.held && vt != nil {
			st.backlog = append(st.backlog, u)
		}
		if vt != nil && wantAAC && aac == nil && u.PTS-keyPTS > aacWait {
			st.log.Warn("no AAC config after the first keyframe, describing without audio")
			wantAAC = false
		}
	}

	desc := &description.Session{Title: "sharpeyes " + st.path}
	if vt != nil {
		st.tracks[video] = vt
		st.hasVideo = true
		desc.Medias = append(desc.Medias, vt.media)
	}
	for _, c := range codecs {
		if !c.IsAudio() || st.tracks[c] != nil || (c == ps.CodecAAC && aac == nil) {
			continue
		}
		t, err := newAudioTrack(c, aac)
		if err != nil {
			st.log.Warn("skipping audio track", "codec", c.String(), "error", err)
			continue
		}
		st.tracks[c] = t
		desc.Medias = append(desc.Medias, t.media)
	}
	if len(desc.Medias) == 0 {
		return nil, fmt.Errorf("tracks %v: %w", codecs, ErrNoTracks)
	}
	return desc, nil
}

// run writes the hub units to the ServerStream until the hub reader ends
// or the stream is closed.
func (st *stream) run() {
	var reason error
	defer func() {
		// Closing the ServerStream closes the sessions reading it; their
		// OnSessionClose then finds the stream gone.
		st.s.dropStream(st)
		st.ss.Close()
		st.reader.Close()
		st.wakeWaiters()
		st.log.Info("rtsp stream closed", "reason", reason, "units", st.units.Load())
	}()
	if st.held {
		// A download starts when its reader plays, at its first keyframe.
		select {
		case <-st.firstPlay:
		case <-st.ctx.Done():
			reason = context.Cause(st.ctx)
			return
		}
		for i, u := range st.backlog {
			st.backlog[i] = hub.Unit{}
			st.write(u)
		}
		st.backlog = nil
	}
	for {
		select {
		case u, ok := <-st.reader.Units():
			if !ok {
				err := st.reader.Err()
				reason = fmt.Errorf("hub reader ended: %w", err)
				if st.held && errors.Is(err, hub.ErrStreamEnded) {
					st.finish()
				}
				return
			}
			st.write(u)
		case <-st.ctx.Done():
			reason = context.Cause(st.ctx)
			return
		}
	}
}

// finish ends a held stream that was given all of its media: each session
// gets RTCP BYE on every track after its last packet (a reader takes BYE on
// all tracks as the end of the stream: ffmpeg then writes the end of its
// file and tears down), and the stream waits, at most WriteTimeout, for the
// sessions to leave before it closes them.
func (st *stream) finish() {
	for _, ss := range st.activeSessions() {
		for _, t := range st.tracks {
			// The reason makes the packet longer than an RTP header:
			// ffmpeg ignores anything shorter on an RTP channel.
			bye := &rtcp.Goodbye{Sources: []uint32{localSSRC(ss, t.media)}, Reason: "end of stream"}
			if err := st.writeHeld(ss, func() error { return ss.WritePacketRTCP(t.media, bye) }); err != nil {
				break
			}
		}
	}
	st.log.Info("rtsp held stream sent in full, BYE sent", "units", st.units.Load())
	timer := time.NewTimer(st.s.WriteTimeout)
	defer timer.Stop()
	select {
	case <-st.ctx.Done(): // the last session left
	case <-timer.C:
	}
}

// localSSRC returns the SSRC the session sends media with, for its BYE.
func localSSRC(ss *gortsplib.ServerSession, medi *description.Media) uint32 {
	for _, f := range ss.Stats().Medias[medi].Formats {
		return f.LocalSSRC
	}
	return 0
}

// write sends one unit to every playing session.
func (st *stream) write(u hub.Unit) {
	t := st.tracks[u.Codec]
	if t == nil {
		return // a codec that was not described
	}
	if u.Keyframe && (u.Codec.IsVideo() || !st.hasVideo) {
		st.releaseWaiters()
	}
	pkts, newParams, err := t.packets(u)
	if err != nil {
		st.encodeErrs++
		if st.encodeErrs == 1 || st.encodeErrs%1000 == 0 {
			st.log.Warn("cannot packetize unit", "codec", u.Codec.String(), "error", err, "errors", st.encodeErrs)
		}
		return
	}
	if newParams {
		st.ss.ReloadDesc()
		st.log.Info("parameter sets changed", "codec", u.Codec.String())
	}
	if st.ntpBase.IsZero() {
		st.ptsBase, st.ntpBase = u.PTS, time.Now()
	}
	// One wall clock for all tracks, derived from the shared PTS, so that
	// sender reports let players synchronise audio and video.
	ntp := st.ntpBase.Add(time.Duration(u.PTS-st.ptsBase) * time.Second / 90000)
	if st.held {
		for _, ss := range st.activeSessions() {
			for _, p := range pkts {
				if err := st.writeHeld(ss, func() error { return ss.WritePacketRTPWithNTP(t.media, p, ntp) }); err != nil {
					break // the session left, or the stream is closing
				}
			}
		}
		st.units.Add(1)
		return
	}
	for _, p := range pkts {
		if err := st.ss.WritePacketRTPWithNTP(t.media, p, ntp); err != nil {
			return // closed under us; run notices
		}
	}
	st.units.Add(1)
}

// writeHeld makes one write to a session of a held stream, offering it
// again while the session's write queue is full: a download must not lose
// a packet because its reader is briefly slower than the backlog it is
// sent. It gives up when the session is gone or the stream closes.
func (st *stream) writeHeld(ss *gortsplib.ServerSession, write func() error) error {
	var timer *time.Timer
	for {
		err := write()
		var full liberrors.ErrServerWriteQueueFull
		if !errors.As(err, &full) {
			return err
		}
		if !st.s.sessionOpen(ss) {
			return ErrStreamEnded
		}
		if timer == nil {
			timer = time.NewTimer(heldRetry)
			defer timer.Stop()
		} else {
			timer.Reset(heldRetry)
		}
		select {
		case <-timer.C:
		case <-st.ctx.Done():
			return context.Cause(st.ctx)
		}
	}
}

// activeSessions returns the sessions a held stream writes to that are
// still open.
func (st *stream) activeSessions() []*gortsplib.ServerSession {
	st.wmu.Lock()
	all := append([]*gortsplib.ServerSession(nil), st.active...)
	st.wmu.Unlock()
	out := all[:0]
	for _, ss := range all {
		if st.s.sessionOpen(ss) {
			out = append(out, ss)
		}
	}
	return out
}

// addActive makes a held stream write to ss from now on.
func (st *stream) addActive(ss *gortsplib.ServerSession) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.active = append(st.active, ss)
}

// addWaiter queues a PLAY for the next keyframe.
func (st *stream) addWaiter(w *playWaiter) {
	st.wmu.Lock()
	st.waiters = append(st.waiters, w)
	st.wmu.Unlock()
	st.firstPlayOnce.Do(func() { close(st.firstPlay) })
}

// removeWaiter drops w if it was not released yet.
func (st *stream) removeWaiter(w *playWaiter) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	for i, x := range st.waiters {
		if x == w {
			st.waiters = append(st.waiters[:i], st.waiters[i+1:]...)
			return
		}
	}
}

// releaseWaiters answers the waiting PLAYs and holds the keyframe back
// until their sessions are readers of the stream, so that the keyframe is
// the first thing they receive.
func (st *stream) releaseWaiters() {
	st.wmu.Lock()
	ws := st.waiters
	st.waiters = nil
	st.wmu.Unlock()
	if len(ws) == 0 {
		return
	}
	for _, w := range ws {
		close(w.release)
	}
	timer := time.NewTimer(activationWait)
	defer timer.Stop()
	for _, w := range ws {
		select {
		case <-w.active:
		case <-timer.C:
			st.log.Warn("PLAY response not sent in time, sending the keyframe anyway")
			return
		case <-st.ctx.Done():
			return
		}
	}
}

// wakeWaiters releases every waiting PLAY when the stream ends.
func (st *stream) wakeWaiters() {
	st.wmu.Lock()
	ws := st.waiters
	st.waiters = nil
	st.wmu.Unlock()
	for _, w := range ws {
		close(w.release)
	}
}

// close stops the writer; the sessions are closed with the ServerStream.
func (st *stream) close(reason error) {
	st.cancel(reason)
}

// errLastSession is the cause of a stream closed because nobody reads it.
var errLastSession = errors.New("last session left")
