package vodtranscode

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// sample is a source sample with its decode time in its track's scale.
type sample struct {
	dts uint64
	s   *fmp4.Sample
}

func (s sample) pts() int64 { return int64(s.dts) + int64(s.s.PTSOffset) }

// tracks are a segment's video and audio tracks.
type tracks struct {
	init           *fmp4.Init
	videoID        int
	audioID        int // 0: none
	vScale, aScale uint32
}

// readInit reads a segment's init section and finds its tracks; the video
// must be H.265.
func readInit(src Source) (tracks, error) {
	var in fmp4.Init
	if err := in.Unmarshal(io.NewSectionReader(src.R, 0, src.Layout.InitSize)); err != nil {
		return tracks{}, fmt.Errorf("%w: recording %s: init section: %w", ErrSegment, src.Key, err)
	}
	tr := tracks{init: &in}
	for _, it := range in.Tracks {
		switch it.Codec.(type) {
		case *codecs.H265:
			tr.videoID, tr.vScale = it.ID, it.TimeScale
		case *codecs.H264:
			return tracks{}, fmt.Errorf("%w: recording %s is H.264", ErrNotH265, src.Key)
		default:
			if !it.Codec.IsVideo() && tr.audioID == 0 {
				tr.audioID, tr.aScale = it.ID, it.TimeScale
			}
		}
	}
	if tr.videoID == 0 || tr.vScale == 0 {
		return tracks{}, fmt.Errorf("%w: recording %s has no H.265 track", ErrNotH265, src.Key)
	}
	return tr, nil
}

// MaxStretchBytes bounds what one stretch reads of its segment: minutes of
// 1080p, far more than a playlist's stretches; a request for more is
// ErrTooLong.
const MaxStretchBytes = 64 << 20

// stretch is what a Range selects of a segment.
type stretch struct {
	// video is the input of ffmpeg in decode order: from the key frame at
	// or after From up to the first key frame at or after To, that key
	// frame and its leading pictures (shown before it: they belong here,
	// and only this stretch, which holds what they refer to, can decode
	// them when the GOPs are open). Empty when no key frame falls in
	// [From, To): the stretch before runs through it.
	video []sample
	// expected are the presentation times of the frames ffmpeg outputs,
	// in order: every input but the leading pictures of the first key
	// frame that refer to the GOP before it (H.265 RASL).
	expected []int64
	// startPTS and endPTS bound the frames kept, in video ticks: the
	// first key frame's presentation, and the next key frame's (or after
	// the last frame).
	startPTS, endPTS int64
	audio            []sample
}

// readStretch reads the samples of rg from the segment's fragments, from
// the fragment before the one holding From (audio near the cut may sit in
// it) until the leading pictures of the first key frame at or after To
// are read, and one fragment more for the audio before that key frame.
func readStretch(src Source, tr tracks, rg Range) (stretch, error) {
	frags := src.Layout.Fragments
	if n := len(frags); n == 0 || rg.From >= frags[n-1].End {
		return stretch{}, fmt.Errorf("%w: recording %s has nothing from %s on", ErrNoVideo, src.Key, rg.From)
	}
	first := 0
	for i, f := range frags {
		if f.Start > rg.From {
			break
		}
		first = i
	}
	first = max(0, first-1)
	from := durationTicks(rg.From, tr.vScale)
	to := durationTicks(rg.To, tr.vScale)
	var st stretch
	var audioAll []sample
	// trailing is set at the first picture after the end key frame that is
	// not one of its leading pictures: the fragment after the one holding
	// it gives the audio up to the end key frame, then reading stops.
	started, ended, trailing, last := false, false, false, false
	var startKey, endKey sample
	var read int64
	for i := first; i < len(frags) && !last; i++ {
		last = trailing
		f := frags[i]
		if read += f.Size; read > MaxStretchBytes {
			return stretch{}, fmt.Errorf("%w: recording %s from %s to %s: more than %d bytes", ErrTooLong, src.Key, rg.From, rg.To, MaxStretchBytes)
		}
		parts, err := readFragment(src, f)
		if err != nil {
			return stretch{}, err
		}
		for _, p := range parts {
			for _, pt := range p.Tracks {
				dts := pt.BaseTime
				for _, s := range pt.Samples {
					v := sample{dts, s}
					dts += uint64(s.Duration)
					switch {
					case pt.ID == tr.audioID:
						audioAll = append(audioAll, v)
					case pt.ID != tr.videoID:
					case !started:
						if s.IsNonSyncSample || v.dts < from {
							continue
						}
						if rg.To != 0 && v.dts >= to {
							// No key frame in [From, To): the stretch
							// before runs through it.
							return stretch{}, nil
						}
						started, startKey = true, v
						st.video = append(st.video, v)
					case !ended:
						if !s.IsNonSyncSample && rg.To != 0 && v.dts >= to {
							ended, endKey = true, v
						}
						st.video = append(st.video, v)
					case !trailing && v.pts() < endKey.pts() && v.s.IsNonSyncSample:
						// A leading picture of the end key frame.
						st.video = append(st.video, v)
					default:
						trailing = true
					}
				}
			}
		}
	}
	if !started {
		if rg.From > 0 {
			return stretch{}, nil // the segment's last GOP began before From
		}
		return stretch{}, fmt.Errorf("%w: recording %s from %s to %s", ErrNoVideo, src.Key, rg.From, rg.To)
	}
	st.startPTS = startKey.pts()
	if ended {
		st.endPTS = endKey.pts()
	} else {
		for _, v := range st.video {
			st.endPTS = max(st.endPTS, v.pts()+int64(v.s.Duration))
		}
	}
	// What ffmpeg outputs: every input but the first key frame's leading
	// pictures that refer to the GOP before it.
	for i, v := range st.video {
		if i > 0 && v.pts() < st.startPTS && leadsFrom(v.s.Payload) {
			continue
		}
		st.expected = append(st.expected, v.pts())
	}
	slices.Sort(st.expected)
	// Audio from the key frame's presentation to the next one's, in the
	// audio's scale: neighbouring stretches cut at the same times. The
	// segment's first stretch takes what comes before, its last what
	// comes after.
	lo := scaleTicks(st.startPTS, tr.vScale, tr.aScale)
	hi := scaleTicks(st.endPTS, tr.vScale, tr.aScale)
	for _, a := range audioAll {
		t := int64(a.dts)
		if (rg.From == 0 || t >= lo) && (!ended || t < hi) {
			st.audio = append(st.audio, a)
		}
	}
	return st, nil
}

