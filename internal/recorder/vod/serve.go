package vod

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// servePlaylist answers index.m3u8: the channel's segments overlapping the
// range, the one containing start split at its key-frame fragments.
func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, req request, c playtoken.Claims) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.Timeout)
	defer cancel()
	segs, err := s.Index.PlaybackSegments(ctx, req.Channel, req.Start, req.End)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	items, warm, err := s.items(ctx, req, segs)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%w: %s from %s to %s", ErrNoRecordings, req.Channel,
			req.Start.UTC().Format(time.RFC3339), req.End.UTC().Format(time.RFC3339))
	}
	if err := s.audit(ctx, r, req, c); err != nil {
		return err
	}
	if warm != nil {
		// The player asks for these two next, one after the other: both
		// transcodes start now, side by side.
		s.Transcoder.Warm(strconv.FormatInt(warm.seg.ID, 10), warm.rg, s.opener(warm.seg))
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return nil
	}
	return writePlaylist(w, items, req.Token)
}

// items lays the segments out for the playlist. An object this node cannot
// read (another node's directory, or an open segment still in the spool
// of the node writing it) gets absolute URLs on that node.
//
// With video=h264, warm is the first stretch to transcode ahead of the
// player's request, when this node holds it and it no longer grows.
func (s *Server) items(ctx context.Context, req request, segs []recordingdb.Segment) (items []item, warm *warmth, err error) {
	var urls map[string]string
	// gop is the longest GOP seen in the H.265 segments scanned (0 until
	// one is): the stretches of segments not scanned are at least that
	// long, so that each holds a key frame.
	var gop time.Duration
	items = make([]item, 0, len(segs))
	for _, seg := range segs {
		it := item{ID: seg.ID, Start: seg.Start, Duration: seg.End.Sub(seg.Start)}
		var keyParts []part // the segment's key-frame parts, when it was scanned
		h265 := req.H264 && seg.VideoCodec == segment.CodecH265
		if holder, local := s.holder(seg); !local {
			if urls == nil {
				var err error
				if urls, err = s.Index.NodeURLs(ctx); err != nil {
					return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
				}
			}
			base, ok := urls[holder]
			if !ok || base == "" {
				s.Log.Warn("vod: segment left out: its node has no URL", "channel_id", req.Channel,
					"recording", seg.ID, "node", holder)
				continue
			}
			it.Base = strings.TrimSuffix(base, "/") + Prefix + req.Path + "/"
		} else if first := len(items) == 0 && !seg.Start.After(req.Start); first || seg.Open || h265 && gop == 0 {
			// The first segment starts playback at start's fragment; the
			// open one is listed up to its last complete fragment; the
			// first H.265 one to transcode tells the GOP.
			l, err := s.layout(ctx, seg)
			if err != nil {
				return nil, nil, err
			}
			written := time.Duration(0)
			if n := len(l.Fragments); n > 0 {
				written = l.Fragments[n-1].End
			}
			switch {
			case first && !seg.Start.Add(written).After(req.Start):
				continue // an open segment whose row lags, written up to before start
			case first:
				it.Parts = parts(l, req.Start.Sub(seg.Start))
				keyParts = it.Parts
			default:
				if seg.Open {
					it.Duration = written
				}
				keyParts = parts(l, 0)
			}
		}
		if it.Duration <= 0 && len(it.Parts) == 0 {
			continue // an open segment with no complete fragment yet
		}
		if len(items) > 0 {
			it.Shift = max(0, seg.Start.Sub(items[0].Start))
		}
		if h265 {
			if s.Transcoder == nil {
				return nil, nil, fmt.Errorf("%w: recording %d is H.265", ErrNoTranscoder, seg.ID)
			}
			if keyParts != nil {
				it.Stretches = keyStretches(keyParts, len(items) == 0)
				for _, p := range keyParts {
					gop = max(gop, p.Duration)
				}
			} else {
				it.Stretches = gridStretches(it.Duration, gridLength(gop))
			}
			if first := it.Stretches[0]; len(items) == 0 && it.Base == "" && !seg.Open {
				warm = &warmth{seg: seg, rg: vodtranscode.Range{From: first.From, To: first.To, Shift: it.Shift, First: first.First}}
			}
		}
		items = append(items, it)
	}
	return items, warm, nil
}

