package hub

import (
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// rateWindowSeconds is the span of the fps and bitrate averages.
const rateWindowSeconds = 5

// StreamStats is a snapshot of a stream's counters.
type StreamStats struct {
	// Path is the stream's path.
	Path string
	// Published is when the stream was published.
	Published time.Time
	// Tracks has one entry per codec seen, in order of appearance.
	Tracks []TrackStats
	// VideoCodec is the codec of the last video track (CodecUnknown if none).
	VideoCodec ps.Codec
	// Width and Height come from the last SPS (0 until one was parsed).
	Width, Height int
	// Units, Bytes and Keyframes count everything written.
	Units, Bytes, Keyframes uint64
	// VideoFPS and VideoBitrate (bit/s) average the last complete seconds
	// (up to five) of video by arrival time.
	VideoFPS, VideoBitrate float64
	// GOPUnits and GOPBytes are the size of the GOP cache.
	GOPUnits, GOPBytes int
	// Readers has one entry per attached reader.
	Readers []ReaderStats
	// Drops counts units dropped for any reader, past or present.
	Drops uint64
	// SlowDisconnects counts readers disconnected with ErrSlowReader.
	SlowDisconnects uint64
	// LastUnit is when the last unit was written (zero if none).
	LastUnit time.Time
	// Hold is the state of a held stream (PublishHold); nil for a live one.
	Hold *HoldStats
}

// TrackStats counts the units of one codec.
type TrackStats struct {
	// Codec is the track's codec.
	Codec ps.Codec
	// Units, Bytes and Keyframes count the track's units.
	Units, Bytes, Keyframes uint64
}

// ReaderStats is a snapshot of a reader's counters.
type ReaderStats struct {
	// Name is the name given to AddReader.
	Name string
	// Since is when the reader was added.
	Since time.Time
	// Units, Bytes and Keyframes count the units queued for the reader.
	Units, Bytes, Keyframes uint64
	// Drops counts units skipped because the queue was full.
	Drops uint64
	// Overflows is the number of consecutive GOPs with drops.
	Overflows int
	// Queued is the number of units waiting in the queue.
	Queued int
	// Skipping is true while the reader waits for the next keyframe.
	Skipping bool
}

// Stats returns a snapshot of the stream's counters.
func (s *Stream) Stats() StreamStats {
	now := s.hub.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := StreamStats{
		Path:            s.path,
		Published:       s.published,
		Tracks:          make([]TrackStats, 0, len(s.order)),
		Width:           s.res.Width,
		Height:          s.res.Height,
		Units:           s.units,
		Bytes:           s.bytes,
		Keyframes:       s.keyframes,
		GOPUnits:        len(s.gop),
		GOPBytes:        s.gopBytes,
		Readers:         make([]ReaderStats, 0, len(s.readers)),
		Drops:           s.gone.drops,
		SlowDisconnects: s.gone.slow,
		LastUnit:        s.lastUnit,
	}
	for _, c := range s.order {
		st.Tracks = append(st.Tracks, s.tracks[c])
		if c.IsVideo() {
			st.VideoCodec = c
		}
	}
	units, bytes := s.video.rate(now, s.published)
	st.VideoFPS, st.VideoBitrate = units, bytes*8
	for _, r := range s.readers {
		st.Readers = append(st.Readers, r.stats())
		st.Drops += r.drops
	}
	if s.hold != nil {
		st.Hold = s.hold.statsLocked()
	}
	return st
}

// rateWindow counts units and bytes per second of arrival time, in a ring
// of one-second buckets, so adding costs no allocation.
type rateWindow struct {
	buckets [rateWindowSeconds + 1]rateBucket
}

type rateBucket struct {
	sec          int64
	units, bytes uint64
}

func (w *rateWindow) add(now time.Time, n uint64) {
	sec := now.Unix()
	b := &w.buckets[sec%int64(len(w.buckets))]
	if b.sec != sec {
		*b = rateBucket{sec: sec}
	}
	b.units++
	b.bytes += n
}

// rate returns units and bytes per second over the complete seconds of the
// window; the current second is still filling and would bias it low. A
// stream younger than the window is averaged over its own complete seconds.
func (w *rateWindow) rate(now, since time.Time) (units, bytes float64) {
	cur := now.Unix()
	first := since.Unix()
	if since.Nanosecond() != 0 {
		first++ // the publishing second is incomplete
	}
	span := min(int64(rateWindowSeconds), cur-first)
	if span <= 0 {
		return 0, 0
	}
	var u, b uint64
	for _, bk := range w.buckets {
		if bk.sec >= cur-span && bk.sec < cur {
			u += bk.units
			b += bk.bytes
		}
	}
	return float64(u) / float64(span), float64(b) / float64(span)
}
