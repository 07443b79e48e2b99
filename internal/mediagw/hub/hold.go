package hub

import (
	"fmt"
)

// hold is the state of a held stream (PublishHold): it keeps every unit
// from the first one for its first reader, and when its writer has ended
// (End) it stays open until that reader has been given everything.
//
// A held stream is what a download needs: the device may send a short clip
// at 4× and finish before the reader (the console's ffmpeg) has even
// connected. A live stream would have ended by then, and a live reader
// starts at the latest keyframe, not at the first.
type hold struct {
	// max bounds bytes.
	max int
	// units are kept for the first reader: all of them until it attaches,
	// then the ones its feeder has not handed over yet.
	units []Unit
	bytes int
	// dropped counts units given up because the hold was full before the
	// first reader came.
	dropped uint64
	// reader is the first reader once attached, fed by feed from units.
	reader *Reader
	// attached is closed when the first reader attaches.
	attached chan struct{}
	// wake tells the feeder that units were queued or the stream ended.
	wake chan struct{}
	// ended is set by End: no unit will come any more.
	ended bool
}

// HoldStats describe a held stream (StreamStats.Hold).
type HoldStats struct {
	// Units and Bytes are kept for (and not yet handed to) the first reader.
	Units, Bytes int
	// MaxBytes is the bound of Bytes.
	MaxBytes int
	// Dropped counts units given up because the hold was full before the
	// first reader attached.
	Dropped uint64
	// Attached is true once the first reader attached.
	Attached bool
	// Ended is true once the writer ended (End).
	Ended bool
}

// PublishHold creates the stream of path as a held stream: it keeps every
// unit from the first one (at most maxBytes) for its first reader, which
// starts at the first unit instead of the latest keyframe and reads without
// loss (a reader more than maxBytes behind is disconnected with
// ErrSlowReader instead of skipping). After End, the stream closes once that
// reader has been given everything, and the reader's queue then ends with
// ErrStreamEnded. Later readers are served like readers of a live stream.
// The caller is the stream's only writer.
func (h *Hub) PublishHold(path string, maxBytes int) (*Stream, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("publish %s: hold of %d bytes", path, maxBytes)
	}
	s, err := h.Publish(path)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.hold = &hold{max: maxBytes, attached: make(chan struct{}), wake: make(chan struct{}, 1)}
	s.mu.Unlock()
	return s, nil
}

// Attached is closed when the first reader of a held stream attached; nil
// for a live stream.
func (s *Stream) Attached() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		return nil
	}
	return s.hold.attached
}

// statsLocked returns the state of a held stream; called with mu held.
func (h *hold) statsLocked() *HoldStats {
	return &HoldStats{
		Units: len(h.units), Bytes: h.bytes, MaxBytes: h.max, Dropped: h.dropped,
		Attached: h.reader != nil, Ended: h.ended,
	}
}

// End tells the stream that its writer is done. A live stream closes at
// once. A held stream closes when its first reader has been given every
// unit (its queue then ends with ErrStreamEnded), at once when that reader
// already left or when there is nothing to give; until a first reader
// attaches it stays open, and its owner decides how long to wait before
// Close.
func (s *Stream) End() {
	s.mu.Lock()
	h := s.hold
	if h == nil || s.closed {
		s.mu.Unlock()
		s.Close()
		return
	}
	h.ended = true
	closeNow := false
	switch {
	case isDone(h.attached):
		// The feeder finishes (or the reader already left and nothing will
		// read the rest).
		closeNow = h.reader == nil || h.reader.detached
	case len(h.units) == 0:
		closeNow = true
	case !s.readyClosed:
		// A clip too short to look ready (say, one keyframe and little
		// else) is still worth its reader.
		s.readyClosed = true
		close(s.ready)
	}
	s.mu.Unlock()
	s.wakeFeeder()
	if closeNow {
		s.Close()
	}
}

