package ps

import (
	"fmt"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtpin"
)

// DefaultMaxFrameSize is the access unit size limit used when
// Demuxer.MaxFrameSize is 0.
const DefaultMaxFrameSize = 8 << 20

const (
	// maxPSMLen bounds the PSM we buffer; the standard limit is 1018 bytes,
	// larger ones are skipped.
	maxPSMLen = 4096
	// carryChunk bounds how much input is copied into the carry-over buffer
	// at once, so a huge Write never grows it.
	carryChunk = 4096
	// initialBufCap is the initial capacity of access unit buffers.
	initialBufCap = 64 << 10
	// payloadPiece is the unit in which PES payload is appended.
	payloadPiece = 64 << 10
	// markerTrustAfter is how many times the RTP marker must coincide with
	// a frame boundary before the demuxer emits frames on it.
	markerTrustAfter = 2
)

type inputMode int

const (
	modeUnknown inputMode = iota
	modePS
	modeTS
)

type parseState int

const (
	stSync      parseState = iota // looking for a start code
	stPayload                     // inside a PES payload of known length
	stUnbounded                   // inside a PES with PES_packet_length 0
	stSkip                        // skipping a stream by its length
)

// Demuxer turns a Program Stream, as RTP payloads or as a byte stream, into
// access units. It falls back to MPEG-TS when the input is a transport
// stream.
//
// A Demuxer is not safe for concurrent use. The zero value is ready to use.
type Demuxer struct {
	// MaxFrameSize bounds an access unit; 0 means DefaultMaxFrameSize.
	// Larger frames are dropped with ErrFrameTooLarge and the demuxer resyncs.
	MaxFrameSize int

	mode     inputMode
	st       parseState
	remain   int
	cur      *track
	needPack bool
	carry    []byte

	tracks   [maxTracks]track
	ntracks  int
	psmTypes [256]uint8

	tsUnwrap  unwrap33
	rtpUnwrap rtpin.TimestampUnwrapper
	rtpTS     int64
	haveRTP   bool

	// RTP marker trust: the marker only ends a frame once it has proven to
	// coincide with frame boundaries and never to be set mid-frame.
	lastMarker  bool
	markerCheck bool
	markerPTS   int64
	markerHadAU bool
	markerGood  int
	markerBad   bool

	out  []Frame
	free [][]byte
	used [][]byte
	err  error

	ts *tsReader
}

// WriteRTP feeds the payload of one RTP packet (header, padding and
// extensions already stripped), in sequence order. rtpTimestamp is used only
// when the stream carries no PTS at all; marker ends the current video frame
// once the marker has proven reliable.
//
// It returns the access units completed by this packet; the slice and the
// payloads are valid until the next call of any Demuxer method. Errors do not
// stop the demuxer: it drops the damaged data, resyncs and keeps going, so
// the caller may log the error and continue feeding.
func (d *Demuxer) WriteRTP(payload []byte, rtpTimestamp uint32, marker bool) ([]Frame, error) {
	d.begin()
	d.rtpTS = d.rtpUnwrap.Unwrap(rtpTimestamp)
	d.haveRTP = true
	if len(payload) == 0 {
		// Keepalive packets carry nothing, not even a frame boundary.
		return d.out, nil
	}
	if d.mode == modeUnknown {
		d.detect(payload)
	}
	if d.mode == modeTS {
		d.ts.write(d, payload)
		return d.out, d.takeErr()
	}
	if d.lastMarker {
		d.checkAfterMarker(payload)
	}
	d.feed(payload)
	d.lastMarker = marker
	if marker {
		d.onMarker()
	}
	return d.out, d.takeErr()
}

// Write feeds raw Program Stream (or Transport Stream) bytes, for example
// read from a file. Frame boundaries come from PTS changes only, so the last
// frame is returned by Flush. The returned frames are valid until the next
// call of any Demuxer method.
func (d *Demuxer) Write(p []byte) ([]Frame, error) {
	d.begin()
	if len(p) == 0 {
		return d.out, nil
	}
	if d.mode == modeUnknown {
		d.detect(p)
	}
	if d.mode == modeTS {
		d.ts.write(d, p)
	} else {
		d.feed(p)
	}
	return d.out, d.takeErr()
}

