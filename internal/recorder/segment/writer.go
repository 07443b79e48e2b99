package segment

import (
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// Defaults of the Writer's configuration.
const (
	DefaultFragmentDuration = time.Second
	DefaultMaxJump          = 5 * time.Second
)

// maxFragmentDuration bounds FragmentDuration: a crash loses up to one
// fragment, and Scan refuses truns of more samples than such a fragment
// can hold.
const maxFragmentDuration = 10 * time.Second

// aacSamplesPerAU is the length of an AAC access unit in samples.
const aacSamplesPerAU = 1024

// Writer writes one segment: nothing until the first video key frame with
// known parameter sets, then the init section, then a fragment (moof+mdat)
// each FragmentDuration of video, with the audio received meanwhile in the
// same fragment. Bytes are only ever appended to W. Timestamps in the file
// start at 0, the first key frame's decode time and, without B-frames, its
// presentation (with B-frames it is presented its reorder delay later: no
// negative composition offsets, which some players mishandle); the caller
// knows the wall-clock time of that frame.
//
// A Writer is not safe for concurrent use: one capture goroutine drives it.
type Writer struct {
	// W receives the segment (a local file, usually).
	W io.Writer
	// Tracks are those of NewTracks; the video track is required.
	Tracks []*Track
	// FragmentDuration is the video duration of a fragment, and so the most a
	// crash loses (default 1 s, at most 10 s); a key frame also starts a new
	// fragment, so a GOP shorter than it makes shorter ones.
	FragmentDuration time.Duration
	// MaxJump is the largest step between two video frames or audio packets
	// written into one segment (default 5 s); a larger one, or a step back,
	// is ErrTimestamp, so that a stall shows as a hole between segments
	// instead of one frame frozen for its length.
	MaxJump time.Duration

	video   *trackState
	audio   *trackState
	started bool
	closed  bool
	err     error // the first write error of W: every later write returns it

	h264DTS h264.DTSExtractor
	h265DTS h265.DTSExtractor

	firstDTS  int64 // 90 kHz, of the first key frame: time 0 of the file
	audioZero int64 // the same instant in the audio clock
	fragTicks int64 // FragmentDuration in 90 kHz
	jumpVideo int64
	jumpAudio int64
	lastDur   uint32 // of the last video frame whose duration is known
	width     int
	height    int

	seq   uint32
	bytes int64
	moof  []byte // reused fragment header
}

// trackState is the part of a fragment one track has buffered.
type trackState struct {
	t       *Track
	data    []byte       // payloads of the buffered samples, in order
	samples []sample     // their trun entries
	base    int64        // decode time of the first buffered sample
	next    int64        // decode time after the last buffered sample
	any     bool         // audio: a packet was placed since the segment started
	written int64        // video: decode time after the last written sample
	flac    *flacEncoder // G.711: stored as FLAC
	sizes   []uint32     // scratch of the FLAC frames of one payload
	durs    []uint32
}

// sample is one trun entry.
type sample struct {
	dur    uint32
	size   uint32
	ctsOff int32
	sync   bool
}

// Initialize checks the configuration. Nothing is written yet.
func (w *Writer) Initialize() error {
	if w.W == nil {
		return fmt.Errorf("segment writer: no W")
	}
	if w.FragmentDuration <= 0 {
		w.FragmentDuration = DefaultFragmentDuration
	}
	if w.FragmentDuration > maxFragmentDuration {
		return fmt.Errorf("segment writer: FragmentDuration %v above %v", w.FragmentDuration, maxFragmentDuration)
	}
	if w.MaxJump <= 0 {
		w.MaxJump = DefaultMaxJump
	}
	if w.MaxJump > time.Hour {
		return fmt.Errorf("segment writer: MaxJump %v above 1h", w.MaxJump)
	}
	for _, t := range w.Tracks {
		switch {
		case t.video && w.video == nil:
			w.video = &trackState{t: t}
		case !t.video && w.audio == nil:
			w.audio = &trackState{t: t}
			if g, ok := t.Format.(*format.G711); ok {
				law := &alawTable
				if g.MULaw {
					law = &mulawTable
				}
				w.audio.flac = newFLACEncoder(law, g.ChannelCount, g.SampleRate)
			}
		default:
			return fmt.Errorf("segment writer: more than one %s track", t.Codec())
		}
	}
	if w.video == nil {
		return ErrNoVideo
	}
	w.h264DTS.Initialize()
	w.h265DTS.Initialize()
	w.fragTicks = DurationTicks(w.FragmentDuration, videoTimeScale)
	w.jumpVideo = DurationTicks(w.MaxJump, videoTimeScale)
	if w.audio != nil {
		w.jumpAudio = DurationTicks(w.MaxJump, int64(w.audio.t.TimeScale()))
	}
	return nil
}

// Started reports whether the init section is written: a key frame with its
// parameter sets has arrived.
func (w *Writer) Started() bool { return w.started }

// Bytes is how many bytes were written to W.
func (w *Writer) Bytes() int64 { return w.bytes }

// Duration is the video duration of the fragments written so far, in
// decode time: what a reader of the file finds (and what Scan reports).
// With B-frames it may fall short of the presentation span by the reorder
// delay (a frame or two).
func (w *Writer) Duration() time.Duration {
	return TicksDuration(w.video.written, videoTimeScale)
}

// VideoCodec is the video codec name ("h264", "h265").
func (w *Writer) VideoCodec() string { return w.video.t.Codec() }

// AudioCodec is the audio codec name as received ("g711a", "g711u", "aac"),
// or "" without audio.
func (w *Writer) AudioCodec() string {
	if w.audio == nil {
		return ""
	}
	return w.audio.t.Codec()
}

// Resolution is the video size from the SPS of the init section; 0, 0
// before Started.
func (w *Writer) Resolution() (width, height int) { return w.width, w.height }

// WriteVideo writes one access unit (NAL units without start codes) of
// the video track, pts in 90 kHz (gortsplib's PacketPTS). Before the first
// key frame with known parameter sets units are dropped. A parameter-set
// change returns ErrParamsChanged, a broken clock ErrTimestamp; neither
// writes the unit, and both mean: start a new segment with it.
func (w *Writer) WriteVideo(t *Track, pts int64, au [][]byte) error {
	if err := w.usable(t, w.video); err != nil {
		return err
	}
	changed := t.learnParams(au)
	key := IsKeyFrame(t, au)
	if key {
		// The DTS extractor reads the SPS in band; a camera that sends its
		// parameter sets only out of band (the SDP) gets them put back.
		au = t.withParams(au)
	}
	if !w.started {
		if !key || t.mp4Codec() == nil {
			return nil
		}
		dts, err := w.extractDTS(au, pts)
		if err != nil {
			return nil //nolint:nilerr // a unit the DTS extractor cannot place yet is dropped like any before the key frame
		}
		if err := w.start(dts); err != nil {
			return err
		}
		w.appendVideo(au, 0, pts-dts, true)
		return nil
	}
	if changed {
		return ErrParamsChanged
	}
	dts, err := w.extractDTS(au, pts)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTimestamp, err) //nolint:errorlint // the extractor's error is text only
	}
	v := w.video
	rel := dts - w.firstDTS
	last := v.next // the pending sample's decode time
	if rel-last > w.jumpVideo {
		return fmt.Errorf("%w: video DTS jumps %v", ErrTimestamp, TicksDuration(rel-last, videoTimeScale))
	}
	// The pending sample's duration is known now that the next one is here.
	w.lastDur = uint32(rel - last)
	v.samples[len(v.samples)-1].dur = w.lastDur
	v.next = rel
	// A key frame always starts a fragment: playback and transcodes start
	// and cut at fragments that begin with one (Fragment.Key), so a GOP
	// never hides inside a fragment.
	if rel-v.base >= w.fragTicks || key {
		if err := w.writeFragment(len(v.samples)); err != nil {
			return err
		}
	}
	w.appendVideo(au, rel, pts-dts, key)
	return nil
}

