package ps

import "iter"

// NALUnits iterates over the NAL units of an Annex-B byte stream (an access
// unit as the Demuxer emits it), header byte first, without start codes and
// without the zero bytes that trail a unit (they belong to the next 4-byte
// start code). Bytes before the first start code and empty units are
// skipped. The units share b's memory; there is no limit on their number
// (cameras that code a slice per macroblock row send hundreds).
func NALUnits(b []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		start := -1 // first byte of the current unit
		emit := func(end int) bool {
			for end > start && b[end-1] == 0 {
				end--
			}
			return end <= start || yield(b[start:end])
		}
		for i := 0; i+2 < len(b); {
			if b[i+2] > 1 {
				i += 3 // no start code can end at i+2
				continue
			}
			if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 {
				i++
				continue
			}
			if start >= 0 && !emit(i) {
				return
			}
			start = i + 3
			i += 3
		}
		if start >= 0 {
			emit(len(b))
		}
	}
}