// Flush returns the access units still being assembled, at the end of the
// input. A frame whose PES is incomplete is not returned.
func (d *Demuxer) Flush() []Frame {
	d.begin()
	if d.mode == modeTS {
		d.ts.flush(d)
	}
	if d.st == stUnbounded {
		d.payload(d.carry)
		d.carry = d.carry[:0]
		d.endPES()
		d.st = stSync
	}
	d.flushVideo()
	d.err = nil
	return d.out
}

// Loss tells the demuxer that packets were lost before the next one: the
// frames being assembled are dropped and the demuxer resyncs at the next pack
// header (audio at the next PES with a PTS), so a damaged frame is never
// emitted.
func (d *Demuxer) Loss() {
	for i := range d.ntracks {
		t := &d.tracks[i]
		t.resetAU()
		t.wait = true
		t.needStart = t.video
	}
	d.resync()
	d.carry = d.carry[:0]
	d.lastMarker = false
	d.markerCheck = false
	if d.ts != nil {
		d.ts.loss()
	}
}

// Reset forgets everything learned from the stream (input kind, PSM, codecs,
// timestamps), as for a new stream. Buffers are kept for reuse.
func (d *Demuxer) Reset() {
	free := d.free
	free = append(free, d.used...)
	for i := range d.ntracks {
		if d.tracks[i].au != nil {
			free = append(free, d.tracks[i].au[:0])
		}
	}
	*d = Demuxer{
		MaxFrameSize: d.MaxFrameSize,
		carry:        d.carry[:0],
		out:          d.out[:0],
		free:         free,
		used:         d.used[:0],
	}
}

func (d *Demuxer) maxFrame() int {
	if d.MaxFrameSize > 0 {
		return d.MaxFrameSize
	}
	return DefaultMaxFrameSize
}

// begin recycles the buffers handed out by the previous call.
func (d *Demuxer) begin() {
	d.out = d.out[:0]
	for _, b := range d.used {
		d.free = append(d.free, b[:0])
	}
	d.used = d.used[:0]
}

func (d *Demuxer) getBuf() []byte {
	if n := len(d.free); n > 0 {
		b := d.free[n-1]
		d.free = d.free[:n-1]
		return b
	}
	return make([]byte, 0, initialBufCap)
}

func (d *Demuxer) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Demuxer) takeErr() error {
	err := d.err
	d.err = nil
	return err
}

// detect decides between PS and MPEG-TS on the first data (pitfall 11):
// TS has a 0x47 sync byte every 188 bytes.
func (d *Demuxer) detect(p []byte) {
	d.mode = modePS
	if len(p) >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1 {
		return
	}
	ts := p[0] == 0x47 && (len(p) <= tsPacketSize || p[tsPacketSize] == 0x47)
	for k := 0; !ts && k < tsPacketSize && k+2*tsPacketSize < len(p); k++ {
		ts = p[k] == 0x47 && p[k+tsPacketSize] == 0x47 && p[k+2*tsPacketSize] == 0x47
	}
	if ts {
		d.mode = modeTS
		d.ts = &tsReader{pmtPID: -1}
	}
}

// resync abandons the element being parsed and waits for a pack header.
func (d *Demuxer) resync() {
	d.st = stSync
	d.remain = 0
	d.cur = nil
	d.needPack = true
}

// feed runs the parser over p, using the carry-over buffer for headers that
// straddle input chunks (pitfall 1).
func (d *Demuxer) feed(p []byte) {
	for len(d.carry) > 0 && len(p) > 0 {
		n := min(len(p), carryChunk)
		d.carry = append(d.carry, p[:n]...)
		p = p[n:]
		k := d.parse(d.carry)
		d.carry = d.carry[:copy(d.carry, d.carry[k:])]
	}
	if len(p) == 0 {
		return
	}
	k := d.parse(p)
	d.carry = append(d.carry[:0], p[k:]...)
}

