package hub

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Unit is one access unit of a stream.
//
// Payload is shared, not copied: WriteUnit takes ownership of it, and every
// reader receives the same slice. The writer must not modify it after
// WriteUnit and readers must treat it as read-only. Demuxed ps.Frame payloads
// are only valid until the next demuxer call, so the ingest makes the one
// copy a unit needs when it builds the Unit (UnitFromFrame); the hub then
// never copies again, however many readers there are.
type Unit struct {
	// Codec is the codec of the unit's track.
	Codec ps.Codec
	// PTS and DTS are 90 kHz timestamps.
	PTS, DTS int64
	// Keyframe is true for H.264 IDR / H.265 IRAP units and all audio units.
	Keyframe bool
	// Payload is Annex-B for video, raw codec data for audio.
	Payload []byte
	// Received is when the hub took the unit (WriteUnit sets it when
	// zero): readers that get units late, from the GOP cache or through a
	// buffer (the recorder's feed), date them by it.
	Received time.Time
}

// UnitFromFrame returns a Unit holding a copy of f's payload.
func UnitFromFrame(f *ps.Frame) Unit {
	return Unit{
		Codec:    f.Codec,
		PTS:      f.PTS,
		DTS:      f.DTS,
		Keyframe: f.Keyframe,
		Payload:  bytes.Clone(f.Payload),
	}
}

// numCodecs bounds ps.Codec values so that tracks live in a fixed array.
const numCodecs = int(ps.CodecAAC) + 1

// Stream is a published path: one writer, any number of readers.
type Stream struct {
	hub       *Hub
	path      string
	published time.Time

	// mu guards everything below. WriteUnit holds it during fan-out, which
	// is safe because sends to reader queues never block.
	mu       sync.Mutex
	closed   bool
	readers  []*Reader
	tracks   [numCodecs]TrackStats
	order    []ps.Codec
	hasVideo bool

	units, bytes, keyframes uint64
	lastUnit                time.Time
	video                   rateWindow
	res                     Resolution
	lastSPS                 []byte
	gone                    readerTotals

	gop      []Unit
	gopBytes int
	gopValid bool

	idleSince time.Time
	idleFired bool

	// hold is set for a stream published with PublishHold.
	hold *hold

	// ready is closed once a reader can start: see Ready.
	ready       chan struct{}
	readyClosed bool
	videoAfter  int // video units since the first cached keyframe
	done        chan struct{}
}

// readerTotals accumulates the counters of readers that left.
type readerTotals struct {
	drops uint64
	slow  uint64
}

func newStream(h *Hub, path string) *Stream {
	now := h.Now()
	return &Stream{
		hub:       h,
		path:      path,
		published: now,
		idleSince: now,
		gop:       make([]Unit, 0, min(h.GOPMaxUnits, 64)),
		ready:     make(chan struct{}),
		done:      make(chan struct{}),
	}
}

// readyVideoUnits is how many video units after the first keyframe make a
// stream without audio ready: audio is interleaved with video, so by then a
// stream that has audio has shown it, and readers set up both tracks.
const readyVideoUnits = 3

// readyAudioUnits is how many audio units without any video make a stream
// audio-only and ready (about a second of G.711 in 20 ms frames). Cameras
// often send audio before their first keyframe, so one audio unit says
// nothing yet.
const readyAudioUnits = 50

// Ready is closed when a reader can start at once: a keyframe is cached and
// the tracks are known (an audio unit or readyVideoUnits video units
// followed it), or, for a stream without video, readyAudioUnits audio units
// came.
func (s *Stream) Ready() <-chan struct{} { return s.ready }

// Done is closed when the stream is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// noteReady closes ready when the stream becomes ready; called with mu held
// after the unit was accounted and cached.
func (s *Stream) noteReady(u Unit) {
	if s.readyClosed {
		return
	}
	switch {
	case !s.hasVideo:
		if s.units < readyAudioUnits {
			return
		}
	case !s.gopValid:
		return
	case u.Codec.IsVideo():
		s.videoAfter++
		if s.videoAfter <= readyVideoUnits && !s.hasAudio() {
			return
		}
	}
	s.readyClosed = true
	close(s.ready)
}

