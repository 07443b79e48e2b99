package segment

import "encoding/binary"

// moovTrack is what Scan needs of one trak of a moov.
type moovTrack struct {
	id        int
	timeScale uint32
	codec     string // CodecH264 …, "" when the sample entry is not one we write
	sps       []byte // video only
}

// Offsets of the children of sample entries (ISO/IEC 14496-12 §12.1.3,
// §12.2.3): the fixed fields of a VisualSampleEntry and an
// AudioSampleEntry after the box header.
const (
	visualEntryFields = 78
	audioEntryFields  = 28
)

// parseMoov walks a moov box (header included) by hand: the writer's is a
// few hundred bytes, and a reflective MP4 parser costs more than the rest
// of a scan together. ok is false for a malformed box.
func parseMoov(moov []byte) (tracks []moovTrack, ok bool) {
	ok = walk(moov, func(typ string, box []byte) bool {
		if typ != "trak" {
			return true
		}
		t, ok := parseTrak(box)
		tracks = append(tracks, t)
		return ok
	})
	return tracks, ok
}

// parseTrak reads the track ID (tkhd), time scale (mdhd) and first
// sample entry (stsd) of a trak.
func parseTrak(trak []byte) (moovTrack, bool) {
	var t moovTrack
	wellFormed := walk(trak, func(typ string, box []byte) bool {
		switch typ {
		case "tkhd":
			id, ok := fullBoxField(box, 8, 16)
			t.id = id
			return ok
		case "mdhd":
			ts, ok := fullBoxField(box, 8, 16)
			t.timeScale = uint32(ts)
			return ok
		case "stsd":
			return parseStsd(box, &t)
		}
		return true
	}, "mdia", "minf", "stbl")
	return t, wellFormed && t.id != 0
}

// walk calls fn for each child of box, descending into the containers
// named; fn returns false to stop at a malformed box. walk reports whether
// every box was well formed.
func walk(box []byte, fn func(typ string, box []byte) bool, containers ...string) bool {
	body, ok := children(box, boxHeader)
	if !ok {
		return false
	}
	for len(body) > 0 {
		child, typ, rest, ok := nextBox(body)
		if !ok {
			return false
		}
		body = rest
		descend := false
		for _, c := range containers {
			descend = descend || c == typ
		}
		if descend {
			if !walk(child, fn, containers...) {
				return false
			}
			continue
		}
		if !fn(typ, child) {
			return false
		}
	}
	return true
}

// fullBoxField reads the 32-bit field at offset v0 (version 0) or v1
// (version 1) after a full box's version and flags.
func fullBoxField(box []byte, v0, v1 int) (int, bool) {
	if len(box) < boxHeader+4 {
		return 0, false
	}
	off := boxHeader + 4 + v0
	if box[boxHeader] == 1 {
		off = boxHeader + 4 + v1
	}
	if len(box) < off+4 {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(box[off:])), true
}

// parseStsd reads the first sample entry: its codec and, for video, the
// SPS of its avcC or hvcC.
func parseStsd(stsd []byte, t *moovTrack) bool {
	if len(stsd) < boxHeader+8 {
		return false
	}
	entries := stsd[boxHeader+8:]
	if len(entries) == 0 {
		return true
	}
	entry, typ, _, ok := nextBox(entries)
	if !ok {
		return false
	}
	switch typ {
	case "avc1", "avc3":
		t.codec = CodecH264
		t.sps, ok = entryConfig(entry, "avcC", avccSPS)
	case "hvc1", "hev1":
		t.codec = CodecH265
		t.sps, ok = entryConfig(entry, "hvcC", hvccSPS)
	case "fLaC":
		t.codec = CodecFLAC
	case "ipcm":
		t.codec = CodecLPCM
	case "mp4a":
		t.codec = CodecAAC
	}
	return ok
}

// entryConfig finds the configuration box of a visual sample entry and
// takes the SPS from it.
func entryConfig(entry []byte, name string, sps func([]byte) ([]byte, bool)) ([]byte, bool) {
	if len(entry) < boxHeader+visualEntryFields {
		return nil, false
	}
	body := entry[boxHeader+visualEntryFields:]
	for len(body) > 0 {
		box, typ, rest, ok := nextBox(body)
		if !ok {
			return nil, false
		}
		body = rest
		if typ == name {
			return sps(box[boxHeader:])
		}
	}
	return nil, true // no configuration: no resolution, still a track
}

// avccSPS takes the first SPS of an AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §5.3.3.1).
func avccSPS(p []byte) ([]byte, bool) {
	if len(p) < 6 {
		return nil, false
	}
	if p[5]&0x1F == 0 {
		return nil, true
	}
	return lengthPrefixed(p[6:])
}

// hvccSPS takes the first SPS of an HEVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §8.3.3.1).
func hvccSPS(p []byte) ([]byte, bool) {
	const header = 23 // 22 bytes of profile and stream fields, then numOfArrays
	if len(p) < header {
		return nil, false
	}
	arrays := int(p[22])
	p = p[header:]
	for range arrays {
		if len(p) < 3 {
			return nil, false
		}
		typ, n := p[0]&0x3F, int(binary.BigEndian.Uint16(p[1:]))
		p = p[3:]
		for range n {
			nalu, ok := lengthPrefixed(p)
			if !ok {
				return nil, false
			}
			if typ == 33 { // SPS_NUT
				return nalu, true
			}
			p = p[2+len(nalu):]
		}
	}
	return nil, true
}

// lengthPrefixed reads a 16-bit length and that many bytes.
func lengthPrefixed(p []byte) ([]byte, bool) {
	if len(p) < 2 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(p))
	if len(p) < 2+n {
		return nil, false
	}
	return p[2 : 2+n], true
}