// tailKeep returns how many trailing bytes of b may begin a start code.
func tailKeep(b []byte) int {
	n := len(b)
	switch {
	case n >= 3 && b[n-3] == 0 && b[n-2] == 0 && b[n-1] == 1:
		return 3
	case n >= 2 && b[n-2] == 0 && b[n-1] == 0:
		return 2
	case n >= 1 && b[n-1] == 0:
		return 1
	}
	return 0
}

// findSystemStart returns the index of the first 00 00 01 xx with xx >= 0xB9
// (a system start code, never a NAL header whose forbidden bit is 0), or -1.
func findSystemStart(b []byte) int {
	pos := 0
	for {
		i := indexStartCode(b[pos:])
		if i < 0 || pos+i+3 >= len(b) {
			return -1
		}
		if b[pos+i+3] >= idEnd {
			return pos + i
		}
		pos += i + 3
	}
}

// parse consumes as much of data as it can and returns the number of bytes
// consumed; the rest (a partial header or a possible partial start code)
// must be presented again with more data.
func (d *Demuxer) parse(data []byte) int {
	pos := 0
	for pos < len(data) {
		switch d.st {
		case stPayload:
			n := min(d.remain, len(data)-pos)
			d.remain -= n
			d.payload(data[pos : pos+n])
			pos += n
			if d.st == stPayload && d.remain == 0 {
				d.endPES()
				d.st = stSync
			}

		case stSkip:
			n := min(d.remain, len(data)-pos)
			d.remain -= n
			pos += n
			if d.remain == 0 {
				d.st = stSync
			}

		case stUnbounded:
			// Pitfall 5: the PES runs until the next pack or PES start code.
			i := findSystemStart(data[pos:])
			if i < 0 {
				end := len(data) - tailKeep(data[pos:])
				d.payload(data[pos:end])
				return end
			}
			d.payload(data[pos : pos+i])
			pos += i
			if d.st == stUnbounded {
				d.endPES()
				d.st = stSync
			}

		default: // stSync
			i := findSystemStart(data[pos:])
			if i < 0 {
				return len(data) - tailKeep(data[pos:])
			}
			pos += i
			n, st := d.header(data[pos:])
			switch st {
			case hdrMore:
				return pos
			case hdrBad:
				pos++
			default:
				pos += n
			}
		}
	}
	return pos
}

// header handles the element whose start code is at b[0].
func (d *Demuxer) header(b []byte) (int, hdrStatus) {
	id := b[3]
	switch {
	case id == idPack:
		n, st := packHeaderLen(b)
		if st != hdrOK {
			return 0, st
		}
		if len(b) < n {
			return 0, hdrMore
		}
		d.onPack()
		return n, hdrOK

	case id == idEnd:
		d.flushVideo()
		return 4, hdrOK

	case id == idPSM:
		if len(b) < 6 {
			return 0, hdrMore
		}
		l := int(b[4])<<8 | int(b[5])
		if l > maxPSMLen {
			return d.skip(l), hdrOK
		}
		if len(b) < 6+l {
			return 0, hdrMore
		}
		if !d.needPack {
			parsePSM(b[:6+l], d.onPSMEntry)
		}
		return 6 + l, hdrOK

	case isVideoID(id) || isAudioID(id):
		h, st := parsePESHeader(b)
		if st != hdrOK {
			return 0, st
		}
		if d.needPack && (!isAudioID(id) || !h.hasPTS) {
			// After a loss only a pack (or an audio PES with a PTS) resyncs;
			// keep scanning right after this start code.
			return 4, hdrOK
		}
		t := d.trackFor(int(id), id)
		if t == nil {
			if h.payLen < 0 {
				return 4, hdrOK
			}
			return h.hdrLen + d.skip(h.payLen) - 6, hdrOK
		}
		d.beginPES(t, &h)
		switch {
		case h.payLen < 0:
			d.st = stUnbounded
		case h.payLen == 0:
			d.endPES()
		default:
			d.st = stPayload
			d.remain = h.payLen
		}
		return h.hdrLen, hdrOK

	default:
		// System header, private streams 0xBD/0xBF, padding 0xBE, 0xF0-0xFF
		// (pitfall 7): skip by length.
		if len(b) < 6 {
			return 0, hdrMore
		}
		return d.skip(int(b[4])<<8 | int(b[5])), hdrOK
	}
}

