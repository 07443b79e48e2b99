package ps

// maxTracks bounds the number of elementary streams followed at once.
const maxTracks = 16

// defaultFrameDuration (40 ms at 90 kHz) extrapolates the PTS of an access
// unit that starts inside a PES whose PTS belongs to an earlier one, until
// the real frame duration is known.
const defaultFrameDuration = 3600

// track is the assembly state of one elementary stream.
type track struct {
	key        int // stream_id for PS, 0x100+PID for TS
	id         uint8
	video      bool
	streamType uint8 // announced by PSM/PMT, 0 if none
	codec      Codec
	votes      int // consecutive access units whose sniffed codec disagrees

	au       []byte
	pts, dts int64
	everPTS  bool
	// wait drops data after a loss until a PES with a PTS starts a new
	// access unit, so that no frame is emitted that begins mid-way.
	wait bool

	// Video access unit splitting on NAL units (ISO/IEC 13818-1 2.4.3.7: a
	// PES PTS belongs to the first access unit that starts in that PES).
	scan      int  // au[:scan] has been searched for start codes
	vcl       bool // the current access unit contains a slice
	needStart bool // drop bytes until an access unit start is found
	pending   bool // a PES PTS waits for the next access unit start
	pendPTS   int64
	pendDTS   int64
	dur       int64 // last observed PTS step between access units
}

// resetAU empties the access unit being assembled.
func (t *track) resetAU() {
	t.au = t.au[:0]
	t.scan = 0
	t.vcl = false
	t.pending = false
}

// applyType records the stream_type announced by a PSM or PMT.
func (t *track) applyType(st uint8) {
	if st == t.streamType {
		// A PSM repeated on every keyframe must not undo a codec fixed by sniffing.
		return
	}
	t.streamType = st
	t.codec = CodecFromStreamType(st)
	t.votes = 0
}

// resolveVideo updates the track codec from the sniffed NAL headers and
// reports whether the access unit is a keyframe.
func (t *track) resolveVideo(r sniffResult) bool {
	switch {
	case r.codec == CodecUnknown:
	case r.codec == t.codec:
		t.votes = 0
	case r.strong, t.codec == CodecUnknown && t.streamType == 0:
		t.codec = r.codec
		t.votes = 0
	default:
		// A weak disagreement (one NAL) must repeat before the PSM is overruled.
		t.votes++
		if t.votes >= 3 {
			t.codec = r.codec
			t.votes = 0
		}
	}
	switch t.codec {
	case CodecH264:
		return r.key264
	case CodecH265:
		return r.key265
	}
	return false
}

// nalRole classifies a NAL unit for access unit splitting (H.264 7.4.1.2.3,
// H.265 7.4.2.4.4). h holds the NAL header and the first slice byte.
func nalRole(c Codec, b0, b1, b2 byte) (vcl, firstSlice, auStart bool) {
	switch c {
	case CodecH264:
		if b0&0x80 != 0 {
			return false, false, false
		}
		switch b0 & 0x1F {
		case 1, 5:
			// first_mb_in_slice == 0 is ue(v) "1": the first bit is set.
			return true, b1&0x80 != 0, false
		case 6, 7, 8, 9, 14, 15, 16, 17, 18:
			return false, false, true
		}
	case CodecH265:
		if b0&0x81 != 0 || b1&0xF8 != 0 || b1&7 == 0 {
			return false, false, false
		}
		switch t := b0 >> 1; {
		case t <= 9, t >= 16 && t <= 21:
			// first_slice_segment_in_pic_flag is the first bit.
			return true, b2&0x80 != 0, false
		case t >= 32 && t <= 35, t == 39, t >= 41 && t <= 44, t >= 48 && t <= 55:
			return false, false, true
		}
	}
	return false, false, false
}

// setPTS sets the timestamps of a new access unit and learns the frame
// duration from the step.
func (t *track) setPTS(pts, dts int64) {
	if t.everPTS {
		if step := pts - t.pts; step > 0 && step <= 90000 {
			t.dur = step
		}
	}
	t.pts, t.dts = pts, dts
	t.everPTS = true
}

// extrapolate advances the timestamps by one frame duration.
func (t *track) extrapolate() {
	step := t.dur
	if step == 0 {
		step = defaultFrameDuration
	}
	t.pts += step
	t.dts += step
}
