// Package repair finishes the segments a recorder was writing when it
// stopped (a crash, kill -9, a failed commit): each open segment's local
// file is scanned, cut after its last complete fragment, committed and its
// index row closed; a file with nothing playable is removed with its row.
// So a crash loses at most the fragment being written, and the partial
// segment stays indexed and playable.
package repair

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// Store is the part of the object store repair uses (objstore.Store).
type Store interface {
	// WritePath is the local file of an object not committed yet.
	WritePath(key string) (string, error)
	// Commit makes the local file the object.
	Commit(ctx context.Context, key string) error
	// Open opens a committed object (or its local file).
	Open(ctx context.Context, key string) (objstore.Object, error)
	// Delete removes objects and their local files; missing ones are fine.
	Delete(ctx context.Context, keys []string) error
}

// Index is the part of the recordings index repair uses
// (*recordingdb.DB).
type Index interface {
	// OpenSegments lists node's open segments, oldest first.
	OpenSegments(ctx context.Context, node string) ([]recordingdb.Segment, error)
	// CloseSegment closes a segment row with its final end, bytes and info.
	CloseSegment(ctx context.Context, id int64, end time.Time, bytes int64, info recordingdb.Info) error
	// DeleteOpenSegment removes an open segment's row.
	DeleteOpenSegment(ctx context.Context, id int64) error
	// OpenGap records a gap (closed when End is set), or extends the
	// channel's last one of the same cause that ended where it starts.
	OpenGap(ctx context.Context, g recordingdb.Gap) (id int64, extended bool, err error)
}

// Result is what became of one segment.
type Result struct {
	// Removed: nothing in the file was playable (or there was no file);
	// the row and the file are gone.
	Removed bool
	// End and Bytes are the repaired segment's, when not Removed.
	End   time.Time
	Bytes int64
}

// Segment repairs one open segment. An error leaves the row open (to be
// repaired again); the file is never cut shorter than its complete part.
func Segment(ctx context.Context, st Store, idx Index, seg recordingdb.Segment) (Result, error) {
	path, err := st.WritePath(seg.ObjectKey)
	if err != nil {
		return Result{}, fmt.Errorf("repair %s: %w", seg.ObjectKey, err)
	}
	info, err := scanFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// No local file: committed already (the S3 upload removes it) by a
		// writer that stopped before its index row was closed?
		return committed(ctx, st, idx, seg, path)
	}
	switch {
	case errors.Is(err, segment.ErrNoInit):
		return remove(ctx, st, idx, seg, path)
	case err != nil:
		return Result{}, fmt.Errorf("repair %s: %w", seg.ObjectKey, err)
	case info.Fragments == 0:
		return remove(ctx, st, idx, seg, path)
	}
	if err := os.Truncate(path, info.Complete); err != nil {
		return Result{}, fmt.Errorf("repair %s: cut after the last fragment: %w", seg.ObjectKey, err)
	}
	if err := st.Commit(ctx, seg.ObjectKey); err != nil {
		return Result{}, fmt.Errorf("repair %s: %w", seg.ObjectKey, err)
	}
	return closeRow(ctx, idx, seg, info)
}

// committed closes the row of a segment whose object exists already; a
// segment with neither a local file nor an object is removed.
func committed(ctx context.Context, st Store, idx Index, seg recordingdb.Segment, path string) (Result, error) {
	obj, err := st.Open(ctx, seg.ObjectKey)
	if errors.Is(err, objstore.ErrNotFound) {
		return remove(ctx, st, idx, seg, path)
	}
	if err != nil {
		return Result{}, fmt.Errorf("repair %s: %w", seg.ObjectKey, err)
	}
	info, err := segment.Scan(obj, obj.Size())
	obj.Close()
	if err != nil || info.Fragments == 0 {
		// A committed object is whole; one that does not scan is kept
		// (never delete video on a guess) with the row as indexed.
		return closeRow(ctx, idx, seg, segment.Info{Duration: seg.End.Sub(seg.Start), Complete: seg.Bytes})
	}
	return closeRow(ctx, idx, seg, info)
}

// closeRow closes the row of a repaired segment.
func closeRow(ctx context.Context, idx Index, seg recordingdb.Segment, info segment.Info) (Result, error) {
	end := seg.Start.Add(info.Duration)
	ri := recordingdb.Info{VideoCodec: seg.VideoCodec, AudioCodec: seg.AudioCodec, Width: info.Width, Height: info.Height}
	if ri.Width == 0 {
		ri.Width, ri.Height = seg.Width, seg.Height
	}
	if err := idx.CloseSegment(ctx, seg.ID, end, info.Complete, ri); err != nil {
		return Result{}, fmt.Errorf("repair %s: %w", seg.ObjectKey, err)
	}
	return Result{End: end, Bytes: info.Complete}, nil
}

// scanFile scans the segment file at path.
func scanFile(path string) (segment.Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return segment.Info{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return segment.Info{}, err
	}
	return segment.Scan(f, fi.Size())
}

// remove deletes a segment with nothing playable: its file, then its row
// (in this order, so that a crash in between leaves a row to repair again,
// never a file nothing refers to).
func remove(ctx context.Context, st Store, idx Index, seg recordingdb.Segment, path string) (Result, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("repair %s: remove: %w", seg.ObjectKey, err)
	}
	if err := st.Delete(ctx, []string{seg.ObjectKey}); err != nil {
		return Result{}, fmt.Errorf("repair %s: remove: %w", seg.ObjectKey, err)
	}
	if err := idx.DeleteOpenSegment(ctx, seg.ID); err != nil {
		return Result{}, fmt.Errorf("repair %s: remove row: %w", seg.ObjectKey, err)
	}
	return Result{Removed: true}, nil
}

// Node repairs every open segment node left and records the hole from each
// repaired end (the segment's start when nothing was left) to now as a
// recorder_down gap; it returns the channels whose hole reaches now (the
// node continues it until it records them again). Segments that cannot be
// repaired now stay open and are reported joined; the others are repaired
// anyway.
func Node(ctx context.Context, st Store, idx Index, node string, now time.Time, log *slog.Logger) ([]string, error) {
	segs, err := idx.OpenSegments(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("repair: %w", err)
	}
	var errs []error
	var down []string
	for _, seg := range segs {
		res, err := Segment(ctx, st, idx, seg)
		if err != nil {
			log.Error("segment not repaired", "channel_id", seg.ChannelID, "key", seg.ObjectKey, "error", err)
			errs = append(errs, err)
			continue
		}
		from := res.End
		if res.Removed {
			from = seg.Start
		}
		log.Info("segment repaired", "channel_id", seg.ChannelID, "key", seg.ObjectKey, "removed", res.Removed,
			"end", res.End, "bytes", res.Bytes)
		if !now.After(from) {
			continue
		}
		g := recordingdb.Gap{
			ChannelID: seg.ChannelID, Start: from, End: now, Cause: recordingdb.CauseRecorderDown,
			Detail: "recorder " + node + " stopped while recording", Node: node,
		}
		if _, _, err := idx.OpenGap(ctx, g); err != nil {
			errs = append(errs, fmt.Errorf("repair: gap of %s: %w", seg.ChannelID, err))
			continue
		}
		down = append(down, seg.ChannelID)
	}
	return down, errors.Join(errs...)
}
