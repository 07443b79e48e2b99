package hls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

const (
	// startTimeout bounds Source.Read plus the wait for the first keyframe's
	// parameter sets: a muxer that cannot start within it fails, and the
	// next request tries again.
	startTimeout = 10 * time.Second
	// audioConfigWait is how long, after the video configuration, a muxer
	// waits for the first AAC unit before it starts without audio. Audio is
	// interleaved with video every few tens of milliseconds, so a second
	// means the track is gone.
	audioConfigWait = time.Second
	// maxPeekUnits bounds the units buffered while waiting for the codec
	// configuration (a few seconds of 25 fps video with audio).
	maxPeekUnits = 500
	// maxVideoErrors is how many consecutive video units the HLS muxer may
	// refuse (two seconds at 25 fps) before the muxer gives up.
	maxVideoErrors = 50
	// clockRate is the hub's and the HLS video clock.
	clockRate = 90000
)

// ReaderStats counts what a muxer received from its hub reader.
type ReaderStats struct {
	// Name is the hub reader's name (protocol and the remote address of the
	// viewer whose request created the muxer).
	Name string
	// Units, Bytes and Keyframes count the units received.
	Units, Bytes, Keyframes uint64
	// Skipped counts units of tracks HLS does not carry (G.711, tracks that
	// appeared after the muxer started).
	Skipped uint64
	// WriteErrors counts units the HLS muxer rejected (damaged data).
	WriteErrors uint64
}

// MuxerStats is a snapshot of one path's muxer.
type MuxerStats struct {
	// Path is the stream path.
	Path string
	// Since is when the muxer was created (by the first request).
	Since time.Time
	// LastRequest is when the last request for the path arrived.
	LastRequest time.Time
	// Requests counts the requests served by the muxer.
	Requests uint64
	// Started is false while the muxer waits for its reader and the codec
	// configuration.
	Started bool
	// Tracks are the codecs carried over HLS.
	Tracks []ps.Codec
	// Reader counts what came from the hub.
	Reader ReaderStats
	// Segments counts the segments completed, by the rule the HLS muxer
	// rotates on (a keyframe at least SegmentMinDuration after the previous
	// segment's start); gohlslib does not expose its own count.
	Segments uint64
}

// muxer serves one path: it reads the path's hub stream and feeds a gohlslib
// muxer from one goroutine until the stream ends, the video parameters
// change, the server closes, or no request came for idleTimeout.
type muxer struct {
	path    string
	req     access.Request // the request that created the muxer
	source  access.Source
	conf    *Server
	log     *slog.Logger
	onDone  func(*muxer)
	created time.Time

	ctx    context.Context
	cancel context.CancelFunc

	// ready is closed once hm is started (hm is then set and read-only), or
	// just before done when the muxer failed to start.
	ready     chan struct{}
	readyOnce sync.Once
	hm        *gohlslib.Muxer
	// content is closed when playSegments segments are complete.
	content     chan struct{}
	contentOnce sync.Once
	// done is closed when the muxer has ended; err is set before.
	done chan struct{}
	err  error

	lastRequest atomic.Int64 // unix nanoseconds
	inflight    atomic.Int64
	requests    atomic.Uint64

	units, bytes, keyframes, skipped, writeErrors, segments atomic.Uint64

	mu         sync.Mutex // guards readerName and tracks
	readerName string
	tracks     []ps.Codec
}

func newMuxer(s *Server, path string, req access.Request, onDone func(*muxer)) *muxer {
	ctx, cancel := context.WithCancel(s.ctx)
	m := &muxer{
		path:    path,
		req:     req,
		source:  s.Source,
		conf:    s,
		log:     s.Log.With("path", path),
		onDone:  onDone,
		created: s.Now(),
		ctx:     ctx,
		cancel:  cancel,
		ready:   make(chan struct{}),
		content: make(chan struct{}),
		done:    make(chan struct{}),
	}
	m.touch()
	return m
}

// touch records a request.
func (m *muxer) touch() { m.lastRequest.Store(m.conf.Now().UnixNano()) }