// warmth is a stretch to transcode before the player asks for it.
type warmth struct {
	seg recordingdb.Segment
	rg  vodtranscode.Range
}

// opener opens seg for a transcode: its object, scanned.
func (s *Server) opener(seg recordingdb.Segment) vodtranscode.Opener {
	return func(ctx context.Context) (vodtranscode.Source, func(), error) {
		obj, err := s.Store.Open(ctx, seg.ObjectKey)
		if err != nil {
			return vodtranscode.Source{}, nil, s.storeErr(seg, err)
		}
		rd := newChunked(obj)
		l, err := s.scan(seg, rd, obj.Size())
		if err != nil {
			obj.Close()
			return vodtranscode.Source{}, nil, err
		}
		src := vodtranscode.Source{Key: strconv.FormatInt(seg.ID, 10), R: rd, Layout: l}
		return src, func() { obj.Close() }, nil
	}
}

// holder names the node whose URL serves seg and whether it is this one.
func (s *Server) holder(seg recordingdb.Segment) (string, bool) {
	if node, ok := strings.CutPrefix(seg.Store, objstore.KindDir+"://"); ok {
		return node, seg.Store == s.Store.Name()
	}
	// A shared bucket: committed objects are anyone's, the open one is in
	// its writer's spool.
	if seg.Store == s.Store.Name() && (!seg.Open || seg.Node == s.Node) {
		return s.Node, true
	}
	return seg.Node, seg.Node == s.Node && seg.Store == s.Store.Name()
}

// layout scans a segment object for its fragments.
func (s *Server) layout(ctx context.Context, seg recordingdb.Segment) (segment.Layout, error) {
	if l, ok := s.layouts.get(seg.ID); ok && !seg.Open {
		return l, nil
	}
	obj, err := s.Store.Open(ctx, seg.ObjectKey)
	if err != nil {
		return segment.Layout{}, s.storeErr(seg, err)
	}
	defer obj.Close()
	return s.scan(seg, newChunked(obj), obj.Size())
}

// scan reads seg's fragments from its object, or the scan kept of it once
// it no longer grows.
func (s *Server) scan(seg recordingdb.Segment, r io.ReaderAt, size int64) (segment.Layout, error) {
	if l, ok := s.layouts.get(seg.ID); ok && !seg.Open {
		return l, nil
	}
	l, err := segment.Fragments(r, size)
	if err != nil {
		return segment.Layout{}, fmt.Errorf("%w: recording %d (%s): %w", ErrUnavailable, seg.ID, seg.ObjectKey, err)
	}
	if !seg.Open {
		s.layouts.put(seg.ID, l)
	}
	return l, nil
}

// storeErr maps an object the store cannot open: a missing object is
// not found, anything else unavailable.
func (s *Server) storeErr(seg recordingdb.Segment, err error) error {
	if errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("%w: recording %d: object %s: %w", ErrNotFound, seg.ID, seg.ObjectKey, err)
	}
	return fmt.Errorf("%w: recording %d: %w", ErrUnavailable, seg.ID, err)
}

// parts splits a segment's fragments into the byte ranges of its media
// part that start with a key frame, from the last one at or before at on.
func parts(l segment.Layout, at time.Duration) []part {
	first := 0
	for i, f := range l.Fragments {
		if f.Start > at {
			break
		}
		if f.Key {
			first = i
		}
	}
	var out []part
	for _, f := range l.Fragments[min(first, len(l.Fragments)):] {
		if n := len(out); n > 0 && !f.Key {
			out[n-1].Size += f.Size
			out[n-1].Duration = f.End - out[n-1].Start
			continue
		}
		out = append(out, part{Offset: f.Offset - l.InitSize, Size: f.Size, Start: f.Start, Duration: f.End - f.Start})
	}
	return out
}