// holdUnit keeps u for the first reader; called with mu held.
func (s *Stream) holdUnit(u Unit) {
	h := s.hold
	if h.reader != nil && h.reader.detached {
		return // the first reader left: the stream is live from now on
	}
	h.units = append(h.units, u)
	h.bytes += len(u.Payload)
	if h.bytes <= h.max {
		if h.reader != nil {
			s.wakeFeeder()
		}
		return
	}
	if r := h.reader; r != nil {
		// The reader is maxBytes behind: a download with a hole is worse
		// than a failed one, so it is disconnected instead of skipping.
		s.hub.Log.Warn("held reader too far behind, disconnected", "path", s.path, "reader", r.name,
			"held_bytes", h.bytes, "max", h.max)
		s.removeLocked(r, ErrSlowReader)
		return
	}
	// No reader yet: give up the oldest GOPs, so that the reader still
	// starts on a keyframe, just a later one.
	before := len(h.units)
	for h.bytes > h.max && len(h.units) > 0 {
		s.dropHeldLocked()
		for len(h.units) > 0 && !s.resumePoint(h.units[0]) {
			s.dropHeldLocked()
		}
	}
	if h.dropped == uint64(before-len(h.units)) {
		s.hub.Log.Warn("hold full before a reader attached, dropping the oldest media", "path", s.path,
			"max", h.max, "dropped", h.dropped)
	}
}

func (s *Stream) dropHeldLocked() {
	h := s.hold
	h.bytes -= len(h.units[0].Payload)
	h.units[0] = Unit{}
	h.units = h.units[1:]
	h.dropped++
}

// attachHeldLocked makes r the first reader of a held stream: its queue is
// fed from the hold by its own goroutine.
func (s *Stream) attachHeldLocked(r *Reader) {
	h := s.hold
	r.held = true
	r.quit = make(chan struct{})
	h.reader = r
	close(h.attached)
	s.hub.wg.Add(1)
	go s.feed(r)
}

// feed hands the held units to the first reader in order, waiting for the
// reader instead of dropping. It ends when the reader is detached, or when
// the stream ended and every unit was handed over: then the reader's queue
// ends with ErrStreamEnded and the stream closes.
func (s *Stream) feed(r *Reader) {
	defer s.hub.wg.Done()
	// Only the feeder sends on a held reader's queue, so only it closes it.
	defer close(r.ch)
	h := s.hold
	for {
		s.mu.Lock()
		if r.detached {
			s.mu.Unlock()
			return
		}
		if len(h.units) == 0 {
			if !h.ended {
				s.mu.Unlock()
				select {
				case <-h.wake:
				case <-r.quit:
				}
				continue
			}
			s.removeLocked(r, ErrStreamEnded)
			s.mu.Unlock()
			s.hub.Log.Info("held stream given in full to its reader", "path", s.path, "reader", r.name,
				"units", r.units)
			s.Close()
			return
		}
		u := h.units[0]
		h.units[0] = Unit{}
		h.units = h.units[1:]
		h.bytes -= len(u.Payload)
		r.units++
		r.bytes += uint64(len(u.Payload))
		if u.Keyframe {
			r.keyframes++
		}
		s.mu.Unlock()
		select {
		case r.ch <- u:
		case <-r.quit:
			return
		}
	}
}

// wakeFeeder nudges the feeder of a held stream, never blocking.
func (s *Stream) wakeFeeder() {
	select {
	case s.hold.wake <- struct{}{}:
	default:
	}
}

// releaseHeldLocked forgets what was kept for a first reader that left;
// called with mu held when the reader is detached.
func (s *Stream) releaseHeldLocked(r *Reader) {
	h := s.hold
	if h == nil || h.reader != r {
		return
	}
	clear(h.units)
	h.units = nil
	h.bytes = 0
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// holdsIdle reports whether a held stream must not be reported idle:
// before its first reader attached, nobody has had a chance to read it.
func (s *Stream) holdsIdle() bool {
	return s.hold != nil && s.hold.reader == nil
}