func (s *Stream) hasAudio() bool {
	for _, c := range s.order {
		if !c.IsVideo() {
			return true
		}
	}
	return false
}

// Path returns the stream's path.
func (s *Stream) Path() string { return s.path }

// Tracks returns the codecs seen so far, in order of appearance.
func (s *Stream) Tracks() []ps.Codec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ps.Codec(nil), s.order...)
}

// Close unpublishes the stream; its readers get ErrStreamClosed.
func (s *Stream) Close() {
	s.hub.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
	for _, r := range s.readers {
		s.detachLocked(r, ErrStreamClosed)
	}
	s.readers = nil
	clear(s.gop)
	s.gop = nil
	s.hub.Log.Info("stream closed", "path", s.path, "units", s.units)
}

// WriteUnit publishes u to the stream's readers; it never blocks on them.
// The stream takes ownership of u.Payload (see Unit). WriteUnit must not be
// called concurrently for one stream.
func (s *Stream) WriteUnit(u Unit) error {
	if u.Codec <= ps.CodecUnknown || int(u.Codec) >= numCodecs {
		return fmt.Errorf("write unit to %s: %w %d", s.path, ErrUnknownCodec, int(u.Codec))
	}
	now := s.hub.Now()
	if u.Received.IsZero() {
		u.Received = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || (s.hold != nil && s.hold.ended) {
		return fmt.Errorf("write unit to %s: %w", s.path, ErrStreamClosed)
	}
	s.account(u, now)
	if u.Codec.IsVideo() && u.Keyframe {
		s.updateResolution(u)
	}
	s.cache(u)
	s.noteReady(u)
	if s.hold != nil {
		s.holdUnit(u)
	}
	s.fanOut(u)
	return nil
}

func (s *Stream) account(u Unit, now time.Time) {
	n := uint64(len(u.Payload))
	t := &s.tracks[u.Codec]
	if t.Codec == ps.CodecUnknown {
		t.Codec = u.Codec
		s.order = append(s.order, u.Codec)
		if u.Codec.IsVideo() {
			s.hasVideo = true
		}
		s.hub.Log.Info("track added", "path", s.path, "codec", u.Codec.String())
	}
	t.Units++
	t.Bytes += n
	s.units++
	s.bytes += n
	if u.Keyframe {
		t.Keyframes++
		s.keyframes++
	}
	s.lastUnit = now
	if u.Codec.IsVideo() {
		s.video.add(now, n)
	}
}

// updateResolution parses the SPS of a keyframe when it differs from the
// last one parsed, so the steady state costs one bytes.Equal per keyframe.
func (s *Stream) updateResolution(u Unit) {
	sps := findSPS(u.Codec, u.Payload)
	if sps == nil || bytes.Equal(sps, s.lastSPS) {
		return
	}
	s.lastSPS = append(s.lastSPS[:0], sps...)
	res, err := parseSPS(u.Codec, sps)
	if err != nil {
		s.hub.Log.Warn("cannot parse SPS", "path", s.path, "codec", u.Codec.String(), "error", err)
		return
	}
	if res != s.res {
		s.hub.Log.Info("resolution", "path", s.path, "codec", u.Codec.String(), "width", res.Width, "height", res.Height)
		s.res = res
	}
}

// cache keeps the units since the last video keyframe.
func (s *Stream) cache(u Unit) {
	if u.Codec.IsVideo() && u.Keyframe {
		s.resetGOP()
		s.gopValid = true
	}
	if !s.gopValid {
		return
	}
	if len(s.gop)+1 > s.hub.GOPMaxUnits || s.gopBytes+len(u.Payload) > s.hub.GOPMaxBytes {
		s.resetGOP()
		return
	}
	s.gop = append(s.gop, u)
	s.gopBytes += len(u.Payload)
}

func (s *Stream) resetGOP() {
	// Drop references so the payloads of the old GOP can be freed.
	clear(s.gop)
	s.gop = s.gop[:0]
	s.gopBytes = 0
	s.gopValid = false
}

// resumePoint reports whether a reader that skipped units may restart at u.
func (s *Stream) resumePoint(u Unit) bool {
	return u.Keyframe && (u.Codec.IsVideo() || !s.hasVideo)
}

func (s *Stream) fanOut(u Unit) {
	resume := s.resumePoint(u)
	removed := false
	for _, r := range s.readers {
		if r.held {
			continue // fed from the hold (holdUnit)
		}
		if !r.deliver(u, resume) {
			s.hub.Log.Warn("reader disconnected", "path", s.path, "reader", r.name,
				"reason", ErrSlowReader.Error(), "drops", r.drops)
			s.detachLocked(r, ErrSlowReader)
			removed = true
		}
	}
	if removed {
		// Compact in place: no allocation on the write path.
		kept := s.readers[:0]
		for _, r := range s.readers {
			if !r.detached {
				kept = append(kept, r)
			}
		}
		clear(s.readers[len(kept):])
		s.readers = kept
		s.noteReaderLeft()
	}
}

// AddReader attaches a reader. It starts with the cached GOP when there is
// one; otherwise (video stream) it waits for the next keyframe.
func (s *Stream) AddReader(name string) (*Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("add reader %s to %s: %w", name, s.path, ErrStreamClosed)
	}
	r := &Reader{
		stream: s,
		tracks: append([]ps.Codec(nil), s.order...),
		name:   name,
		since:  s.hub.Now(),
		ch:     make(chan Unit, s.hub.ReaderQueue),
		max:    s.hub.MaxOverflows,
	}
	switch {
	case s.hold != nil && !isDone(s.hold.attached):
		// The first reader of a held stream starts at the first unit.
		s.attachHeldLocked(r)
	case s.gopValid && len(s.gop) > 0 && len(s.gop) <= cap(r.ch):
		for _, u := range s.gop {
			r.deliver(u, s.resumePoint(u))
		}
	case s.hasVideo:
		r.waiting = true
	}
	s.readers = append(s.readers, r)
	s.idleSince = time.Time{}
	s.idleFired = false
	s.hub.Log.Info("reader added", "path", s.path, "reader", name, "readers", len(s.readers))
	return r, nil
}

