package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// Track IDs of the output file.
const (
	outVideoID = 1
	outAudioID = 2
)

// remuxer writes one fragmented MP4 from the fragments of successive
// segments: the init section of the first, then each fragment re-timed
// so that the segments follow each other without a hole (a gap between
// them takes no time in the file). It cuts at the range: the file begins
// with the last video key frame at or before Start (the first one after
// it when the range begins in a gap) and ends at End, the last frame's
// duration cut to it.
type remuxer struct {
	w          io.Writer
	start, end time.Time

	// written is the number of bytes written to w.
	written int64
	init    *fmp4.Init
	video   codecs.Codec // the output's video codec, by type
	vScale  uint32
	aScale  uint32 // 0: the output has no audio
	seq     uint32

	// begun is set once the first sample is out: before it, pending
	// holds the key frame at or before start and what follows it.
	begun     bool
	pendV     []timed
	pendA     []timed
	keyWall   time.Time // wall time of the file's first video frame
	lastWall  time.Time // wall time of the latest video sample out
	outV      uint64    // output decode time of the next video sample
	partV     []*fmp4.Sample
	partVBase uint64
	partA     []*fmp4.Sample
	partABase uint64
	done      bool // End reached
}

// timed is a sample with its decode time in its segment.
type timed struct {
	s   *fmp4.Sample
	dts uint64
}

// segmentState is the mapping of one segment's times onto the output.
type segmentState struct {
	start   time.Time
	videoID int
	audioID int
	vScale  uint32
	aScale  uint32
	// ref is the segment's decode time (video ticks) of its first video
	// sample out, placed at outRef in the output.
	refSet bool
	ref    uint64
	outRef uint64
	// nextDTS is where the segment's next video sample may begin: a
	// fragment that goes back in time (a garbled file) would copy the
	// same stretch twice.
	dtsSet  bool
	nextDTS uint64
}

func (s *segmentState) wall(dts uint64, scale uint32) time.Time {
	return s.start.Add(ticksDuration(dts, scale))
}

func ticksDuration(t uint64, scale uint32) time.Duration {
	sec := t / uint64(scale)
	rem := t % uint64(scale)
	return time.Duration(sec)*time.Second + time.Duration(rem*uint64(time.Second)/uint64(scale))
}

func durationTicks(d time.Duration, scale uint32) uint64 {
	if d <= 0 {
		return 0
	}
	sec := uint64(d / time.Second)
	rem := uint64(d % time.Second)
	return sec*uint64(scale) + rem*uint64(scale)/uint64(time.Second)
}

// segment copies the part of one segment (read from r, which starts at
// its first byte; wall is its start) that falls in the range. progress is
// called after each fragment with the wall time reached. It stops at a
// truncated last fragment (an open segment's).
func (m *remuxer) segment(r io.Reader, wall time.Time, progress func(time.Time) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	in, err := segment.ReadInit(br)
	if err != nil {
		return err
	}
	st := &segmentState{start: wall}
	for _, t := range in.Tracks {
		switch t.Codec.(type) {
		case *codecs.H264, *codecs.H265:
			if st.videoID == 0 {
				st.videoID, st.vScale = t.ID, t.TimeScale
			}
		default:
			if st.audioID == 0 {
				st.audioID, st.aScale = t.ID, t.TimeScale
			}
		}
	}
	if st.videoID == 0 || st.vScale == 0 {
		return fmt.Errorf("segment has no video track with a time scale")
	}
	if st.aScale == 0 {
		st.audioID = 0
	}
	if err := m.setInit(in, st); err != nil {
		return err
	}
	for !m.done {
		frag, err := segment.ReadFragment(br)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // the end, or an open segment's fragment being written
		}
		if err != nil {
			return err
		}
		var parts fmp4.Parts
		if err := parts.Unmarshal(frag); err != nil {
			return fmt.Errorf("fragment: %w", err)
		}
		for _, p := range parts {
			m.part(st, p)
		}
		if err := m.flush(); err != nil {
			return err
		}
		if progress != nil && !m.lastWall.IsZero() {
			if err := progress(m.lastWall); err != nil {
				return err
			}
		}
	}
	m.segmentEnd(st)
	return m.flush()
}

// segmentEnd starts the file with the pending key frame when the range's
// start lies in the segment's last frame; when it lies in a hole after the
// segment, the file starts with the next segment's first key frame.
func (m *remuxer) segmentEnd(st *segmentState) {
	if m.begun || len(m.pendV) == 0 {
		return
	}
	last := m.pendV[len(m.pendV)-1]
	if !st.wall(last.dts+uint64(last.s.Duration), st.vScale).After(m.start) {
		m.pendV, m.pendA = nil, nil
		return
	}
	m.begin(st)
}

// begin starts the file with what is pending: the key frame at or before
// start, the frames after it and their audio.
func (m *remuxer) begin(st *segmentState) {
	m.begun = true
	pendV, pendA := m.pendV, m.pendA
	m.pendV, m.pendA = nil, nil
	for _, p := range pendV {
		m.emitVideo(st, p)
	}
	for _, a := range pendA {
		m.audioSample(st, a)
	}
}

