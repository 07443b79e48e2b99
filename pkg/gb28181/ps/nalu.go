package ps

import "bytes"

// indexStartCode returns the index of the first 00 00 01 in b, or -1.
func indexStartCode(b []byte) int {
	return bytes.Index(b, []byte{0, 0, 1})
}

// maxSniffNALs bounds the work spent per access unit on codec sniffing.
const maxSniffNALs = 32

// sniffResult is what the NAL headers at the start of an access unit say.
type sniffResult struct {
	codec  Codec
	strong bool // enough evidence to overrule a PSM
	key264 bool // H.264 IDR slice seen
	key265 bool // H.265 IRAP picture seen
}

// h264Plausible reports whether b is a plausible H.264 NAL header byte.
// Data-partitioning types 2-4 are treated as implausible: they exist only in
// the Extended profile, which no camera uses, and they collide with H.265.
func h264Plausible(b byte) (ok, vcl, key bool) {
	if b&0x80 != 0 {
		return false, false, false
	}
	ref := b >> 5 & 3
	switch b & 0x1F {
	case 1:
		return true, true, false
	case 5:
		return ref != 0, ref != 0, ref != 0
	case 7, 8:
		return ref != 0, false, false
	case 6, 9, 10, 11, 12:
		return ref == 0, false, false
	}
	return false, false, false
}

// h265Plausible reports whether b0 b1 is a plausible single-layer H.265 NAL
// header (forbidden bit 0, nuh_layer_id 0, nuh_temporal_id_plus1 > 0).
func h265Plausible(b0, b1 byte) (ok, vcl, key bool) {
	if b0&0x81 != 0 || b1&0xF8 != 0 || b1&7 == 0 {
		return false, false, false
	}
	t := b0 >> 1
	switch {
	case t <= 9:
		return true, true, false
	case t >= 16 && t <= 21:
		return true, true, true
	case t >= 32 && t <= 40:
		return true, false, false
	}
	return false, false, false
}

// sniffAU scores the NAL headers of an Annex-B access unit as H.264 and as
// H.265. It stops at the first slice that only one of the two codecs
// explains, so the cost is a few header bytes per frame.
func sniffAU(au []byte) sniffResult {
	var r sniffResult
	s264, s265 := 0, 0
	pos := 0
	for n := 0; n < maxSniffNALs; n++ {
		i := indexStartCode(au[pos:])
		if i < 0 {
			break
		}
		pos += i + 3
		if pos >= len(au) {
			break
		}
		b0 := au[pos]
		var b1 byte
		if pos+1 < len(au) {
			b1 = au[pos+1]
		}
		ok4, vcl4, key4 := h264Plausible(b0)
		ok5, vcl5, key5 := h265Plausible(b0, b1)
		if ok4 {
			s264++
			r.key264 = r.key264 || key4
		}
		if ok5 {
			s265++
			r.key265 = r.key265 || key5
		}
		if (vcl4 && !ok5) || (vcl5 && !ok4) {
			break
		}
	}
	switch {
	case s264 > s265:
		r.codec = CodecH264
		r.strong = s264 >= 2 && s265*2 < s264
	case s265 > s264:
		r.codec = CodecH265
		r.strong = s265 >= 2 && s264*2 < s265
	}
	return r
}

// isADTS reports whether b is a sequence of complete ADTS frames; used to
// catch AAC announced as G.711 (Dahua) or audio without a PSM.
func isADTS(b []byte) bool {
	if len(b) < 7 {
		return false
	}
	for len(b) > 0 {
		if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
			return false
		}
		n := int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5])>>5
		if n < 7 || n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}
