package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Bounds on what Scan reads into memory: the writer's init section is
// under 2 KiB and a one-second fragment's moof a few KiB, so anything
// larger is not a segment of ours (and must not cost a huge allocation).
const (
	maxInitSize = 1 << 20
	maxMoofSize = 4 << 20
	// maxTrunSamples bounds the samples of one trun: a fragment of at most
	// maxFragmentDuration holds a few hundred.
	maxTrunSamples = 1 << 16
	// maxSegmentSeconds bounds a decode time: a segment is minutes long, a
	// year is garbage.
	maxSegmentSeconds = 366 * 24 * 3600
)

// Info is what Scan finds in a segment.
type Info struct {
	// Tracks are the codec names of the tracks, video first ("h264",
	// "h265"; "flac" for G.711 stored as FLAC, "lpcm" for G.711 stored as LPCM before, "aac").
	Tracks []string
	// Width and Height come from the video SPS.
	Width, Height int
	// Duration is the video duration of the complete fragments.
	Duration time.Duration
	// Complete is the byte length of the init section and the complete
	// fragments: the file truncated to it is a playable segment.
	Complete int64
	// Fragments is the number of complete fragments.
	Fragments int
}

// Scan reads a segment written by Writer, possibly cut short by a crash,
// and reports its tracks, video duration and how many leading bytes are
// whole (init section plus complete fragments). A file without a complete
// init section is ErrNoInit; anything wrong after it (a truncated or
// garbled fragment) ends the scan there, leaving Complete before it. Only
// an I/O error of r is returned as such.
func Scan(r io.ReaderAt, size int64) (Info, error) {
	var info Info
	s := scanner{r: r, size: size}
	videoID, timeScale, err := s.init(&info)
	if err != nil {
		return Info{}, err
	}
	info.Complete = s.pos
	for {
		end, ticks, hasVideo, err := s.fragment(videoID, timeScale)
		if err != nil {
			if errors.Is(err, errStop) {
				return info, nil
			}
			return Info{}, err
		}
		info.Fragments++
		info.Complete = end
		if hasVideo {
			info.Duration = TicksDuration(ticks, int64(timeScale))
		}
		s.pos = end
	}
}

// errStop ends a scan at the last complete fragment.
var errStop = errors.New("no further complete fragment")

type scanner struct {
	r    io.ReaderAt
	size int64
	pos  int64
	buf  []byte
}

// read reads n bytes at off into the scanner's buffer; past the end of
// the file is errStop.
func (s *scanner) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+int64(n) > s.size {
		return nil, errStop
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if _, err := s.r.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errStop
		}
		return nil, fmt.Errorf("read segment at %d: %w", off, err)
	}
	return b, nil
}

// header reads the box header at off: its size (header included), the
// header's own size and the type. A size below the header's, or running
// past the file, is errStop.
func (s *scanner) header(off int64) (size, hdr int64, typ string, err error) {
	b, err := s.read(off, boxHeader)
	if err != nil {
		return 0, 0, "", err
	}
	size = int64(binary.BigEndian.Uint32(b))
	typ = string(b[4:8])
	hdr = boxHeader
	if size == 1 { // 64-bit size
		b, err = s.read(off+boxHeader, 8)
		if err != nil {
			return 0, 0, "", err
		}
		u := binary.BigEndian.Uint64(b)
		if u > uint64(s.size) {
			return 0, 0, "", errStop
		}
		size, hdr = int64(u), 16
	}
	if size < hdr || off+size > s.size {
		return 0, 0, "", errStop
	}
	return size, hdr, typ, nil
}