// setInit writes the output's init section from the first segment's, and
// checks that later segments hold the same kind of video.
func (m *remuxer) setInit(in *fmp4.Init, st *segmentState) error {
	var vc codecs.Codec
	var ac codecs.Codec
	for _, t := range in.Tracks {
		switch t.ID {
		case st.videoID:
			vc = t.Codec
		case st.audioID:
			ac = t.Codec
		}
	}
	if m.init != nil {
		if fmt.Sprintf("%T", vc) != fmt.Sprintf("%T", m.video) || st.vScale != m.vScale {
			return fmt.Errorf("%w: %T at %s after %T", ErrCodecChanged, vc, st.start.Format(time.RFC3339), m.video)
		}
		if st.aScale != m.aScale {
			st.audioID = 0 // audio of another kind than the file's: left out
		}
		return nil
	}
	m.video, m.vScale = vc, st.vScale
	m.init = &fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: outVideoID, TimeScale: st.vScale, Codec: vc}}}
	if ac != nil {
		m.aScale = st.aScale
		m.init.Tracks = append(m.init.Tracks, &fmp4.InitTrack{ID: outAudioID, TimeScale: st.aScale, Codec: ac})
	}
	var buf seekablebuffer.Buffer
	if err := m.init.Marshal(&buf); err != nil {
		return fmt.Errorf("write init section: %w", err)
	}
	return m.write(buf.Bytes())
}

// part takes the samples of one input fragment.
func (m *remuxer) part(st *segmentState, p *fmp4.Part) {
	var audio []timed
	for _, t := range p.Tracks {
		if t.ID == st.audioID && st.audioID != 0 {
			dts := t.BaseTime
			for _, s := range t.Samples {
				audio = append(audio, timed{s, dts})
				dts += uint64(s.Duration)
			}
		}
	}
	for _, t := range p.Tracks {
		if t.ID != st.videoID {
			continue
		}
		dts := t.BaseTime
		for _, s := range t.Samples {
			m.videoSample(st, timed{s, dts})
			dts += uint64(s.Duration)
			if m.done {
				break
			}
		}
	}
	for _, a := range audio {
		m.audioSample(st, a)
	}
}

func (m *remuxer) videoSample(st *segmentState, v timed) {
	if st.dtsSet && v.dts < st.nextDTS {
		return
	}
	st.dtsSet, st.nextDTS = true, v.dts+uint64(v.s.Duration)
	wall := st.wall(v.dts, st.vScale)
	if m.begun && !wall.After(m.lastWall) {
		return // a segment overlapping the one before: that stretch is out already
	}
	if !wall.Before(m.end) {
		m.done = true
		return
	}
	if !m.begun {
		switch {
		case !v.s.IsNonSyncSample && !wall.After(m.start):
			m.pendV, m.pendA, m.keyWall = []timed{v}, nil, wall
			return
		case !wall.After(m.start):
			if len(m.pendV) > 0 {
				m.pendV = append(m.pendV, v)
			}
			return
		case len(m.pendV) == 0 && v.s.IsNonSyncSample:
			return // no key frame yet: nothing decodable
		case len(m.pendV) == 0:
			m.keyWall = wall
		}
		m.begin(st)
	}
	m.emitVideo(st, v)
}

func (m *remuxer) emitVideo(st *segmentState, v timed) {
	if !st.refSet {
		st.refSet, st.ref, st.outRef = true, v.dts, m.outV
	}
	wall := st.wall(v.dts, st.vScale)
	s := *v.s
	// The last frame before End lasts until End, no longer.
	if left := durationTicks(m.end.Sub(wall), st.vScale); uint64(s.Duration) > left {
		s.Duration = uint32(left)
	}
	if len(m.partV) == 0 {
		m.partVBase = m.outV
	}
	m.partV = append(m.partV, &s)
	m.outV += uint64(s.Duration)
	m.lastWall = wall
}

func (m *remuxer) audioSample(st *segmentState, a timed) {
	if m.aScale == 0 {
		return
	}
	wall := st.wall(a.dts, st.aScale)
	if !m.begun {
		if len(m.pendV) > 0 && !wall.Before(m.keyWall) {
			m.pendA = append(m.pendA, a)
		}
		return
	}
	if !st.refSet || !wall.Before(m.end) {
		return
	}
	refWall := st.wall(st.ref, st.vScale)
	if wall.Before(refWall) {
		return // before the segment's first frame out
	}
	out := durationTicks(ticksDuration(st.outRef, st.vScale), st.aScale) + durationTicks(wall.Sub(refWall), st.aScale)
	if len(m.partA) == 0 {
		m.partABase = out
	}
	m.partA = append(m.partA, a.s)
}

// flush writes the samples taken since the last flush as one fragment.
func (m *remuxer) flush() error {
	if len(m.partV) == 0 && len(m.partA) == 0 {
		return nil
	}
	m.seq++
	p := fmp4.Part{SequenceNumber: m.seq}
	if len(m.partV) > 0 {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{ID: outVideoID, BaseTime: m.partVBase, Samples: m.partV})
	}
	if len(m.partA) > 0 {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{ID: outAudioID, BaseTime: m.partABase, Samples: m.partA})
	}
	m.partV, m.partA = nil, nil
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		return fmt.Errorf("write fragment: %w", err)
	}
	return m.write(buf.Bytes())
}

func (m *remuxer) write(b []byte) error {
	n, err := m.w.Write(b)
	m.written += int64(n)
	if err != nil {
		return fmt.Errorf("write export file: %w", err)
	}
	return nil
}

// Duration is the video duration written.
func (m *remuxer) Duration() time.Duration {
	if m.vScale == 0 {
		return 0
	}
	return ticksDuration(m.outV, m.vScale)
}