func (m *muxer) isDone() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

func (m *muxer) stats() MuxerStats {
	m.mu.Lock()
	name, tracks := m.readerName, slices.Clone(m.tracks)
	m.mu.Unlock()
	started := false
	select {
	case <-m.ready:
		started = m.hm != nil
	default:
	}
	return MuxerStats{
		Path:        m.path,
		Since:       m.created,
		LastRequest: time.Unix(0, m.lastRequest.Load()),
		Requests:    m.requests.Load(),
		Started:     started,
		Tracks:      tracks,
		Reader: ReaderStats{
			Name:        name,
			Units:       m.units.Load(),
			Bytes:       m.bytes.Load(),
			Keyframes:   m.keyframes.Load(),
			Skipped:     m.skipped.Load(),
			WriteErrors: m.writeErrors.Load(),
		},
		Segments: m.segments.Load(),
	}
}

func (m *muxer) run() {
	err := m.runInner()
	m.err = err
	m.readyOnce.Do(func() { close(m.ready) })
	m.onDone(m)
	close(m.done)
	lifetime := m.conf.Now().Sub(m.created).Round(time.Millisecond)
	attrs := []any{"reason", err, "lifetime", lifetime, "requests", m.requests.Load()}
	switch {
	case errors.Is(err, ErrIdle), errors.Is(err, context.Canceled), errors.Is(err, hub.ErrStreamClosed),
		errors.Is(err, access.ErrNotFound), errors.Is(err, access.ErrUnauthorized):
		// The normal ends, and refusals the Source has accounted for.
		m.log.Info("hls muxer closed", attrs...)
	default:
		m.log.Warn("hls muxer closed", attrs...)
	}
}

// plan is what a muxer carries from the reader's tracks.
type plan struct {
	video ps.Codec // CodecH264, CodecH265 or CodecUnknown
	aac   bool
	g711  bool
}

func makePlan(tracks []ps.Codec, variant gohlslib.MuxerVariant) (plan, error) {
	var p plan
	for _, c := range tracks {
		switch c {
		case ps.CodecH264, ps.CodecH265:
			if p.video == ps.CodecUnknown {
				p.video = c
			}
		case ps.CodecAAC:
			p.aac = true
		case ps.CodecG711A, ps.CodecG711U:
			p.g711 = true
		}
	}
	if p.video == ps.CodecUnknown && !p.aac {
		return p, fmt.Errorf("tracks %v: %w", tracks, ErrNoTracks)
	}
	if p.video == ps.CodecH265 && variant == gohlslib.MuxerVariantMPEGTS {
		return p, fmt.Errorf("%s in MPEG-TS: %w", p.video, ErrUnsupportedCodec)
	}
	return p, nil
}

// config is the codec configuration a muxer starts with.
type config struct {
	vps, sps, pps []byte // video parameter sets (vps for H.265 only)
	aac           *mpeg4audio.AudioSpecificConfig
}

func (c *config) videoComplete(codec ps.Codec) bool {
	return c.sps != nil && c.pps != nil && (codec != ps.CodecH265 || c.vps != nil)
}

