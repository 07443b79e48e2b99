package capture

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/repair"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// commitQueue bounds the closed segments waiting for their commit; a
// store slower than the stream holds the recording back when it is full.
const commitQueue = 16

// commitJob is a closed segment to commit (or, after a failed write, to
// repair) and index as closed.
type commitJob struct {
	seg    recordingdb.Segment
	repair bool
}

// commitLoop commits the closed segments off the recording loop, so that
// an upload (an S3 store, slow or down) never stalls the stream. A segment
// whose commit fails stays whole in its local file and open in the index;
// it is retried every RetryInterval and after each segment committed (and
// at the next start, by the repair, if the channel stops first).
func (c *Channel) commitLoop() {
	defer close(c.commitDone)
	retry := time.NewTicker(c.RetryInterval)
	defer retry.Stop()
	for {
		select {
		case j, ok := <-c.commits:
			if !ok {
				return
			}
			c.commit(j)
		case <-retry.C:
			c.retryPending()
		}
	}
}

func (c *Channel) commit(j commitJob) {
	ctx, cancel := c.dbContext()
	defer cancel()
	if j.repair {
		c.repairSegment(ctx, j.seg)
		return
	}
	if err := c.Store.Commit(ctx, j.seg.ObjectKey); err != nil {
		c.Log.Warn("segment not committed: kept locally, retried", "key", j.seg.ObjectKey, "error", err)
		c.pending = append(c.pending, j.seg)
		return
	}
	if err := c.Index.CloseSegment(ctx, j.seg.ID, j.seg.End, j.seg.Bytes, j.seg.Info); err != nil {
		// The object is whole; only its row waits to be closed.
		c.Log.Error("segment not closed in the index", "key", j.seg.ObjectKey, "error", err)
		c.pending = append(c.pending, j.seg)
		return
	}
	if c.Metrics != nil {
		c.Metrics.Segments.Inc()
	}
	// The storage works (again): finish what failed before.
	c.retryPending()
}

// repairSegment repairs a segment whose writing or commit failed; when that
// fails too it is pending.
func (c *Channel) repairSegment(ctx context.Context, seg recordingdb.Segment) {
	res, err := repair.Segment(ctx, c.Store, c.Index, seg)
	if err != nil {
		c.Log.Warn("segment kept for repair", "key", seg.ObjectKey, "error", err)
		c.pending = append(c.pending, seg)
		return
	}
	c.repaired(ctx, seg, res)
}

// retryPending repairs the segments whose commit or index row failed
// before: repair commits what is whole and closes the row.
func (c *Channel) retryPending() {
	pending := c.pending
	c.pending = nil
	for _, seg := range pending {
		ctx, cancel := c.dbContext()
		res, err := repair.Segment(ctx, c.Store, c.Index, seg)
		if err != nil {
			c.pending = append(c.pending, seg)
		} else {
			c.repaired(ctx, seg, res)
		}
		cancel()
	}
}

// repaired logs a repair and records what it could not keep — the segment
// from where the repair cut it (its start when nothing was kept) to where it
// was indexed to end — as a storage_error gap of its own.
func (c *Channel) repaired(ctx context.Context, seg recordingdb.Segment, res repair.Result) {
	c.Log.Info("segment repaired", "key", seg.ObjectKey, "removed", res.Removed, "end", res.End, "bytes", res.Bytes)
	if !res.Removed && c.Metrics != nil {
		c.Metrics.Segments.Inc()
	}
	from := res.End
	if res.Removed {
		from = seg.Start
	}
	if !from.Before(seg.End) {
		return
	}
	g := recordingdb.Gap{
		ChannelID: c.ChannelID, Start: from, End: seg.End, Cause: recordingdb.CauseStorageError,
		Detail: "segment " + seg.ObjectKey + " lost to a storage failure", Node: c.Node,
	}
	if _, _, err := c.Index.OpenGap(ctx, g); err != nil {
		c.Log.Error("gap not recorded", "cause", g.Cause, "start", g.Start, "error", err)
	}
}