// skip enters stSkip for n bytes after a 6-byte prefix and returns 6.
func (d *Demuxer) skip(n int) int {
	if n > 0 {
		d.st = stSkip
		d.remain = n
	}
	return 6
}

func (d *Demuxer) onPack() {
	d.needPack = false
	for i := range d.ntracks {
		if t := &d.tracks[i]; t.wait && !t.everPTS {
			t.wait = false
		}
	}
}

func (d *Demuxer) onPSMEntry(e psmEntry) {
	d.psmTypes[e.id] = e.streamType
	for i := range d.ntracks {
		if t := &d.tracks[i]; t.key == int(e.id) {
			t.applyType(e.streamType)
		}
	}
}

// trackFor returns the track for key, creating it; nil when full.
func (d *Demuxer) trackFor(key int, id uint8) *track {
	for i := range d.ntracks {
		if d.tracks[i].key == key {
			return &d.tracks[i]
		}
	}
	if d.ntracks == maxTracks {
		return nil
	}
	t := &d.tracks[d.ntracks]
	d.ntracks++
	*t = track{key: key, id: id, video: isVideoID(id), needStart: isVideoID(id), au: d.getBuf()}
	if d.mode == modePS {
		t.applyType(d.psmTypes[id])
	}
	return t
}

// beginPES starts a PES of track t. A PES PTS belongs to the first access
// unit starting in it: for video it is kept pending until the NAL scan finds
// that start, unless the scan cannot tell (pitfall 2).
func (d *Demuxer) beginPES(t *track, h *pesHeader) {
	d.cur = t
	if t.video && d.markerCheck {
		d.markerCheck = false
		if h.hasPTS && (!d.markerHadAU || d.tsUnwrap.peek(h.pts) != d.markerPTS) {
			d.markerGood++
		} else {
			d.markerBad = true
		}
	}
	if !h.hasPTS {
		if len(t.au) == 0 {
			switch {
			case t.everPTS:
				t.extrapolate()
			case d.haveRTP:
				// No timestamps at all: the RTP clock is 90 kHz too.
				t.pts, t.dts = d.rtpTS, d.rtpTS
			}
		}
		return
	}
	pts := d.tsUnwrap.unwrap(h.pts)
	dts := pts
	if h.hasDTS {
		dts = d.tsUnwrap.unwrap(h.dts)
	}
	t.wait = false
	switch {
	case len(t.au) == 0:
		t.setPTS(pts, dts)
		t.pending = false
	case pts == t.pts:
	case !t.video || !t.vcl || t.pending || t.codec == CodecUnknown:
		// The NAL scan is not in control: a new PTS ends the access unit.
		d.emit(t, d.getBuf())
		t.setPTS(pts, dts)
	default:
		t.pending = true
		t.pendPTS, t.pendDTS = pts, dts
	}
}

// payload appends PES payload bytes to the current track, in pieces so
// that an access unit never exceeds the limit by more than one piece.
func (d *Demuxer) payload(b []byte) {
	t := d.cur
	for len(b) > 0 && t != nil && !t.wait {
		n := min(len(b), payloadPiece)
		t.au = append(t.au, b[:n]...)
		b = b[n:]
		if t.video {
			d.splitVideo(t)
		}
		if len(t.au) > d.maxFrame() {
			d.setErr(fmt.Errorf("stream 0x%02X: more than %d bytes: %w", t.id, d.maxFrame(), ErrFrameTooLarge))
			t.resetAU()
			t.wait = true
			t.needStart = t.video
			if d.mode == modePS {
				d.resync()
			}
			return
		}
	}
}