func (m *muxer) runInner() error {
	ctx, cancel := context.WithTimeout(m.ctx, startTimeout)
	defer cancel()
	r, err := m.source.Read(ctx, m.req)
	if err != nil {
		return fmt.Errorf("hls muxer %s: %w", m.path, err)
	}
	defer r.Close()
	m.mu.Lock()
	m.readerName = r.Name()
	m.mu.Unlock()

	p, err := makePlan(r.Tracks(), m.conf.variant)
	if err != nil {
		return fmt.Errorf("hls muxer %s: %w", m.path, err)
	}
	if p.g711 {
		// Browsers' fMP4 HLS has no G.711; say so once per muxer.
		m.log.Info("hls: G.711 audio is not carried over HLS, serving video only")
	}
	cfg, pending, err := m.peek(ctx, r, &p)
	if err != nil {
		return fmt.Errorf("hls muxer %s: %w", m.path, err)
	}
	cancel()

	f, err := m.start(p, cfg)
	if err != nil {
		return fmt.Errorf("hls muxer %s: %w", m.path, err)
	}
	defer f.hm.Close()
	m.hm = f.hm
	m.readyOnce.Do(func() { close(m.ready) })
	m.log.Info("hls muxer started", "remote", m.req.Remote, "tracks", f.tracks, "variant", m.conf.Variant)

	for _, u := range pending {
		if err := f.write(u); err != nil {
			return fmt.Errorf("hls muxer %s: %w", m.path, err)
		}
	}

	period := min(max(m.conf.IdleTimeout/4, 50*time.Millisecond), time.Second)
	idle := time.NewTicker(period)
	defer idle.Stop()
	for {
		select {
		case u, ok := <-r.Units():
			if !ok {
				return fmt.Errorf("hls muxer %s: reader ended: %w", m.path, r.Err())
			}
			m.count(u)
			if err := f.write(u); err != nil {
				return fmt.Errorf("hls muxer %s: %w", m.path, err)
			}
		case <-idle.C:
			if last, idle := m.conf.removeIfIdle(m); idle {
				return fmt.Errorf("hls muxer %s: no request since %s: %w", m.path, last.Format(time.RFC3339), ErrIdle)
			}
		case <-m.ctx.Done():
			return fmt.Errorf("hls muxer %s: %w", m.path, m.ctx.Err())
		}
	}
}

func (m *muxer) count(u hub.Unit) {
	m.units.Add(1)
	m.bytes.Add(uint64(len(u.Payload)))
	if u.Keyframe && u.Codec.IsVideo() {
		m.keyframes.Add(1)
	}
}

// peek reads units until the codec configuration of the planned tracks is
// known, and returns them so that nothing read is lost. An AAC track that
// sends nothing within audioConfigWait after the video configuration is
// dropped from p.
func (m *muxer) peek(ctx context.Context, r *hub.Reader, p *plan) (config, []hub.Unit, error) {
	var cfg config
	var pending []hub.Unit
	var audioWait <-chan time.Time
	for {
		videoOK := p.video == ps.CodecUnknown || cfg.videoComplete(p.video)
		audioOK := !p.aac || cfg.aac != nil
		if videoOK && audioOK {
			return cfg, pending, nil
		}
		if videoOK && audioWait == nil {
			t := time.NewTimer(audioConfigWait)
			defer t.Stop()
			audioWait = t.C
		}
		if len(pending) >= maxPeekUnits {
			return cfg, nil, fmt.Errorf("%d units without the configuration: %w", len(pending), ErrNoConfig)
		}
		select {
		case u, ok := <-r.Units():
			if !ok {
				return cfg, nil, fmt.Errorf("reader ended: %w", r.Err())
			}
			m.count(u)
			pending = append(pending, u)
			switch {
			case u.Codec == p.video && !cfg.videoComplete(p.video):
				nalus := splitAnnexB(p.video, u.Payload, nil)
				for _, n := range nalus {
					setParamSet(&cfg, p.video, n)
				}
			case u.Codec == ps.CodecAAC && p.aac && cfg.aac == nil:
				var pkts mpeg4audio.ADTSPackets
				if err := pkts.Unmarshal(u.Payload); err == nil && pkts[0].ChannelConfig != 0 {
					cfg.aac = &mpeg4audio.AudioSpecificConfig{
						Type:          pkts[0].Type,
						SampleRate:    pkts[0].SampleRate,
						ChannelConfig: pkts[0].ChannelConfig,
						ChannelCount:  pkts[0].ChannelCount, //nolint:staticcheck // deprecated; mediacommon's readers fill both
					}
				}
			}
		case <-audioWait:
			m.log.Warn("hls: no AAC unit in time, serving video only", "wait", audioConfigWait)
			p.aac = false
		case <-ctx.Done():
			return cfg, nil, fmt.Errorf("waiting for the codec configuration: %w: %w", ErrNoConfig, ctx.Err())
		}
	}
}

