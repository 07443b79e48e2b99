package ps

// Start code values (the byte after 00 00 01) of ISO/IEC 13818-1.
const (
	idEnd          = 0xB9
	idPack         = 0xBA
	idSystemHeader = 0xBB
	idPSM          = 0xBC
)

// hdrStatus is the outcome of parsing a header from a possibly short buffer.
type hdrStatus int

const (
	hdrOK   hdrStatus = iota
	hdrMore           // need more bytes
	hdrBad            // not a valid header: resync
)

func isVideoID(id byte) bool { return id >= 0xE0 && id <= 0xEF }
func isAudioID(id byte) bool { return id >= 0xC0 && id <= 0xDF }

// pesHeader is the parsed fixed and optional part of a PES header.
type pesHeader struct {
	id       byte
	hdrLen   int // bytes before the payload, including the 6-byte prefix
	payLen   int // payload bytes, -1 when PES_packet_length is 0 (unbounded)
	hasPTS   bool
	hasDTS   bool
	pts, dts uint64
}

// readTS decodes a 5-byte PTS/DTS field; marker bits are not checked
// because some devices get them wrong.
func readTS(b []byte) uint64 {
	return uint64(b[0]>>1&7)<<30 | uint64(b[1])<<22 | uint64(b[2]>>1)<<15 |
		uint64(b[3])<<7 | uint64(b[4]>>1)
}

// parsePESHeader parses a PES header (MPEG-2 or MPEG-1 syntax) at the start
// of b, which begins with 00 00 01 id.
func parsePESHeader(b []byte) (pesHeader, hdrStatus) {
	var h pesHeader
	if len(b) < 7 {
		return h, hdrMore
	}
	h.id = b[3]
	pktLen := int(b[4])<<8 | int(b[5])
	if b[6]&0xC0 == 0x80 {
		// MPEG-2 syntax.
		if len(b) < 9 {
			return h, hdrMore
		}
		n := int(b[8])
		h.hdrLen = 9 + n
		if len(b) < h.hdrLen {
			return h, hdrMore
		}
		switch b[7] >> 6 {
		case 2:
			if n < 5 {
				return h, hdrBad
			}
			h.hasPTS = true
			h.pts = readTS(b[9:])
		case 3:
			if n < 10 {
				return h, hdrBad
			}
			h.hasPTS, h.hasDTS = true, true
			h.pts = readTS(b[9:])
			h.dts = readTS(b[14:])
		case 1:
			return h, hdrBad
		}
	} else {
		// MPEG-1 syntax (ffmpeg -f mpeg): stuffing, STD buffer, PTS/DTS.
		p := 6
		for i := 0; ; i++ {
			if p >= len(b) {
				return h, hdrMore
			}
			if b[p] != 0xFF {
				break
			}
			if i == 16 {
				return h, hdrBad
			}
			p++
		}
		if b[p]&0xC0 == 0x40 {
			p += 2
			if p >= len(b) {
				return h, hdrMore
			}
		}
		switch {
		case b[p]>>4 == 2:
			if len(b) < p+5 {
				return h, hdrMore
			}
			h.hasPTS = true
			h.pts = readTS(b[p:])
			p += 5
		case b[p]>>4 == 3:
			if len(b) < p+10 {
				return h, hdrMore
			}
			h.hasPTS, h.hasDTS = true, true
			h.pts = readTS(b[p:])
			h.dts = readTS(b[p+5:])
			p += 10
		case b[p] == 0x0F:
			p++
		default:
			return h, hdrBad
		}
		h.hdrLen = p
	}
	if pktLen == 0 {
		h.payLen = -1
		return h, hdrOK
	}
	h.payLen = pktLen + 6 - h.hdrLen
	if h.payLen < 0 {
		return h, hdrBad
	}
	return h, hdrOK
}

// packHeaderLen returns the length of the pack header at the start of b
// (MPEG-2: 14 + stuffing, MPEG-1: 12).
func packHeaderLen(b []byte) (int, hdrStatus) {
	if len(b) < 5 {
		return 0, hdrMore
	}
	switch {
	case b[4]&0xC0 == 0x40:
		if len(b) < 14 {
			return 0, hdrMore
		}
		return 14 + int(b[13]&7), hdrOK
	case b[4]&0xF0 == 0x20:
		return 12, hdrOK
	}
	// Includes the truncated Hikvision "00 00 01 BA 00 00 01 E0".
	return 0, hdrBad
}

// psmEntry is one elementary stream of a program stream map.
type psmEntry struct {
	streamType uint8
	id         uint8
}

// parsePSM calls fn for each entry of the PSM in b (complete, starting with
// 00 00 01 BC). The CRC is not checked: devices get it wrong.
func parsePSM(b []byte, fn func(psmEntry)) bool {
	if len(b) < 16 {
		return false
	}
	end := 6 + (int(b[4])<<8 | int(b[5]))
	if end > len(b) {
		return false
	}
	p := 10 + (int(b[8])<<8 | int(b[9]))
	if p+2 > end {
		return false
	}
	mapEnd := p + 2 + (int(b[p])<<8 | int(b[p+1]))
	p += 2
	if mapEnd > end {
		mapEnd = end
	}
	for p+4 <= mapEnd {
		fn(psmEntry{streamType: b[p], id: b[p+1]})
		p += 4 + (int(b[p+2])<<8 | int(b[p+3]))
	}
	return true
}