// init reads ftyp and moov and fills the track part of info.
func (s *scanner) init(info *Info) (videoID int, timeScale uint32, err error) {
	ftypSize, _, typ, err := s.header(0)
	if err != nil || typ != "ftyp" || ftypSize > maxInitSize {
		return 0, 0, noInit(err, "no ftyp box")
	}
	moovSize, moovHdr, typ, err := s.header(ftypSize)
	if err != nil || typ != "moov" || moovHdr != boxHeader || ftypSize+moovSize > maxInitSize {
		return 0, 0, noInit(err, "no complete moov box after ftyp")
	}
	end := ftypSize + moovSize
	b, err := s.read(0, int(end))
	if err != nil {
		return 0, 0, noInit(err, "short init")
	}
	tracks, ok := parseMoov(b[ftypSize:end])
	if !ok {
		return 0, 0, fmt.Errorf("%w: malformed moov", ErrNoInit)
	}
	for _, t := range tracks {
		name := t.codec
		if name == "" {
			name = "unknown"
		}
		if videoID == 0 && (t.codec == CodecH264 || t.codec == CodecH265) {
			videoID, timeScale = t.id, t.timeScale
			info.Width, info.Height = spsResolution(t.codec, t.sps)
			info.Tracks = append([]string{name}, info.Tracks...)
			continue
		}
		info.Tracks = append(info.Tracks, name)
	}
	if videoID == 0 || timeScale == 0 {
		return 0, 0, fmt.Errorf("%w: no H.264 or H.265 track", ErrNoInit)
	}
	s.pos = end
	return videoID, timeScale, nil
}

func noInit(err error, what string) error {
	if err != nil && !errors.Is(err, errStop) {
		return err // an I/O error
	}
	return fmt.Errorf("%w: %s", ErrNoInit, what)
}

// fragment checks the moof+mdat at s.pos: every trun's samples must lie in
// the mdat. It returns the end of the mdat and, when the fragment has
// video, the video decode time after its last sample.
func (s *scanner) fragment(videoID int, timeScale uint32) (end, ticks int64, hasVideo bool, err error) {
	moofSize, moofHdr, typ, err := s.header(s.pos)
	if err != nil {
		return 0, 0, false, err
	}
	if typ != "moof" || moofHdr != boxHeader || moofSize > maxMoofSize {
		return 0, 0, false, errStop
	}
	mdatSize, mdatHdr, typ, err := s.header(s.pos + moofSize)
	if err != nil {
		return 0, 0, false, err
	}
	if typ != "mdat" {
		return 0, 0, false, errStop
	}
	moof, err := s.read(s.pos, int(moofSize))
	if err != nil {
		return 0, 0, false, err
	}
	// Sample data must lie inside the mdat's payload, as offsets from the
	// moof's first byte (default-base-is-moof).
	dataMin, dataMax := moofSize+mdatHdr, moofSize+mdatSize
	ticks, hasVideo, ok := parseMoof(moof, videoID, dataMin, dataMax, int64(timeScale)*maxSegmentSeconds)
	if !ok {
		return 0, 0, false, errStop
	}
	return s.pos + moofSize + mdatSize, ticks, hasVideo, nil
}

// parseMoof walks a moof's trafs. ok is false for anything malformed.
func parseMoof(moof []byte, videoID int, dataMin, dataMax, maxTicks int64) (ticks int64, hasVideo, ok bool) {
	ok = walk(moof, func(typ string, box []byte) bool {
		if typ != "traf" {
			return true
		}
		id, end, ok := parseTraf(box, dataMin, dataMax, maxTicks)
		if ok && id == videoID {
			ticks, hasVideo = end, true
		}
		return ok
	})
	return ticks, hasVideo, ok
}

// parseTraf reads tfhd, tfdt and the truns of one traf: the track, and the
// decode time after its last sample.
func parseTraf(traf []byte, dataMin, dataMax, maxTicks int64) (id int, end int64, ok bool) {
	body, ok := children(traf, boxHeader)
	if !ok {
		return 0, 0, false
	}
	var defDur, defSize uint32
	var base int64
	var seenTfhd bool
	for len(body) > 0 {
		box, typ, rest, ok := nextBox(body)
		if !ok {
			return 0, 0, false
		}
		body = rest
		switch typ {
		case "tfhd":
			id, defDur, defSize, ok = parseTfhd(box)
			if !ok {
				return 0, 0, false
			}
			seenTfhd = true
		case "tfdt":
			if len(box) < 16 {
				return 0, 0, false
			}
			if box[8] == 1 {
				if len(box) < 20 {
					return 0, 0, false
				}
				u := binary.BigEndian.Uint64(box[12:])
				if u > uint64(maxTicks) {
					return 0, 0, false
				}
				base = int64(u)
			} else {
				base = int64(binary.BigEndian.Uint32(box[12:]))
			}
			end = base
		case "trun":
			if !seenTfhd {
				return 0, 0, false
			}
			dur, ok := parseTrun(box, defDur, defSize, dataMin, dataMax)
			if !ok {
				return 0, 0, false
			}
			end += dur
			if end > maxTicks {
				return 0, 0, false
			}
		}
	}
	return id, end, seenTfhd
}

