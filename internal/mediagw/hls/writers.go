package hls

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// dropGaps removes the EXT-X-GAP segments gohlslib puts at the start of a
// young LL-HLS media playlist (for iOS, it says). Chromium's native player
// fetches gap.mp4 like any segment and fails on it. The gaps always lead the
// list and take the media sequence numbers below the first real segment, so
// removing them moves EXT-X-MEDIA-SEQUENCE up by their number and leaves
// every real segment's number, hence _HLS_msn, unchanged. In a delta update
// the gaps hidden by EXT-X-SKIP are those of the full list
// (initialGaps - MEDIA-SEQUENCE) that are not shown.
func dropGaps(b []byte) ([]byte, error) {
	var pl playlist.Media
	if err := pl.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("parse media playlist: %w", err)
	}
	shown := 0
	for _, seg := range pl.Segments {
		if seg.Gap {
			shown++
		}
	}
	total := shown
	if pl.Skip != nil {
		// The skipped segments are the oldest, so gaps go first.
		total = max(initialGaps-pl.MediaSequence, shown)
		hidden := min(total-shown, pl.Skip.SkippedSegments)
		total = shown + hidden
		pl.Skip.SkippedSegments -= hidden
	}
	if total == 0 {
		return b, nil
	}
	segs := make([]*playlist.MediaSegment, 0, len(pl.Segments)-shown)
	for _, seg := range pl.Segments {
		if !seg.Gap {
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("only gaps")
	}
	pl.Segments = segs
	pl.MediaSequence += total
	out, err := pl.Marshal()
	if err != nil {
		return nil, fmt.Errorf("write media playlist: %w", err)
	}
	// The parser accepts URIs the writer cannot quote; never hand out a
	// playlist that does not read back.
	var check playlist.Media
	if err := check.Unmarshal(out); err != nil {
		return nil, fmt.Errorf("rewritten media playlist: %w", err)
	}
	return out, nil
}

// bufferWriter collects a handler's answer.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// gate is the ResponseWriter given to a gohlslib handler: it forwards to the
// request's writer until the request abandons it.
type gate struct {
	w      http.ResponseWriter
	header http.Header // the handler's own, copied at WriteHeader

	mu        sync.Mutex
	started   bool
	abandoned bool
}

func (g *gate) Header() http.Header { return g.header }

func (g *gate) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeaderLocked(code)
}

func (g *gate) writeHeaderLocked(code int) {
	if g.abandoned || g.started {
		return
	}
	g.started = true
	h := g.w.Header()
	for k, v := range g.header {
		h[k] = v
	}
	if code != http.StatusOK || h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	g.w.WriteHeader(code)
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return 0, errAbandoned
	}
	g.writeHeaderLocked(http.StatusOK)
	return g.w.Write(p)
}

// abandon stops forwarding if the handler has not started its answer and
// reports whether it did.
func (g *gate) abandon() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return false
	}
	g.abandoned = true
	return true
}