// splitVideo scans the new bytes of t.au for NAL units and emits every
// access unit that is complete: one that has a slice and is followed by an
// access unit delimiter, parameter set, SEI or the first slice of the next
// picture.
func (d *Demuxer) splitVideo(t *track) {
	if t.codec == CodecUnknown {
		t.resolveVideo(sniffAU(t.au))
		if t.codec == CodecUnknown {
			t.needStart = false
			return
		}
	}
	au := t.au
	pos := t.scan
	for {
		i := indexStartCode(au[pos:])
		if i < 0 {
			t.scan = max(pos, len(au)-2)
			return
		}
		i += pos
		if i+6 > len(au) {
			t.scan = i
			return
		}
		vcl, first, start := nalRole(t.codec, au[i+3], au[i+4], au[i+5])
		switch {
		case t.needStart:
			if !start && (!vcl || !first) {
				pos = i + 3
				continue
			}
			// Drop the tail of a frame we joined in the middle of.
			sp := auSplitPoint(au, i)
			au = au[:copy(au, au[sp:])]
			t.au = au
			i -= sp
			t.needStart = false
		case t.vcl && (start || (vcl && first)):
			sp := auSplitPoint(au, i)
			next := append(d.getBuf(), au[sp:]...)
			t.au = au[:sp]
			d.emit(t, next)
			au = t.au
			i -= sp
		}
		if vcl {
			t.vcl = true
		}
		pos = i + 3
	}
}

// auSplitPoint moves a split before the zero_byte of a 4-byte start code.
func auSplitPoint(au []byte, i int) int {
	if i > 0 && au[i-1] == 0 {
		return i - 1
	}
	return i
}

// endPES ends the current PES; an audio PES is one frame (pitfall 8).
func (d *Demuxer) endPES() {
	t := d.cur
	d.cur = nil
	if t != nil && !t.video {
		d.flush(t)
	}
}

// flushVideo completes every video access unit in progress.
func (d *Demuxer) flushVideo() {
	for i := range d.ntracks {
		t := &d.tracks[i]
		if !t.video || (t == d.cur && d.st == stPayload) {
			continue
		}
		d.flush(t)
	}
}

// flush emits the access unit of t, if any.
func (d *Demuxer) flush(t *track) {
	if len(t.au) == 0 || t.needStart {
		return
	}
	d.emit(t, d.getBuf())
}

// emit appends the access unit in t.au to the output and starts the next
// one in next (which may already hold its first bytes).
func (d *Demuxer) emit(t *track, next []byte) {
	f := Frame{
		StreamID:   t.id,
		StreamType: t.streamType,
		PTS:        t.pts,
		DTS:        t.dts,
		Payload:    t.au,
	}
	if t.video {
		f.Keyframe = t.resolveVideo(sniffAU(t.au))
		f.Codec = t.codec
	} else {
		f.Keyframe = true
		f.Codec = t.codec
		if f.Codec != CodecAAC && isADTS(t.au) {
			// Dahua announces AAC as G.711; no PSM says nothing (pitfall 4).
			f.Codec = CodecAAC
		}
	}
	d.out = append(d.out, f)
	d.used = append(d.used, t.au)
	t.au = next
	t.scan = 0
	t.vcl = false
	switch {
	case t.pending:
		t.pending = false
		t.setPTS(t.pendPTS, t.pendDTS)
	case len(next) > 0:
		// An access unit starting inside a PES that has no PTS for it.
		t.extrapolate()
	}
}

// checkAfterMarker verifies that the packet after a marker starts a new
// element; continuation bytes prove the marker unreliable (pitfall 10).
func (d *Demuxer) checkAfterMarker(p []byte) {
	if len(d.carry) > 0 || len(p) < 4 || p[0] != 0 || p[1] != 0 || p[2] != 1 || p[3] < idEnd {
		d.markerBad = true
		return
	}
	d.markerCheck = true
}

// onMarker handles an RTP marker at the end of a packet.
func (d *Demuxer) onMarker() {
	d.markerHadAU = false
	for i := range d.ntracks {
		if t := &d.tracks[i]; t.video && len(t.au) > 0 {
			d.markerHadAU = true
			d.markerPTS = t.pts
		}
	}
	switch {
	case d.st == stPayload:
		// A marker in the middle of a PES cannot be a frame boundary.
		d.markerBad = true
		return
	case d.markerBad || d.markerGood < markerTrustAfter:
		return
	case d.st == stUnbounded:
		d.payload(d.carry)
		d.carry = d.carry[:0]
		d.endPES()
		d.st = stSync
	case d.st != stSync || len(d.carry) > 0:
		return
	}
	d.flushVideo()
}
