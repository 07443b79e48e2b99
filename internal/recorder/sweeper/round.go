package sweeper

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// roundState is what one round has done and has still to do.
type roundState struct {
	now time.Time
	// asked says whether the Reclaimer was asked this round; reclaim is
	// the shortfall it gave, less what was overwritten since.
	asked   bool
	reclaim int64
	// avg is the mean size of the segments overwritten so far, to mark
	// about as many as the shortfall needs and no more.
	avg int64
	// deleted counts this round's deletions by reason.
	segments map[string]int
	bytes    map[string]int64
}

// round deletes what expired at Now — the rows a crashed round left marked
// first — batch by batch, then, when the Reclaimer asks, the segments
// soonest to expire until its shortfall is freed. A failed step ends the
// round: its rows stay marked and the next round repeats it.
func (s *Sweeper) round() {
	st := &roundState{now: s.Now(), segments: map[string]int{}, bytes: map[string]int64{}}
	for batch := 0; ; batch++ {
		if batch > 0 && !s.pause() {
			return
		}
		segs, ok := s.next(st)
		if !ok || len(segs) == 0 || !s.delete(segs, st) {
			break
		}
	}
	if n := st.segments[ReasonExpired]; n > 0 {
		s.Log.Info("deleted expired segments", "segments", n, "bytes", st.bytes[ReasonExpired])
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.Timeout)
	defer cancel()
	backlog, err := s.DB.SweepBacklog(ctx, s.Objects.Name(), st.now, s.RetentionLimit)
	if err != nil {
		s.failed("cannot count the sweeper's backlog", err)
		return
	}
	s.Metrics.Backlog.Set(float64(backlog))
}

// next returns the next batch to delete: rows marked already, else newly
// marked expired ones, else — overwrite_oldest, store filling up — newly
// marked unexpired ones. ok is false when a step failed.
func (s *Sweeper) next(st *roundState) (segs []recordingdb.Segment, ok bool) {
	ctx, cancel := context.WithTimeout(s.ctx, s.Timeout)
	defer cancel()
	if segs, ok = s.marked(ctx); !ok || len(segs) > 0 {
		return segs, ok
	}
	n, err := s.DB.MarkExpired(ctx, s.Objects.Name(), st.now, s.RetentionLimit, s.Batch)
	if err != nil {
		s.failed("cannot mark expired segments", err)
		return nil, false
	}
	if n > 0 {
		return s.marked(ctx)
	}
	if s.Reclaimer == nil {
		return nil, true
	}
	if !st.asked {
		st.asked, st.reclaim = true, s.Reclaimer.Reclaim()
		if st.reclaim > 0 {
			s.Log.Error("storage is filling up: overwrite_oldest deletes unexpired video, soonest to expire first",
				"bytes", st.reclaim)
		}
	}
	if st.reclaim <= 0 {
		return nil, true
	}
	limit := 1
	if st.avg > 0 {
		limit = int(min((st.reclaim+st.avg-1)/st.avg, int64(s.Batch)))
	}
	if n, err = s.DB.MarkOldest(ctx, s.Objects.Name(), limit); err != nil {
		s.failed("cannot mark the oldest segments", err)
		return nil, false
	}
	if n == 0 {
		return nil, true // nothing closed left to overwrite
	}
	return s.marked(ctx)
}

func (s *Sweeper) marked(ctx context.Context) ([]recordingdb.Segment, bool) {
	segs, err := s.DB.Marked(ctx, s.Objects.Name(), s.Batch)
	if err != nil {
		s.failed("cannot read the segments marked for deletion", err)
		return nil, false
	}
	return segs, true
}

// delete removes segs' objects, then their rows; false when a step failed.
func (s *Sweeper) delete(segs []recordingdb.Segment, st *roundState) bool {
	ctx, cancel := context.WithTimeout(s.ctx, s.Timeout)
	defer cancel()
	keys := make([]string, len(segs))
	ids := make([]int64, len(segs))
	for i, seg := range segs {
		keys[i], ids[i] = seg.ObjectKey, seg.ID
	}
	if err := s.Objects.Delete(ctx, keys); err != nil {
		s.failed("cannot delete segment objects; their rows stay marked", err)
		return false
	}
	if err := s.DB.DeleteSegments(ctx, ids); err != nil {
		s.failed("cannot delete segment rows; they stay marked", err)
		return false
	}
	var over, overBytes int64
	for _, seg := range segs {
		reason := ReasonExpired
		if !s.expired(seg, st.now) {
			reason = ReasonOverwritten
			over++
			overBytes += seg.Bytes
		}
		st.segments[reason]++
		st.bytes[reason] += seg.Bytes
		s.Metrics.Segments.WithLabelValues(reason).Inc()
		s.Metrics.Bytes.WithLabelValues(reason).Add(float64(seg.Bytes))
	}
	if over > 0 {
		st.reclaim -= overBytes
		st.avg = max(overBytes/over, 1)
		s.Log.Error("deleted unexpired segments to make room (overwrite_oldest)", "segments", over,
			"bytes", overBytes, "first_channel_id", segs[0].ChannelID, "first_start", segs[0].Start)
	}
	return true
}

// expired tells whether seg expired at now, as MarkExpired tells it.
func (s *Sweeper) expired(seg recordingdb.Segment, now time.Time) bool {
	return !seg.ExpiresAt.After(now) || (s.RetentionLimit > 0 && !seg.End.After(now.Add(-s.RetentionLimit)))
}

// pause waits Pause between batches; false when the sweeper is closing.
func (s *Sweeper) pause() bool {
	if s.Pause < 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(s.Pause)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Sweeper) failed(msg string, err error) {
	s.Metrics.Errors.Inc()
	if s.ctx.Err() != nil {
		return // closing: the step is cut short, not broken
	}
	s.Log.Warn(msg, "error", err)
}