// serveH264 answers h264/init/<id>.mp4 and h264/seg/<id>.m4s: the H.264
// version of an H.265 segment's init section and of a stretch of it.
func (s *Server) serveH264(w http.ResponseWriter, r *http.Request, req request) error {
	if s.Transcoder == nil {
		return fmt.Errorf("%w: recording %d", ErrNoTranscoder, req.ID)
	}
	seg, err := s.localSegment(r.Context(), req)
	if err != nil {
		return err
	}
	key, final, open := strconv.FormatInt(seg.ID, 10), !seg.Open, s.opener(seg)
	var b []byte
	if req.File == fileH264Init {
		b, err = s.Transcoder.Init(r.Context(), key, final, open)
	} else {
		rg := vodtranscode.Range{From: req.From, To: req.To, Shift: req.Shift, First: req.First}
		b, err = s.Transcoder.Part(r.Context(), key, final, rg, open)
	}
	if err != nil {
		return err
	}
	serveMP4(w, r, seg, bytes.NewReader(b))
	return nil
}

// serveMP4 answers media of seg: a closed segment never changes, the open
// one grows.
func serveMP4(w http.ResponseWriter, r *http.Request, seg recordingdb.Segment, media io.ReadSeeker) {
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	if seg.Open {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "private, max-age=86400")
	}
	http.ServeContent(w, r, "", time.Time{}, media)
}

// localSegment is the request's segment of the path's channel, when this
// node can read its object.
func (s *Server) localSegment(ctx context.Context, req request) (recordingdb.Segment, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	seg, err := s.Index.ChannelSegment(ctx, req.Channel, req.ID)
	if err != nil {
		return seg, err // store.ErrNotFound is 404, anything else 500
	}
	if holder, local := s.holder(seg); !local {
		return seg, fmt.Errorf("%w: recording %d is served by node %s", ErrNotFound, seg.ID, holder)
	}
	return seg, nil
}

// serveMedia answers init/<id>.mp4 (the init section) and seg/<id>.m4s
// (the media part, Range honoured) of a segment of the path's channel.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, req request) error {
	seg, err := s.localSegment(r.Context(), req)
	if err != nil {
		return err
	}
	// The object is read as long as the answer is written: the request's
	// context bounds it, not Timeout.
	obj, err := s.Store.Open(r.Context(), seg.ObjectKey)
	if err != nil {
		return s.storeErr(seg, err)
	}
	defer obj.Close()
	rd := newChunked(obj)
	var from, to int64
	var media io.ReaderAt = rd
	if seg.Open || req.Shift > 0 && req.File == fileSeg {
		l, err := segment.Fragments(rd, obj.Size())
		if err != nil {
			return fmt.Errorf("%w: recording %d: %w", ErrUnavailable, seg.ID, err)
		}
		from, to = l.InitSize, l.Complete()
		if req.Shift > 0 {
			media = shifted(rd, l, req.Shift)
		}
	} else {
		if from, err = segment.InitSize(rd, obj.Size()); err != nil {
			return fmt.Errorf("%w: recording %d: %w", ErrUnavailable, seg.ID, err)
		}
		to = obj.Size()
	}
	if req.File == fileInit {
		from, to = 0, from
	}
	serveMP4(w, r, seg, io.NewSectionReader(media, from, to-from))
	return nil
}

// patch is bytes that replace those of an object at an offset.
type patch struct {
	off int64
	b   []byte
}

// patched reads an object with some of its bytes replaced.
type patched struct {
	r       io.ReaderAt
	patches []patch
}

// ReadAt implements io.ReaderAt.
func (p patched) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	for _, pt := range p.patches {
		lo, hi := max(off, pt.off), min(off+int64(n), pt.off+int64(len(pt.b)))
		if lo < hi {
			copy(b[lo-off:hi-off], pt.b[lo-pt.off:hi-pt.off])
		}
	}
	return n, err
}

// shifted reads a segment with every fragment's decode times moved by d,
// each in its track's time scale. Only the 8-byte tfdt values change: the
// object's size and layout stay, so byte ranges stay valid.
func shifted(r io.ReaderAt, l segment.Layout, d time.Duration) io.ReaderAt {
	var patches []patch
	for _, f := range l.Fragments {
		for _, t := range f.Times {
			scale := int64(l.TimeScales[t.Track])
			ticks := uint64(d / time.Microsecond * time.Duration(scale) / 1_000_000)
			patches = append(patches, patch{off: t.Offset, b: binary.BigEndian.AppendUint64(nil, t.Value+ticks)})
		}
	}
	return patched{r: r, patches: patches}
}
