package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// reanchorAfter re-reads the wall clock at a segment cut when the stream's
// clock has drifted this far from it, so that a long session's segments stay
// where they were recorded.
const reanchorAfter = 5 * time.Second

// record runs one session: it connects and writes segments until the
// session or the storage fails, or the channel closes (then nil).
func (c *Channel) record() error {
	ctx, cancel := context.WithTimeout(c.ctx, c.DBTimeout)
	token, err := c.Tokens.Token(ctx)
	cancel()
	if err != nil {
		return err
	}
	s, err := openSession(c.ctx, feedURL(c.FeedURL, c.ChannelID, token), c.ReadTimeout, c.Now)
	if err != nil {
		return err
	}
	defer s.close()
	codecs := make([]string, len(s.tracks))
	for i, t := range s.tracks {
		codecs[i] = t.Codec()
	}
	c.Log.Info("stream opened", "tracks", codecs)
	r := &recording{c: c, tracks: s.tracks}
	err = r.loop(s)
	if cerr := r.closeSegment(); err == nil && c.ctx.Err() == nil {
		err = cerr
	} else if cerr != nil {
		c.Log.Error("segment not closed", "error", cerr)
	}
	return err
}

// recording is the segment state of one session.
type recording struct {
	c      *Channel
	tracks []*segment.Track

	// anchored maps the session's video clock to the wall clock: wall at pts.
	anchored   bool
	anchorWall time.Time
	anchorPTS  int64

	// The segment being written; w is nil between segments.
	w        *segment.Writer
	file     *segmentFile
	id       int64 // its index row, once the writer started
	seg      recordingdb.Segment
	startPTS int64
	segments int           // closed in this session (the first is staggered)
	indexed  int64         // bytes counted in the metrics so far
	extended time.Duration // media time the open row says it holds
}

// extendEvery is how much new media makes the open row's end move. Not
// every fragment: the covering index holds end_at, so each update is a
// new index entry — one a second per channel was a write on the hot path
// that nothing needs (the close writes the exact end; a crash's repair
// reads it from the file); the timeline of a segment being written lags
// by up to this much.
const extendEvery = 10 * time.Second

func (r *recording) loop(s *session) error {
	for {
		u, err := s.next()
		switch {
		case err != nil && r.c.ctx.Err() != nil:
			return nil //nolint:nilerr // the channel closed: the read failed because of it
		case errors.Is(err, io.EOF):
			return ErrStreamEnded
		case err != nil:
			return fmt.Errorf("feed: %w", err)
		}
		if err := r.write(u); err != nil {
			return err
		}
	}
}

// write writes one unit, cutting segments at key frames.
func (r *recording) write(u unit) error {
	if !u.track.IsVideo() {
		if r.w == nil {
			return nil
		}
		err := r.w.WriteAudio(u.track, u.pts, u.au...)
		if errors.Is(err, ErrStorage) {
			return err
		}
		return nil // audio the writer cannot place is dropped; the video goes on
	}
	key := segment.IsKeyFrame(u.track, u.au)
	segTicks := int64(r.c.SegmentDuration * 90000 / time.Second)
	if r.segments == 0 {
		segTicks += int64(r.c.Stagger * 90000 / time.Second)
	}
	if key && r.w != nil && r.w.Started() && u.pts-r.startPTS >= segTicks {
		if err := r.closeSegment(); err != nil {
			return err
		}
	}
	err := r.writeVideo(u, key)
	if errors.Is(err, segment.ErrParamsChanged) || errors.Is(err, segment.ErrTimestamp) {
		r.c.Log.Info("new segment", "reason", err)
		if err := r.closeSegment(); err != nil {
			return err
		}
		err = r.writeVideo(u, key)
	}
	if err != nil {
		return err
	}
	return r.progress()
}

// writeVideo writes a video unit into the current segment, starting one
// (writer, file, index row) as needed.
func (r *recording) writeVideo(u unit, key bool) error {
	if r.w == nil {
		r.file = &segmentFile{}
		r.w = &segment.Writer{W: r.file, Tracks: r.tracks, FragmentDuration: r.c.FragmentDuration}
		if err := r.w.Initialize(); err != nil {
			return fmt.Errorf("segment writer: %w", err)
		}
	}
	if !r.w.Started() {
		if !key {
			return nil // a segment starts with a key frame
		}
		if err := r.prepare(u); err != nil {
			return err
		}
	}
	was := r.w.Started()
	if err := r.w.WriteVideo(u.track, u.pts, u.au); err != nil {
		return err
	}
	if !was && r.w.Started() {
		return r.opened(u.pts)
	}
	return nil
}

// prepare names the segment the key frame u would start: its wall start
// and object key, and the local file the writer creates. The stream's clock
// is anchored to when mediagw received the key frame (on this node's
// clock), or to now when the feed does not say.
func (r *recording) prepare(u unit) error {
	pts, now := u.pts, u.wall
	if now.IsZero() {
		now = r.c.Now()
	}
	start := r.anchorWall.Add(ticks(pts - r.anchorPTS))
	if !r.anchored || absDuration(now.Sub(start)) > reanchorAfter {
		r.anchored, r.anchorWall, r.anchorPTS = true, now, pts
		start = now
	}
	start = start.Truncate(time.Millisecond) // the key's precision
	// A stream that starts again at once can date its first key frame a
	// few milliseconds before the end of the last frame recorded (whose
	// length was the frame rate's guess): the timeline does not go back.
	if last := r.c.lastEnd; r.segments == 0 && start.Before(last) {
		next := last.Add(time.Millisecond - 1).Truncate(time.Millisecond)
		r.anchorWall = r.anchorWall.Add(next.Sub(start))
		r.c.Log.Debug("session start moved to the end of the last recording", "by", next.Sub(start))
		start = next
	}
	key := ObjectKey(r.c.ChannelID, start)
	path, err := r.c.Store.WritePath(key)
	if err != nil {
		return asStorage(fmt.Errorf("segment %s: %w", key, err))
	}
	r.file.path = path
	r.seg = recordingdb.Segment{
		ChannelID: r.c.ChannelID, Start: start, End: start, ObjectKey: key, Store: r.c.Store.Name(),
		RetentionDays: r.c.RetentionDays, Node: r.c.Node,
	}
	return nil
}