// parseTfhd reads the track ID and the sample defaults; a base data offset
// is not something the writer produces and is refused.
func parseTfhd(box []byte) (id int, defDur, defSize uint32, ok bool) {
	if len(box) < 16 {
		return 0, 0, 0, false
	}
	flags := binary.BigEndian.Uint32(box[8:]) & 0xFFFFFF
	if flags&0x1 != 0 || flags&tfhdDefaultBaseIsMoof == 0 {
		return 0, 0, 0, false
	}
	id = int(binary.BigEndian.Uint32(box[12:]))
	p := box[16:]
	take := func() (uint32, bool) {
		if len(p) < 4 {
			return 0, false
		}
		v := binary.BigEndian.Uint32(p)
		p = p[4:]
		return v, true
	}
	if flags&0x2 != 0 { // sample description index
		if _, ok = take(); !ok {
			return 0, 0, 0, false
		}
	}
	if flags&0x8 != 0 {
		if defDur, ok = take(); !ok {
			return 0, 0, 0, false
		}
	}
	if flags&0x10 != 0 {
		if defSize, ok = take(); !ok {
			return 0, 0, 0, false
		}
	}
	return id, defDur, defSize, true
}

// parseTrun sums a trun's durations and checks that its samples lie within
// [dataMin, dataMax) of the moof.
func parseTrun(box []byte, defDur, defSize uint32, dataMin, dataMax int64) (dur int64, ok bool) {
	if len(box) < 16 {
		return 0, false
	}
	flags := binary.BigEndian.Uint32(box[8:]) & 0xFFFFFF
	count := int64(binary.BigEndian.Uint32(box[12:]))
	p := box[16:]
	if flags&trunDataOffset == 0 {
		return 0, false // the writer always gives it; guessing is not repair
	}
	if len(p) < 4 {
		return 0, false
	}
	off := int64(int32(binary.BigEndian.Uint32(p)))
	p = p[4:]
	if flags&0x4 != 0 { // first sample flags
		if len(p) < 4 {
			return 0, false
		}
		p = p[4:]
	}
	entry := 0
	for _, f := range []uint32{trunDuration, trunSize, trunFlags, trunCTS} {
		if flags&f != 0 {
			entry += 4
		}
	}
	// A trun without per-sample fields costs no bytes per sample: bound
	// the count by itself (a one-second fragment has a few hundred).
	if count > maxTrunSamples || count*int64(entry) > int64(len(p)) {
		return 0, false
	}
	var total int64
	for range count {
		d, sz := defDur, defSize
		if flags&trunDuration != 0 {
			d, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if flags&trunSize != 0 {
			sz, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if flags&trunFlags != 0 {
			p = p[4:]
		}
		if flags&trunCTS != 0 {
			p = p[4:]
		}
		dur += int64(d)
		total += int64(sz)
	}
	if off < dataMin || off+total > dataMax {
		return 0, false
	}
	return dur, true
}

// children returns the payload of a box after a header of hdr bytes.
func children(box []byte, hdr int) ([]byte, bool) {
	if len(box) < hdr {
		return nil, false
	}
	return box[hdr:], true
}

// nextBox splits the first box off b.
func nextBox(b []byte) (box []byte, typ string, rest []byte, ok bool) {
	if len(b) < boxHeader {
		return nil, "", nil, false
	}
	size := int64(binary.BigEndian.Uint32(b))
	if size < boxHeader || size > int64(len(b)) {
		return nil, "", nil, false
	}
	return b[:size], string(b[4:8]), b[size:], true
}