// WriteAudio writes audio of the audio track, pts in the track's clock
// (gortsplib's PacketPTS). For G.711 each payload is RTP payload bytes
// (stored as FLAC, one frame a payload); for AAC each is one access unit, 1024 samples
// after the previous. Audio before the segment's first key frame is dropped.
func (w *Writer) WriteAudio(t *Track, pts int64, payloads ...[]byte) error {
	if err := w.usable(t, w.audio); err != nil {
		return err
	}
	if !w.started {
		return nil
	}
	a := w.audio
	rel := pts - w.audioZero
	for _, p := range payloads {
		var dur int64
		if a.flac != nil {
			dur = int64(len(p) / a.flac.channels)
		} else {
			dur = aacSamplesPerAU
		}
		at := rel
		rel += dur
		if at < -w.jumpAudio {
			return fmt.Errorf("%w: audio %v before the segment", ErrTimestamp, TicksDuration(-at, int64(a.t.TimeScale())))
		}
		if at < 0 || dur == 0 {
			continue // before the first key frame
		}
		ok, err := w.placeAudio(at)
		if err != nil {
			return err
		}
		if !ok {
			continue // overlaps what is buffered: a duplicate or a clock running fast
		}
		if a.flac != nil {
			a.data, a.sizes, a.durs = a.flac.encode(a.data, p, a.sizes[:0], a.durs[:0])
			for i, size := range a.sizes {
				a.samples = append(a.samples, sample{dur: a.durs[i], size: size, sync: true})
			}
		} else {
			a.data = append(a.data, p...)
			a.samples = append(a.samples, sample{dur: uint32(dur), size: uint32(len(p)), sync: true})
		}
		a.next += dur
	}
	return nil
}

