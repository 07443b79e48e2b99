package segment

import (
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// Fragment is one complete moof+mdat of a segment, as playback serves it.
type Fragment struct {
	// Offset and Size are the fragment's bytes in the segment object.
	Offset, Size int64
	// Start and End are the video decode times of its first sample and
	// after its last, from the segment's start (each segment's times start
	// at 0).
	Start, End time.Duration
	// Key is set when its first video sample is a key frame: a player can
	// start decoding there.
	Key bool
}

// Layout is where a segment's parts lie: the init section (ftyp+moov)
// is bytes [0, InitSize), then the complete fragments in order.
type Layout struct {
	InitSize  int64
	Fragments []Fragment
}

// Complete is the byte length of the init section and the complete
// fragments (as Info.Complete).
func (l Layout) Complete() int64 {
	if n := len(l.Fragments); n > 0 {
		return l.Fragments[n-1].Offset + l.Fragments[n-1].Size
	}
	return l.InitSize
}

// Fragments reads a segment written by Writer, possibly still being
// written or cut short, and returns its layout: the init section and each
// complete fragment with its video times and whether it starts with a key
// frame. What follows the last complete fragment is ignored, as in Scan.
// A file without a complete init section is ErrNoInit; only an I/O error
// of r is returned otherwise.
func Fragments(r io.ReaderAt, size int64) (Layout, error) {
	var info Info
	s := scanner{r: r, size: size}
	videoID, timeScale, err := s.init(&info)
	if err != nil {
		return Layout{}, err
	}
	l := Layout{InitSize: s.pos}
	var prev int64
	for {
		start := s.pos
		end, ticks, hasVideo, err := s.fragment(videoID, timeScale)
		if err != nil {
			if errors.Is(err, errStop) {
				return l, nil
			}
			return Layout{}, err
		}
		// fragment validated the moof and left it in s.buf.
		moofSize := int64(binary.BigEndian.Uint32(s.buf[:4]))
		base, key := videoStart(s.buf[:moofSize], videoID)
		if !hasVideo {
			base, ticks = prev, prev
		}
		l.Fragments = append(l.Fragments, Fragment{
			Offset: start, Size: end - start, Key: hasVideo && key,
			Start: ticksDuration(base, int64(timeScale)), End: ticksDuration(ticks, int64(timeScale)),
		})
		prev = ticks
		s.pos = end
	}
}

// videoStart returns the decode time of a moof's first video sample and
// whether that sample is a sync sample (the writer gives every video
// sample its flags; a first-sample-flags field takes precedence). The moof
// was validated by the scanner.
func videoStart(moof []byte, videoID int) (base int64, key bool) {
	walk(moof, func(typ string, traf []byte) bool {
		if typ != "traf" {
			return true
		}
		body, _ := children(traf, boxHeader)
		var id int
		var b int64
		var k bool
		for len(body) > 0 {
			box, typ, rest, ok := nextBox(body)
			if !ok {
				break
			}
			body = rest
			switch typ {
			case "tfhd":
				id, _, _, _ = parseTfhd(box)
			case "tfdt":
				if len(box) >= 20 && box[8] == 1 {
					b = int64(binary.BigEndian.Uint64(box[12:]))
				} else if len(box) >= 16 {
					b = int64(binary.BigEndian.Uint32(box[12:]))
				}
			case "trun":
				k = firstSampleSync(box)
			}
		}
		if id == videoID {
			base, key = b, k
			return false
		}
		return true
	})
	return base, key
}

// firstSampleSync reads the flags of a trun's first sample.
func firstSampleSync(trun []byte) bool {
	if len(trun) < 16 {
		return false
	}
	flags := binary.BigEndian.Uint32(trun[8:]) & 0xFFFFFF
	p := trun[16:]
	if flags&trunDataOffset != 0 {
		if len(p) < 4 {
			return false
		}
		p = p[4:]
	}
	var sf uint32
	switch {
	case flags&0x4 != 0: // first-sample-flags
		if len(p) < 4 {
			return false
		}
		sf = binary.BigEndian.Uint32(p)
	case flags&trunFlags != 0:
		if flags&trunDuration != 0 {
			p = p[min(4, len(p)):]
		}
		if flags&trunSize != 0 {
			p = p[min(4, len(p)):]
		}
		if len(p) < 4 {
			return false
		}
		sf = binary.BigEndian.Uint32(p)
	default:
		return false
	}
	// sample_is_non_sync_sample (ISO/IEC 14496-12 §8.8.3.1) clear.
	return sf&0x00010000 == 0
}

// InitSize returns the length of a segment's init section (ftyp+moov),
// where its media part starts; ErrNoInit when it has none.
func InitSize(r io.ReaderAt, size int64) (int64, error) {
	var info Info
	s := scanner{r: r, size: size}
	if _, _, err := s.init(&info); err != nil {
		return 0, err
	}
	return s.pos, nil
}
