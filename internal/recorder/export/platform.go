package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// platform remuxes the job's range from the recorded segments into the
// job's file (committed to the store) and returns its size.
func (r *Runner) platform(ctx context.Context, j exportdb.Job, p *progress) (int64, error) {
	dctx, cancel := context.WithTimeout(ctx, DefaultDBTimeout)
	segs, err := recordingdb.New(r.DB.Store).PlaybackSegments(dctx, j.ChannelID, j.Start, j.End)
	cancel()
	if err != nil {
		return 0, err
	}
	if len(segs) == 0 {
		return 0, fmt.Errorf("%w: channel %s has no segment between %s and %s", ErrNoRecordings, j.ChannelID,
			j.Start.Format(time.RFC3339), j.End.Format(time.RFC3339))
	}
	key := Key(j.ID, r.Node)
	path, err := r.Store.WritePath(key)
	if err != nil {
		return 0, fmt.Errorf("export file: %w", err)
	}
	n, err := r.writePlatform(ctx, j, segs, path, p)
	if err != nil {
		return 0, err
	}
	if err := r.Store.Commit(ctx, key); err != nil {
		return 0, fmt.Errorf("commit export file: %w", err)
	}
	return n, nil
}

// writePlatform writes the file at path.
func (r *Runner) writePlatform(ctx context.Context, j exportdb.Job, segs []recordingdb.Segment, path string,
	p *progress,
) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("export file: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	m := &remuxer{w: bw, start: j.Start, end: j.End}
	length := j.End.Sub(j.Start)
	report := func(at time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return p.report(ctx, float64(at.Sub(j.Start))/float64(length), m.written)
	}
	for _, s := range segs {
		if m.done {
			break
		}
		if err := r.copySegment(ctx, m, s, report); err != nil {
			return 0, fmt.Errorf("segment %s (%s): %w", s.ObjectKey, s.Start.Format(time.RFC3339), err)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("export file: %w", err)
	}
	if m.init == nil || m.outV == 0 {
		return 0, fmt.Errorf("%w: channel %s has no video between %s and %s", ErrNoRecordings, j.ChannelID,
			j.Start.Format(time.RFC3339), j.End.Format(time.RFC3339))
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("export file: %w", err)
	}
	return m.written, nil
}

// copySegment feeds one segment object to m.
func (r *Runner) copySegment(ctx context.Context, m *remuxer, s recordingdb.Segment, report func(time.Time) error) error {
	obj, err := r.Store.Open(ctx, s.ObjectKey)
	if err != nil {
		return err
	}
	defer obj.Close()
	return m.segment(io.NewSectionReader(obj, 0, obj.Size()), s.Start, report)
}
