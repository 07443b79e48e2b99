package transcode

import (
	"bytes"
	"errors"
	"sync"
)

// maxAUSize bounds an access unit of ffmpeg's output; beyond it the
// splitter discards what it holds rather than grow without end on a
// stream that lost its delimiters.
const maxAUSize = 16 << 20

// errAUTooLarge is returned by auSplitter.push when maxAUSize is exceeded.
var errAUTooLarge = errors.New("access unit too large")

// NAL unit types of H.264 the splitter looks at.
const (
	nalIDR = 5
	nalAUD = 9
)

// auSplitter cuts an H.264 Annex-B byte stream, read in arbitrary chunks,
// into access units at the access unit delimiters. An access unit is
// complete when the next delimiter arrives (or at the end, with flush).
type auSplitter struct {
	buf   []byte
	start int // start of the current unit in buf, -1 before the first AUD
	scan  int // where to look for the next start code
}

func newAUSplitter() *auSplitter { return &auSplitter{start: -1} }

// push appends data and returns the units it completed; each is a fresh
// copy that the caller owns.
func (s *auSplitter) push(data []byte) ([][]byte, error) {
	s.buf = append(s.buf, data...)
	var out [][]byte
	for {
		i := bytes.Index(s.buf[s.scan:], []byte{0, 0, 1})
		if i < 0 {
			// Keep the last two bytes: they may begin a start code.
			s.scan = max(s.scan, len(s.buf)-2)
			break
		}
		i += s.scan
		if i+3 >= len(s.buf) {
			s.scan = i // the NAL header has not arrived yet
			break
		}
		if s.buf[i+3]&0x1F == nalAUD {
			sc := i
			if sc > 0 && s.buf[sc-1] == 0 {
				sc-- // four-byte start code
			}
			if s.start >= 0 && sc > s.start {
				out = append(out, bytes.Clone(s.buf[s.start:sc]))
			}
			s.start = sc
		}
		s.scan = i + 3
	}
	s.compact()
	if len(s.buf) > maxAUSize {
		s.buf, s.start, s.scan = s.buf[:0], -1, 0
		return out, errAUTooLarge
	}
	return out, nil
}

// compact drops the bytes that no unit will need.
func (s *auSplitter) compact() {
	drop := s.start
	if drop < 0 {
		drop = max(0, s.scan-1) // bytes before the first AUD are junk
	}
	if drop == 0 {
		return
	}
	n := copy(s.buf, s.buf[drop:])
	s.buf = s.buf[:n]
	s.scan -= drop
	if s.start >= 0 {
		s.start = 0
	}
}

// flush returns the unit in progress (at the end of the stream).
func (s *auSplitter) flush() []byte {
	if s.start < 0 || len(s.buf) <= s.start {
		return nil
	}
	au := bytes.Clone(s.buf[s.start:])
	s.buf, s.start, s.scan = s.buf[:0], -1, 0
	return au
}

// isIDR reports whether an H.264 access unit holds an IDR slice.
func isIDR(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			if au[i+3]&0x1F == nalIDR {
				return true
			}
			i += 2
		}
	}
	return false
}

// maxRealign bounds how far ahead a keyframe output may look for the
// keyframe input it belongs to; an encoder-made keyframe (a GOP longer than
// -g) must not swallow many timestamps.
const maxRealign = 3

// maxQueued bounds the queue; ffmpeg holds a few frames, so reaching it
// means the outputs stopped matching the inputs.
const maxQueued = 4096

// ptsEntry is one frame given to ffmpeg.
type ptsEntry struct {
	pts int64
	key bool
}

// ptsQueue matches ffmpeg's output frames to its input frames in order.
// The feeder pushes and the output reader pops, hence the mutex.
type ptsQueue struct {
	mu sync.Mutex
	q  []ptsEntry
}

// push records an input frame.
func (q *ptsQueue) push(pts int64, key bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) >= maxQueued {
		q.q = q.q[1:]
	}
	q.q = append(q.q, ptsEntry{pts: pts, key: key})
}

// pop returns the input of the next output frame. A keyframe output is
// matched to the next keyframe input when one is within maxRealign
// entries: inputs before it were dropped by ffmpeg (skipped counts them).
// ok is false when no input is waiting.
func (q *ptsQueue) pop(key bool) (pts int64, skipped int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return 0, 0, false
	}
	if key && !q.q[0].key {
		for i := 1; i < len(q.q) && i <= maxRealign; i++ {
			if q.q[i].key {
				skipped = i
				q.q = q.q[i:]
				break
			}
		}
	}
	e := q.q[0]
	q.q = q.q[1:]
	return e.pts, skipped, true
}
