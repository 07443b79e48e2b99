package vodtranscode

import (
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// maxFragment bounds one fragment read from a segment: a second or a few
// of video, never hundreds of MiB; a larger one is a garbled file.
const maxFragment = 256 << 20

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

// stretch is what a Range selects of a segment.
type stretch struct {
	video []sample // decode order, the first a key frame
	audio []sample
	// endPTS is where the stretch ends in video ticks: the next key
	// frame's presentation time, or after the last sample.
	endPTS int64
	// startAll and endAll are set when the stretch begins at the
	// segment's start or runs to its end: the audio there is kept whole.
	startAll, endAll bool
}

// readStretch reads the samples of rg from the segment's fragments: from
// the fragment before the one holding From (audio near the cut may sit in
// it) until the first key frame at or after To, and one fragment more
// for the audio before that key frame.
func readStretch(src Source, tr tracks, rg Range) (stretch, error) {
	frags := src.Layout.Fragments
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
	var videoAll, audioAll []sample
	started, ended := false, false
	var endKey sample
	extra := 0
	for i := first; i < len(frags) && extra < 2; i++ {
		if ended {
			extra++
		}
		f := frags[i]
		if f.Size > maxFragment {
			return stretch{}, fmt.Errorf("%w: recording %s: fragment of %d bytes", ErrSegment, src.Key, f.Size)
		}
		b := make([]byte, f.Size)
		if _, err := src.R.ReadAt(b, f.Offset); err != nil {
			return stretch{}, fmt.Errorf("%w: recording %s: read fragment at %d: %w", ErrSegment, src.Key, f.Offset, err)
		}
		var parts fmp4.Parts
		if err := parts.Unmarshal(b); err != nil {
			return stretch{}, fmt.Errorf("%w: recording %s: fragment at %d: %w", ErrSegment, src.Key, f.Offset, err)
		}
		for _, p := range parts {
			for _, pt := range p.Tracks {
				dts := pt.BaseTime
				for _, s := range pt.Samples {
					switch pt.ID {
					case tr.videoID:
						if ended {
							break
						}
						key := !s.IsNonSyncSample
						switch {
						case !started && key && dts >= from:
							started = true
						case started && key && rg.To != 0 && dts >= to:
							ended, endKey = true, sample{dts, s}
						}
						if started && !ended {
							videoAll = append(videoAll, sample{dts, s})
						}
					case tr.audioID:
						audioAll = append(audioAll, sample{dts, s})
					}
					dts += uint64(s.Duration)
				}
			}
		}
	}
	if len(videoAll) == 0 {
		return stretch{}, fmt.Errorf("%w: recording %s from %s to %s", ErrNoVideo, src.Key, rg.From, rg.To)
	}
	st.video = videoAll
	st.startAll = rg.From == 0
	if ended {
		st.endPTS = endKey.pts()
	} else {
		st.endAll = true
		last := videoAll[len(videoAll)-1]
		for _, v := range videoAll {
			st.endPTS = max(st.endPTS, v.pts()+int64(v.s.Duration))
		}
		st.endPTS = max(st.endPTS, int64(last.dts)+int64(last.s.Duration))
	}
	// Audio from the key frame's presentation to the stretch's end, in
	// the audio's scale: neighbouring stretches cut at the same times.
	lo := scaleTicks(videoAll[0].pts(), tr.vScale, tr.aScale)
	hi := scaleTicks(st.endPTS, tr.vScale, tr.aScale)
	for _, a := range audioAll {
		t := int64(a.dts)
		if (st.startAll || t >= lo) && (st.endAll || t < hi) {
			st.audio = append(st.audio, a)
		}
	}
	return st, nil
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

func durationTicks(d time.Duration, scale uint32) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d/time.Second)*uint64(scale) + uint64(d%time.Second)*uint64(scale)/uint64(time.Second)
}

func scaleTicks(t int64, from, to uint32) int64 {
	if from == to {
		return t
	}
	return t/int64(from)*int64(to) + t%int64(from)*int64(to)/int64(from)
}