// setParamSet records n in cfg when it is a parameter set of codec.
func setParamSet(cfg *config, codec ps.Codec, n []byte) {
	t := naluType(codec, n)
	if codec == ps.CodecH265 {
		switch t {
		case 32:
			cfg.vps = n
		case 33:
			cfg.sps = n
		case 34:
			cfg.pps = n
		}
		return
	}
	switch t {
	case 7:
		cfg.sps = n
	case 8:
		cfg.pps = n
	}
}

// feeder writes units to a started gohlslib muxer. It is used by the
// muxer's goroutine only.
type feeder struct {
	m      *muxer
	hm     *gohlslib.Muxer
	plan   plan
	tracks []ps.Codec
	video  *gohlslib.Track
	audio  *gohlslib.Track
	sps    []byte // the SPS of the init segment

	started   time.Time // wall clock of base
	base      int64     // 90 kHz PTS of the first unit written
	haveBase  bool
	segStart  int64 // 90 kHz, for the segment estimate
	haveSeg   bool
	nalus     [][]byte // reused
	loggedWE  bool
	videoErrs int // consecutive refused video units
}

func (m *muxer) start(p plan, cfg config) (*feeder, error) {
	f := &feeder{m: m, plan: p, sps: cfg.sps, started: m.conf.Now()}
	var tracks []*gohlslib.Track
	switch p.video {
	case ps.CodecH264:
		f.video = &gohlslib.Track{Codec: &codecs.H264{SPS: cfg.sps, PPS: cfg.pps}, ClockRate: clockRate}
	case ps.CodecH265:
		f.video = &gohlslib.Track{Codec: &codecs.H265{VPS: cfg.vps, SPS: cfg.sps, PPS: cfg.pps}, ClockRate: clockRate}
	}
	if f.video != nil {
		tracks = append(tracks, f.video)
		f.tracks = append(f.tracks, p.video)
	}
	if p.aac {
		f.audio = &gohlslib.Track{Codec: &codecs.MPEG4Audio{Config: *cfg.aac}, ClockRate: cfg.aac.SampleRate}
		tracks = append(tracks, f.audio)
		f.tracks = append(f.tracks, ps.CodecAAC)
	}
	if len(tracks) == 0 {
		return nil, ErrNoTracks
	}
	var encodeErrors atomic.Bool
	f.hm = &gohlslib.Muxer{
		Tracks:             tracks,
		Variant:            m.conf.variant,
		SegmentCount:       m.conf.SegmentCount,
		SegmentMinDuration: m.conf.SegmentMinDuration,
		PartMinDuration:    m.conf.PartMinDuration,
		OnEncodeError: func(err error) {
			m.writeErrors.Add(1)
			if !encodeErrors.Swap(true) {
				m.log.Warn("hls: encode error (logged once per muxer)", "error", err)
			}
		},
	}
	if err := f.hm.Start(); err != nil {
		return nil, fmt.Errorf("start muxer: %w", err)
	}
	m.mu.Lock()
	m.tracks = f.tracks
	m.mu.Unlock()
	return f, nil
}

// write passes u to the muxer. Damaged units are counted and dropped; only
// a change of the video parameters ends the muxer.
func (f *feeder) write(u hub.Unit) error {
	switch {
	case f.video != nil && u.Codec == f.plan.video:
		return f.writeVideo(u)
	case f.audio != nil && u.Codec == ps.CodecAAC:
		f.writeAAC(u)
		return nil
	default:
		f.m.skipped.Add(1)
		return nil
	}
}

func (f *feeder) pts(u hub.Unit) int64 {
	if !f.haveBase {
		f.base, f.haveBase = u.PTS, true
	}
	return u.PTS - f.base
}

// ntp is the wall clock of a 90 kHz PTS relative to base.
func (f *feeder) ntp(pts int64) time.Time {
	return f.started.Add(time.Duration(pts) * time.Second / clockRate)
}