// readFragment reads and parses one fragment of the segment.
func readFragment(src Source, f segment.Fragment) (fmp4.Parts, error) {
	b := make([]byte, f.Size)
	if _, err := src.R.ReadAt(b, f.Offset); err != nil {
		return nil, fmt.Errorf("%w: recording %s: fragment at %d: %w", ErrRead, src.Key, f.Offset, err)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: recording %s: fragment at %d: %w", ErrSegment, src.Key, f.Offset, err)
	}
	return parts, nil
}

// firstKey reads the segment's first video key frame (in its first
// fragments: a segment starts with one).
func firstKey(src Source, tr tracks) (sample, error) {
	var read int64
	for _, f := range src.Layout.Fragments {
		if read += f.Size; read > MaxStretchBytes {
			break
		}
		parts, err := readFragment(src, f)
		if err != nil {
			return sample{}, err
		}
		for _, p := range parts {
			for _, pt := range p.Tracks {
				dts := pt.BaseTime
				for _, s := range pt.Samples {
					if pt.ID == tr.videoID && !s.IsNonSyncSample {
						return sample{dts, s}, nil
					}
					dts += uint64(s.Duration)
				}
			}
		}
	}
	return sample{}, fmt.Errorf("%w: recording %s has no key frame", ErrNoVideo, src.Key)
}

// H.265 NAL unit types of the leading pictures that refer to the GOP
// before their key frame (RASL_N, RASL_R).
const (
	naluRASLN = 8
	naluRASLR = 9
)

// leadsFrom reports whether an H.265 sample (length-prefixed NAL units) is
// a RASL picture: decodable only with the GOP before its key frame.
func leadsFrom(payload []byte) bool {
	for len(payload) >= 5 {
		n := int(payload[0])<<24 | int(payload[1])<<16 | int(payload[2])<<8 | int(payload[3])
		if n <= 0 || n > len(payload)-4 {
			return false
		}
		typ := payload[4] >> 1 & 0x3F
		if typ < 32 { // the first slice
			return typ == naluRASLN || typ == naluRASLR
		}
		payload = payload[4+n:]
	}
	return false
}

// annexB is the stretch's video as an H.265 Annex-B stream for ffmpeg.
func (st stretch) annexB() ([]byte, error) {
	var out []byte
	for _, v := range st.video {
		var nalus h264.AVCC
		if err := nalus.Unmarshal(v.s.Payload); err != nil {
			return nil, fmt.Errorf("%w: sample at %d: %w", ErrSegment, v.dts, err)
		}
		for _, n := range nalus {
			out = append(out, 0, 0, 0, 1)
			out = append(out, n...)
		}
	}
	return out, nil
}

// durationTicks is d in ticks of a track's time scale (0 for d ≤ 0).
func durationTicks(d time.Duration, scale uint32) uint64 {
	return uint64(segment.DurationTicks(max(d, 0), int64(scale)))
}

// scaleTicks converts t ticks of a from Hz clock to a to Hz one.
func scaleTicks(t int64, from, to uint32) int64 {
	if from == to {
		return t
	}
	return t/int64(from)*int64(to) + t%int64(from)*int64(to)/int64(from)
}