func (s *Stream) removeReader(r *Reader) {
	s.mu.Lock()
	if r.detached {
		s.mu.Unlock()
		return
	}
	s.removeLocked(r, ErrReaderClosed)
	// The first reader of a held stream that already ended leaves nothing
	// for anybody: the stream is over.
	over := r.held && s.hold.ended && !s.closed
	s.mu.Unlock()
	s.hub.Log.Info("reader closed", "path", s.path, "reader", r.name)
	if over {
		s.Close()
	}
}

// removeLocked detaches r and takes it off the readers.
func (s *Stream) removeLocked(r *Reader, err error) {
	for i, x := range s.readers {
		if x == r {
			s.readers = slices.Delete(s.readers, i, i+1)
			break
		}
	}
	s.detachLocked(r, err)
	s.noteReaderLeft()
}

// detachLocked ends r's queue. A live reader's queue is closed here: only
// the stream sends on it, under s.mu, so closing cannot race a send. A held
// reader's queue belongs to its feeder, which is told to stop and closes it.
func (s *Stream) detachLocked(r *Reader, err error) {
	r.detached = true
	r.err = err
	if r.held {
		close(r.quit)
		s.releaseHeldLocked(r)
	} else {
		close(r.ch)
	}
	s.gone.drops += r.drops
	if errors.Is(err, ErrSlowReader) {
		s.gone.slow++
	}
}

func (s *Stream) noteReaderLeft() {
	if len(s.readers) == 0 && s.idleSince.IsZero() {
		s.idleSince = s.hub.Now()
	}
}

// idleDue reports, once per idle period, that the stream has had no reader
// for timeout.
func (s *Stream) idleDue(now time.Time, timeout time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.idleFired || len(s.readers) > 0 || s.holdsIdle() || now.Sub(s.idleSince) < timeout {
		return false
	}
	s.idleFired = true
	return true
}