func (f *feeder) writeVideo(u hub.Unit) error {
	f.nalus = splitAnnexB(f.plan.video, u.Payload, f.nalus[:0])
	if len(f.nalus) == 0 {
		f.writeError(fmt.Errorf("video unit of %d bytes without NAL units", len(u.Payload)))
		return nil
	}
	if u.Keyframe {
		for _, n := range f.nalus {
			if isSPS(f.plan.video, n) && !bytes.Equal(n, f.sps) {
				return fmt.Errorf("new SPS on a keyframe: %w", ErrTrackChanged)
			}
		}
	}
	pts := f.pts(u)
	var err error
	if f.plan.video == ps.CodecH265 {
		err = f.hm.WriteH265(f.video, f.ntp(pts), pts, f.nalus)
	} else {
		err = f.hm.WriteH264(f.video, f.ntp(pts), pts, f.nalus)
	}
	if err != nil {
		f.writeError(err)
		if f.videoErrs++; f.videoErrs >= maxVideoErrors {
			return fmt.Errorf("%d video units refused in a row, last: %w: %w", f.videoErrs, ErrRejected, err)
		}
		return nil
	}
	f.videoErrs = 0
	if u.Keyframe {
		f.countSegment(pts)
	}
	return nil
}

// countSegment mirrors gohlslib's segmenter: the leading track's first
// sample opens a segment, and a random access sample at least
// SegmentMinDuration after the segment's start closes it.
func (f *feeder) countSegment(pts int64) {
	switch {
	case !f.haveSeg:
		f.segStart, f.haveSeg = pts, true
	case time.Duration(pts-f.segStart)*time.Second/clockRate >= f.m.conf.SegmentMinDuration:
		f.segStart = pts
		if f.m.segments.Add(1) >= playSegments {
			f.m.contentOnce.Do(func() { close(f.m.content) })
		}
	}
}

func (f *feeder) writeAAC(u hub.Unit) {
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(u.Payload); err != nil {
		f.writeError(fmt.Errorf("AAC unit: %w", err))
		return
	}
	conf := f.audio.Codec.(*codecs.MPEG4Audio).Config
	aus := make([][]byte, 0, len(pkts))
	for _, p := range pkts {
		if p.SampleRate != conf.SampleRate || p.ChannelConfig != conf.ChannelConfig {
			f.writeError(fmt.Errorf("AAC unit: %d Hz, channel config %d: configuration changed", p.SampleRate, p.ChannelConfig))
			return
		}
		aus = append(aus, p.AU)
	}
	pts := f.pts(u)
	err := f.hm.WriteMPEG4Audio(f.audio, f.ntp(pts), pts*int64(conf.SampleRate)/clockRate, aus)
	if err != nil {
		f.writeError(err)
		return
	}
	if f.video == nil {
		f.countSegment(pts) // audio leads an audio-only muxer
	}
}

func (f *feeder) writeError(err error) {
	f.m.writeErrors.Add(1)
	if !f.loggedWE {
		f.loggedWE = true
		f.m.log.Warn("hls: unit dropped (logged once per muxer)", "error", err)
	}
}

// naluType returns the NAL unit type of n (n non-empty).
func naluType(codec ps.Codec, n []byte) byte {
	if codec == ps.CodecH265 {
		return n[0] >> 1 & 0x3F
	}
	return n[0] & 0x1F
}

func isSPS(codec ps.Codec, n []byte) bool {
	if codec == ps.CodecH265 {
		return naluType(codec, n) == 33
	}
	return naluType(codec, n) == 7
}

// splitAnnexB appends to dst the NAL units of the Annex-B access unit b of
// codec (H.264 or H.265) and returns it, without access unit delimiters and
// filler data (HLS needs neither). The units share b's memory.
func splitAnnexB(codec ps.Codec, b []byte, dst [][]byte) [][]byte {
	for n := range ps.NALUnits(b) {
		t := naluType(codec, n)
		if codec == ps.CodecH265 && (t == 35 || t == 38) || codec != ps.CodecH265 && (t == 9 || t == 12) {
			continue
		}
		dst = append(dst, n)
	}
	return dst
}
