package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// unit is one recorded video access unit.
type unit struct {
	// wall is the recorded time of its decode.
	wall time.Time
	// ptsOff is its presentation time after its decode, 90 kHz.
	ptsOff int64
	key    bool
	codec  ps.Codec
	// au is the access unit, Annex-B, a key frame's parameter sets first.
	au []byte
}

// source reads the units of a channel's segments in order, from the key
// frame at or before from.
type source struct {
	open func(ctx context.Context, key string) (objstore.Object, error)
	segs []recordingdb.Segment
	from time.Time

	next  int // index of the segment to open next
	obj   objstore.Object
	br    *bufio.Reader
	track *videoTrack
	queue []unit // the current fragment's units not returned yet
	// pending holds the units before from, from the last key frame: a
	// decoder needs them to show from; they go out at once, unpaced.
	pending []unit
	started bool
}

// videoTrack is the video of the segment being read.
type videoTrack struct {
	id     int
	scale  uint32
	codec  ps.Codec
	params [][]byte // VPS, SPS, PPS from the init section
	start  time.Time
	// lastDTS refuses a fragment that goes back in time (a garbled file
	// would send the same stretch twice).
	lastDTS uint64
	dtsSet  bool
}

func newSource(store objstore.Store, segs []recordingdb.Segment, from time.Time) *source {
	return &source{open: store.Open, segs: segs, from: from}
}

// read returns the next unit to send; early reports a unit before from
// (to be sent at once). At the end of the recordings it returns io.EOF.
func (s *source) read(ctx context.Context) (u unit, early bool, err error) {
	for {
		if len(s.pending) > 0 && s.started {
			u, s.pending = s.pending[0], s.pending[1:]
			return u, true, nil
		}
		if len(s.queue) > 0 {
			u, s.queue = s.queue[0], s.queue[1:]
			if s.started {
				return u, false, nil
			}
			if u.wall.Before(s.from) {
				if u.key {
					s.pending = s.pending[:0]
				}
				if u.key || len(s.pending) > 0 {
					s.pending = append(s.pending, u)
				}
				continue
			}
			// The first unit at or after from: what leads to it first.
			s.started = true
			if len(s.pending) == 0 || u.key {
				s.pending = nil
				return u, false, nil
			}
			s.pending = append(s.pending, u)
			continue
		}
		if err := s.fill(ctx); err != nil {
			if errors.Is(err, io.EOF) && len(s.pending) > 0 && !s.started {
				// from lies after the last frame: nothing to send.
				s.pending = nil
			}
			return unit{}, false, err
		}
	}
}

// fill reads the next fragment's units into queue, opening the next
// segment when the current one ends.
func (s *source) fill(ctx context.Context) error {
	for {
		if s.br == nil {
			if err := s.openNext(ctx); err != nil {
				return err
			}
		}
		frag, err := segment.ReadFragment(s.br)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The segment's end, or an open segment's fragment being written.
			s.closeSegment()
			continue
		}
		if err != nil {
			return fmt.Errorf("segment %s: %w", s.segs[s.next-1].ObjectKey, err)
		}
		var parts fmp4.Parts
		if err := parts.Unmarshal(frag); err != nil {
			return fmt.Errorf("segment %s: fragment: %w", s.segs[s.next-1].ObjectKey, err)
		}
		for _, p := range parts {
			for _, pt := range p.Tracks {
				if pt.ID == s.track.id {
					s.addSamples(pt)
				}
			}
		}
		if len(s.queue) > 0 {
			return nil
		}
	}
}

// openNext opens the next segment that ends after from and reads its init
// section; io.EOF when none is left.
func (s *source) openNext(ctx context.Context) error {
	for ; s.next < len(s.segs); s.next++ {
		seg := s.segs[s.next]
		if !seg.Open && !seg.End.After(s.from) && !s.started {
			continue // wholly before the start
		}
		obj, err := s.open(ctx, seg.ObjectKey)
		if err != nil {
			return fmt.Errorf("segment %s: %w", seg.ObjectKey, err)
		}
		br := bufio.NewReaderSize(io.NewSectionReader(obj, 0, obj.Size()), 1<<20)
		in, err := segment.ReadInit(br)
		if err != nil {
			_ = obj.Close()
			return fmt.Errorf("segment %s: %w", seg.ObjectKey, err)
		}
		tr, err := videoOf(in, seg.Start)
		if err != nil {
			_ = obj.Close()
			return fmt.Errorf("segment %s: %w", seg.ObjectKey, err)
		}
		s.next++
		s.obj, s.br, s.track = obj, br, tr
		return nil
	}
	return io.EOF
}

func (s *source) closeSegment() {
	if s.obj != nil {
		_ = s.obj.Close()
	}
	s.obj, s.br = nil, nil
}

// close releases the segment being read.
func (s *source) close() { s.closeSegment() }

// videoOf returns the video track of an init section.
func videoOf(in *fmp4.Init, start time.Time) (*videoTrack, error) {
	for _, t := range in.Tracks {
		tr := &videoTrack{id: t.ID, scale: t.TimeScale, start: start}
		switch c := t.Codec.(type) {
		case *codecs.H264:
			tr.codec, tr.params = ps.CodecH264, [][]byte{c.SPS, c.PPS}
		case *codecs.H265:
			tr.codec, tr.params = ps.CodecH265, [][]byte{c.VPS, c.SPS, c.PPS}
		default:
			continue
		}
		if tr.scale == 0 {
			return nil, errors.New("video track without a time scale")
		}
		return tr, nil
	}
	return nil, errors.New("no H.264 or H.265 video track")
}

// addSamples queues a fragment's video samples as units.
func (s *source) addSamples(pt *fmp4.PartTrack) {
	tr := s.track
	dts := pt.BaseTime
	if tr.dtsSet && dts < tr.lastDTS {
		return
	}
	for _, smp := range pt.Samples {
		au, key, err := annexB(tr, smp)
		if err == nil && len(au) > 0 {
			s.queue = append(s.queue, unit{
				wall:   tr.start.Add(segment.TicksDuration(int64(dts), int64(tr.scale))),
				ptsOff: int64(smp.PTSOffset) * 90000 / int64(tr.scale),
				key:    key, codec: tr.codec, au: au,
			})
		}
		dts += uint64(smp.Duration)
	}
	tr.lastDTS, tr.dtsSet = dts, true
}

// annexB turns a sample (AVCC) into an Annex-B access unit; a key frame
// without its parameter sets in band gets the init section's.
func annexB(tr *videoTrack, smp *fmp4.Sample) ([]byte, bool, error) {
	var nalus h264.AVCC
	if err := nalus.Unmarshal(smp.Payload); err != nil {
		return nil, false, err
	}
	key := !smp.IsNonSyncSample
	out := make([]byte, 0, len(smp.Payload)+64)
	if key && !hasSPS(tr.codec, nalus) {
		for _, p := range tr.params {
			if len(p) > 0 {
				out = append(append(out, 0, 0, 0, 1), p...)
			}
		}
	}
	for _, n := range nalus {
		out = append(append(out, 0, 0, 0, 1), n...)
	}
	return out, key, nil
}

func hasSPS(c ps.Codec, nalus [][]byte) bool {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		if c == ps.CodecH265 && h265.NALUType((n[0]>>1)&0x3F) == h265.NALUType_SPS_NUT {
			return true
		}
		if c == ps.CodecH264 && h264.NALUType(n[0]&0x1F) == h264.NALUTypeSPS {
			return true
		}
	}
	return false
}