// Flush writes the buffered samples whose duration is known as a fragment:
// all but the last video frame (its duration comes with the next one).
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if !w.started || w.closed || len(w.video.samples) < 2 {
		return nil
	}
	return w.writeFragment(len(w.video.samples) - 1)
}

// Close writes what is buffered, the last frame lasting as long as the one
// before it. It does not close W.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil || !w.started {
		return w.err
	}
	v := w.video
	dur := w.lastDur
	if dur == 0 {
		dur = videoTimeScale / 25 // a lone frame: one frame at 25 fps
	}
	v.samples[len(v.samples)-1].dur = dur
	return w.writeFragment(len(v.samples))
}

// usable checks a write's track and the writer's state.
func (w *Writer) usable(t *Track, ts *trackState) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return ErrClosed
	case ts == nil || ts.t != t:
		return ErrUnknownTrack
	}
	return nil
}

func (w *Writer) extractDTS(au [][]byte, pts int64) (int64, error) {
	if w.video.t.Codec() == CodecH265 {
		return w.h265DTS.Extract(au, pts)
	}
	return w.h264DTS.Extract(au, pts)
}

// start writes the init section at the first key frame.
func (w *Writer) start(dts int64) error {
	init := fmp4.Init{}
	for _, ts := range []*trackState{w.video, w.audio} {
		if ts == nil {
			continue
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{
			ID:        ts.t.id,
			TimeScale: ts.t.TimeScale(),
			Codec:     ts.t.mp4Codec(),
		})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return fmt.Errorf("marshal init: %w", err)
	}
	if err := w.write(buf.Bytes()); err != nil {
		return err
	}
	w.started = true
	w.firstDTS = dts
	if w.audio != nil {
		w.audioZero = dts * int64(w.audio.t.TimeScale()) / videoTimeScale
	}
	w.width, w.height = w.video.t.resolution()
	return nil
}

// appendVideo buffers one access unit in AVCC form (4-byte lengths), AUDs
// left out (the sample boundaries say it all).
func (w *Writer) appendVideo(au [][]byte, rel, ptsMinusDTS int64, sync bool) {
	v := w.video
	if len(v.samples) == 0 {
		v.base = rel
	}
	start := len(v.data)
	h265 := v.t.Codec() == CodecH265
	for _, nalu := range au {
		if len(nalu) == 0 || isAUD(h265, nalu[0]) {
			continue
		}
		n := len(nalu)
		v.data = append(v.data, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		v.data = append(v.data, nalu...)
	}
	v.samples = append(v.samples, sample{
		size:   uint32(len(v.data) - start),
		ctsOff: int32(ptsMinusDTS),
		sync:   sync,
	})
	v.next = rel
}

func isAUD(h265 bool, header byte) bool {
	if h265 {
		return (header>>1)&0x3F == byte(h265AUD)
	}
	return header&0x1F == byte(h264.NALUTypeAccessUnitDelimiter)
}

const h265AUD = h265.NALUType_AUD_NUT
