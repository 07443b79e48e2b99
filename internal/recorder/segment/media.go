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
	// Times are where its tracks' decode times (tfdt) are written, so
	// that playback can shift a segment's timeline.
	Times []DecodeTime
}

// DecodeTime is one track's 64-bit decode time (tfdt version 1) in a
// fragment.
type DecodeTime struct {
	// Track is the track ID; its time scale is in Layout.TimeScales.
	Track int
	// Offset is where the 8-byte big-endian value lies in the object.
	Offset int64
	// Value is the decode time, in the track's time scale.
	Value uint64
}

// Layout is where a segment's parts lie: the init section (ftyp+moov)
// is bytes [0, InitSize), then the complete fragments in order.
type Layout struct {
	InitSize  int64
	Fragments []Fragment
	// TimeScales are the tracks' time scales, by track ID.
	TimeScales map[int]uint32
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
	l := Layout{InitSize: s.pos, TimeScales: map[int]uint32{}}
	if err := s.timeScales(l.TimeScales); err != nil {
		return Layout{}, err
	}
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
		f := Fragment{Offset: start, Size: end - start}
		base, key := trafs(s.buf[:moofSize], start, videoID, &f)
		if !hasVideo {
			base, ticks = prev, prev
		}
		f.Key = hasVideo && key
		f.Start, f.End = TicksDuration(base, int64(timeScale)), TicksDuration(ticks, int64(timeScale))
		l.Fragments = append(l.Fragments, f)
		prev = ticks
		s.pos = end
	}
}

// timeScales reads the tracks' time scales from the init section that
// init validated.
func (s *scanner) timeScales(into map[int]uint32) error {
	ftypSize, _, _, err := s.header(0)
	if err != nil {
		return noInit(err, "no ftyp box")
	}
	b, err := s.read(0, int(s.pos))
	if err != nil {
		return noInit(err, "short init")
	}
	tracks, _ := parseMoov(b[ftypSize:])
	for _, t := range tracks {
		into[t.id] = t.timeScale
	}
	return nil
}

// trafs walks a moof at offset at of the object (validated by the
// scanner): it records each traf's 64-bit decode time in f and returns the
// video track's decode time and whether its first sample is a key frame.
func trafs(moof []byte, at int64, videoID int, f *Fragment) (base int64, key bool) {
	pos := int64(boxHeader)
	body := moof[boxHeader:]
	for len(body) > 0 {
		box, typ, rest, ok := nextBox(body)
		if !ok {
			break
		}
		if typ == "traf" {
			id, b, k, tfdt, v1 := traf(box)
			if v1 {
				f.Times = append(f.Times, DecodeTime{
					Track: id, Offset: at + pos + tfdt, Value: binary.BigEndian.Uint64(box[tfdt:]),
				})
			}
			if id == videoID {
				base, key = b, k
			}
		}
		pos += int64(len(box))
		body = rest
	}
	return base, key
}

// traf reads a traf's track ID, decode time and first sample's sync flag,
// and where its tfdt's value is (from the traf's first byte) when it is a
// 64-bit one.
func traf(box []byte) (id int, base int64, key bool, tfdt int64, v1 bool) {
	pos := int64(boxHeader)
	body := box[boxHeader:]
	for len(body) > 0 {
		child, typ, rest, ok := nextBox(body)
		if !ok {
			break
		}
		switch typ {
		case "tfhd":
			id, _, _, _ = parseTfhd(child)
		case "tfdt":
			if len(child) >= 20 && child[8] == 1 {
				base, tfdt, v1 = int64(binary.BigEndian.Uint64(child[12:])), pos+12, true
			} else if len(child) >= 16 {
				base = int64(binary.BigEndian.Uint32(child[12:]))
			}
		case "trun":
			key = firstSampleSync(child)
		}
		pos += int64(len(child))
		body = rest
	}
	return id, base, key, tfdt, v1
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