// opened indexes the segment the writer has just started with the key
// frame at pts, and ends the gap before it.
func (r *recording) opened(pts int64) error {
	r.startPTS = pts
	r.seg.VideoCodec, r.seg.AudioCodec = r.w.VideoCodec(), r.w.AudioCodec()
	r.seg.Width, r.seg.Height = r.w.Resolution()
	ctx, cancel := r.c.dbContext()
	defer cancel()
	id, err := r.c.Index.OpenSegment(ctx, r.seg)
	if err != nil {
		// Without its row the segment would be invisible: stop here, the
		// reconnect tries again (stream_error with the database's error).
		return fmt.Errorf("index segment %s: %w", r.seg.ObjectKey, err)
	}
	r.id, r.indexed, r.extended = id, 0, 0
	r.c.stalled(r.seg.Start)
	r.c.closeGap(r.seg.Start)
	if r.c.Metrics != nil {
		r.c.Metrics.Recording.Inc()
	}
	r.c.Log.Debug("segment opened", "key", r.seg.ObjectKey, "start", r.seg.Start)
	return nil
}

// progress tells the index about fragments that landed.
func (r *recording) progress() error {
	if r.w == nil || r.id == 0 || r.w.Bytes() == r.indexed {
		return nil
	}
	if err := r.file.err; err != nil {
		return err
	}
	end := r.seg.Start.Add(r.w.Duration())
	if r.c.Metrics != nil {
		r.c.Metrics.Bytes.Add(float64(r.w.Bytes() - r.indexed))
	}
	r.indexed = r.w.Bytes()
	r.c.lastEnd = end
	if r.w.Duration()-r.extended < extendEvery {
		return nil
	}
	r.extended = r.w.Duration()
	ctx, cancel := r.c.dbContext()
	defer cancel()
	if err := r.c.Index.ExtendSegment(ctx, r.id, end, r.w.Bytes()); err != nil {
		// The file goes on; the next fragment or the close says where it ends.
		r.c.Log.Warn("segment end not indexed", "key", r.seg.ObjectKey, "error", err)
	}
	return nil
}

// closeSegment closes the current segment: the writer's last fragment, the
// file, the index row, the commit. A segment whose writer never started
// leaves nothing behind.
func (r *recording) closeSegment() error {
	w, f := r.w, r.file
	r.w, r.file = nil, nil
	if w == nil {
		return nil
	}
	werr := w.Close()
	if cerr := f.close(); werr == nil {
		werr = cerr
	}
	if !w.Started() || r.id == 0 {
		if f.path != "" {
			_ = os.Remove(f.path) // nothing indexed refers to it
		}
		return werr
	}
	r.seg.ID = r.id
	r.id = 0
	r.segments++
	if r.c.Metrics != nil {
		r.c.Metrics.Recording.Dec()
		r.c.Metrics.Bytes.Add(float64(w.Bytes() - r.indexed))
	}
	r.seg.End = r.seg.Start.Add(w.Duration())
	r.seg.Bytes = w.Bytes()
	r.c.lastEnd = r.seg.End
	if werr != nil {
		// Writing failed: what reached the file is kept as a restart would
		// keep it (cut after the last complete fragment), and the session
		// ends: the hole after it is a storage_error gap.
		r.c.commits <- commitJob{seg: r.seg, repair: true}
		return asStorage(fmt.Errorf("segment %s: %w", r.seg.ObjectKey, werr))
	}
	r.c.commits <- commitJob{seg: r.seg}
	r.c.Log.Debug("segment closed", "key", r.seg.ObjectKey, "duration", w.Duration(), "bytes", w.Bytes())
	return nil
}

// dbContext bounds an index write; it is not the channel's context, so a
// closing channel still closes its segment.
func (c *Channel) dbContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.DBTimeout)
}

// ticks converts 90 kHz ticks to a duration.
func ticks(t int64) time.Duration {
	return time.Duration(t) * time.Second / 90000
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// segmentFile is the local file of a segment, created at the first write
// (the writer writes nothing before the key frame that names the segment).
// Its errors are storage errors.
type segmentFile struct {
	path string
	f    *os.File
	err  error
}

// Write implements io.Writer.
func (s *segmentFile) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			s.err = asStorage(fmt.Errorf("create segment: %w", err))
			return 0, s.err
		}
		s.f = f
	}
	n, err := s.f.Write(p)
	if err != nil {
		s.err = asStorage(fmt.Errorf("write segment: %w", err))
	}
	return n, s.err
}

// close closes the file.
func (s *segmentFile) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	if err := s.f.Close(); err != nil {
		return asStorage(fmt.Errorf("close segment: %w", err))
	}
	return nil
}
