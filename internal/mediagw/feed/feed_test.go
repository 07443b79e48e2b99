package feed_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/feed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// sameUnit fails the test when got is not want as the header names it.
func sameUnit(t testing.TB, i int, tracks []string, got unitfeed.Unit, want hub.Unit) {
	t.Helper()
	if tracks[got.Track] != want.Codec.String() || got.Key != want.Keyframe || got.PTS != want.PTS || got.DTS != want.DTS ||
		!got.Received.Equal(want.Received) || !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("unit %d: got %s key=%t pts=%d dts=%d received %s %d bytes, want %s key=%t pts=%d dts=%d received %s %d bytes", i,
			tracks[got.Track], got.Key, got.PTS, got.DTS, got.Received, len(got.Payload),
			want.Codec, want.Keyframe, want.PTS, want.DTS, want.Received, len(want.Payload))
	}
}

// frame returns the index in us of the video unit of frame n of a clip at
// 25 fps.
func frame(t testing.TB, us []hub.Unit, n int) int {
	t.Helper()
	i := slices.IndexFunc(us, func(u hub.Unit) bool { return u.Codec.IsVideo() && u.PTS == int64(n)*90000/25 })
	if i < 0 {
		t.Fatalf("no frame %d", n)
	}
	return i
}

// playUpTo publishes path in h and writes the units of a clip of seconds
// (units) up to, not including, its video frame n; it returns the stream,
// all the clip's units and the index of frame n's.
func playUpTo(t testing.TB, h *hub.Hub, path string, seconds, n int) (*hub.Stream, []hub.Unit, int) {
	t.Helper()
	st := publish(t, h, path)
	all := units(mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, seconds))
	split := frame(t, all, n)
	write(t, st, all[:split])
	return st, all, split
}

// lastKey returns the index of the last video keyframe of us.
func lastKey(us []hub.Unit) int {
	k := -1
	for i, u := range us {
		if u.Codec.IsVideo() && u.Keyframe {
			k = i
		}
	}
	return k
}

// TestRoundTrip: a feed carries the units of an H.264 + G.711 stream as
// the hub holds them (with when they were received), in order, from the
// GOP cache's keyframe to the stream's end; the end flushes the tail (no
// timer flush comes here) and ends the body cleanly (io.EOF). The media
// open is audited before; the header carries the server's clock.
func TestRoundTrip(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	// Into the second GOP before the feed starts: it starts at the second
	// keyframe, from the GOP cache.
	st, all, split := playUpTo(t, h, "live/rt", 3, 37)
	start := lastKey(all[:split])
	if start <= 0 {
		t.Fatalf("no second keyframe before unit %d", split)
	}
	src := newSource(h)
	now := received.Add(time.Hour)
	s, base := startServer(t, src, func(s *feed.Server) {
		s.FlushInterval = 20 * time.Millisecond
		s.Now = func() time.Time { return now }
	})

	c := openFeed(t, http.DefaultClient, feedURL(base, "live/rt", testToken))
	if want := []string{unitfeed.CodecH264, unitfeed.CodecG711A}; !slices.Equal(c.header.Tracks, want) || !c.header.Now.Equal(now) {
		t.Fatalf("header %+v, want tracks %v and now %s", c.header, want, now)
	}
	opens := src.Opens()
	if len(opens) != 1 || opens[0].Protocol != access.ProtocolFeed || opens[0].Path != "live/rt" ||
		opens[0].Token != testToken || opens[0].Remote == "" {
		t.Fatalf("audited %+v", opens)
	}
	write(t, st, all[split:])
	st.Close()
	want := all[start:]
	for i, w := range want {
		u, err := c.readUnit(t, s.WriteTimeout)
		if err != nil {
			t.Fatalf("unit %d of %d: %v", i, len(want), err)
		}
		sameUnit(t, i, c.header.Tracks, u, w)
	}
	if _, err := c.readUnit(t, s.WriteTimeout); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last unit: %v, want io.EOF", err)
	}
	testsupport.Eventually(t, s.WriteTimeout, "the feed's end", func() bool { return len(s.Sessions()) == 0 })
}

// TestFlushInterval: a unit far smaller than the buffer reaches the client
// by the timer's flush, FlushInterval after it was written (the bound adds
// the write timeout of that flush); flushes come from units, one per unit
// written alone, not from a ticker.
func TestFlushInterval(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st := publish(t, h, "live/flush")
	all := units(mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	// The first keyframe and its audio make the stream ready.
	ready := slices.IndexFunc(all, func(u hub.Unit) bool { return u.Codec.IsVideo() && !u.Keyframe })
	write(t, st, all[:ready])
	s, base := startServer(t, newSource(h), func(s *feed.Server) { s.FlushInterval = 20 * time.Millisecond })
	bound := s.FlushInterval + s.WriteTimeout

	c := openFeed(t, http.DefaultClient, feedURL(base, "live/flush", testToken))
	for i, w := range all[:ready] {
		u, err := c.readUnit(t, bound)
		if err != nil {
			t.Fatalf("cached unit %d: %v", i, err)
		}
		sameUnit(t, i, c.header.Tracks, u, w)
	}
	flushes := func() uint64 {
		ss := s.Sessions()
		if len(ss) != 1 {
			t.Fatalf("sessions %+v", ss)
		}
		return ss[0].Flushes
	}
	// The header's flush and the cached units' ones.
	testsupport.Eventually(t, bound, "the cached units' flush", func() bool { return flushes() >= 2 })
	const alone = 5
	for i, w := range all[ready : ready+alone] {
		before := flushes()
		write(t, st, []hub.Unit{w})
		u, err := c.readUnit(t, bound)
		if err != nil {
			t.Fatalf("unit %d: %v", ready+i, err)
		}
		sameUnit(t, ready+i, c.header.Tracks, u, w)
		testsupport.Eventually(t, bound, "the unit's flush counted", func() bool { return flushes() > before })
	}
	if n, most := flushes(), uint64(1+ready+alone); n > most {
		t.Fatalf("%d flushes for %d units: more than one per unit", n, ready+alone)
	}
	ss := s.Sessions()[0]
	if !ss.Open || ss.Path != "live/flush" || ss.Units != uint64(ready+alone) || ss.Bytes == 0 ||
		!strings.HasPrefix(ss.Reader, access.ProtocolFeed+" ") || !slices.Equal(ss.Tracks, c.header.Tracks) {
		t.Fatalf("session %+v", ss)
	}
}

// TestBufferFull: the units an interval gathered go out even when they
// are several times the buffer (each full buffer is written as it fills),
// whole and in order, with a single flush after them.
//
// The buffer is larger than the HTTP server's own (4 KiB): a chunk that
// size would leave its last bytes there, and Go's client returns no byte
// of a chunk until it has all of it.
func TestBufferFull(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	// The second GOP's first 20 frames: a few times the buffer.
	_, all, split := playUpTo(t, h, "live/full", 2, 45)
	s, base := startServer(t, newSource(h), func(s *feed.Server) {
		s.FlushInterval = 20 * time.Millisecond
		s.BufferSize = 16 << 10
	})
	c := openFeed(t, http.DefaultClient, feedURL(base, "live/full", testToken))
	start := lastKey(all[:split])
	for i, w := range all[start:split] {
		u, err := c.readUnit(t, s.FlushInterval+s.WriteTimeout)
		if err != nil {
			t.Fatalf("unit %d: %v", i, err)
		}
		sameUnit(t, i, c.header.Tracks, u, w)
	}
	if ss := s.Sessions(); len(ss) != 1 || ss[0].Flushes > 2 || ss[0].Bytes < uint64(2*s.BufferSize) {
		t.Fatalf("sessions %+v: want the header's flush and one more, after several buffers", ss)
	}
}

// TestRefusals: a request that gets no feed is answered with a status and
// a JSON body {error, code}, and holds no hub reader: a bad or missing
// token, a path nothing is published at, a media open the audit refuses,
// a method other than GET, a malformed path.
func TestRefusals(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st := mediatest.Publish(t, h, "live/on", mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2), true)
	src := newSource(h)
	s, base := startServer(t, src, nil)
	refused := fmt.Errorf("console: %w", access.ErrUnavailable)
	for _, tc := range []struct {
		name, method, url string
		audit             error
		status            int
		code              string
	}{
		{"bad token", http.MethodGet, feedURL(base, "live/on", "bad"), nil, http.StatusUnauthorized, "unauthorized"},
		{"no token", http.MethodGet, base + "/feed/live/on", nil, http.StatusUnauthorized, "unauthorized"},
		{"unknown path", http.MethodGet, feedURL(base, "live/none", testToken), nil, http.StatusNotFound, "not_found"},
		{"audit refused", http.MethodGet, feedURL(base, "live/on", testToken), refused, http.StatusServiceUnavailable, "unavailable"},
		{"POST", http.MethodPost, feedURL(base, "live/on", testToken), nil, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"DELETE", http.MethodDelete, feedURL(base, "live/on", testToken), nil, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"empty path", http.MethodGet, feedURL(base, "", testToken), nil, http.StatusBadRequest, "bad_request"},
		{"dot path", http.MethodGet, base + "/feed/live/.on?token=" + testToken, nil, http.StatusBadRequest, "bad_request"},
		{"transcode path", http.MethodGet, feedURL(base, "live/on~h264", testToken), nil, http.StatusBadRequest, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src.Fail(tc.audit)
			defer src.Fail(nil)
			a := request(t, tc.method, tc.url)
			if a.status != tc.status || a.Code != tc.code || a.Msg == "" {
				t.Fatalf("%d %+v, want %d %s", a.status, a, tc.status, tc.code)
			}
			if tc.status == http.StatusMethodNotAllowed && a.allow != http.MethodGet {
				t.Errorf("Allow: %q", a.allow)
			}
			if n := feedReaders(st); n != 0 {
				t.Errorf("%d hub readers left", n)
			}
			if ss := s.Sessions(); len(ss) != 0 {
				t.Errorf("sessions left: %+v", ss)
			}
		})
	}
	if n := len(src.Opens()); n != 0 {
		t.Fatalf("%d media opens audited for refused requests", n)
	}
	s.Close()
	if a := request(t, http.MethodGet, feedURL(base, "live/on", testToken)); a.status != http.StatusServiceUnavailable ||
		a.Code != "unavailable" {
		t.Fatalf("after Close: %+v", a)
	}
}

// TestEnds: a feed ends, and its hub reader is released, when its client
// leaves, at Close, and when the revocation ends its viewer; the last two
// cut the body (the client never reads io.EOF, the stream's clean end).
// Close returns only once the handler is done.
func TestEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *feed.Server, c *client)
		cut  bool // the client must see the body cut
	}{
		{"client gone", func(_ *testing.T, _ *feed.Server, c *client) { c.cancel() }, false},
		{"close", func(_ *testing.T, s *feed.Server, _ *client) { s.Close() }, true},
		{"revoked", func(t *testing.T, s *feed.Server, _ *client) {
			vs := s.Viewers()
			if len(vs) != 1 || vs[0].Token != testToken {
				t.Fatalf("viewers %+v", vs)
			}
			vs[0].End()
			vs[0].End()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			st := mediatest.Publish(t, h, "live/end", mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2), true)
			s, base := startServer(t, newSource(h), func(s *feed.Server) { s.FlushInterval = 20 * time.Millisecond })
			c := openFeed(t, http.DefaultClient, feedURL(base, "live/end", testToken))
			if _, err := c.readUnit(t, s.FlushInterval+s.WriteTimeout); err != nil {
				t.Fatal(err)
			}
			if n := feedReaders(st); n != 1 {
				t.Fatalf("%d hub readers, want 1", n)
			}
			tc.end(t, s, c)
			if tc.cut {
				// The stream plays on: only the cut ends the reads.
				for {
					_, err := c.readUnit(t, s.FlushInterval+s.WriteTimeout)
					if err == nil {
						continue
					}
					if errors.Is(err, io.EOF) {
						t.Fatal("the body ended cleanly, as if the stream had ended")
					}
					t.Logf("client: %v", err)
					break
				}
			}
			// The handler lets go of the reader as soon as it sees the end,
			// or when its blocked write fails, WriteTimeout at the latest.
			testsupport.Eventually(t, s.WriteTimeout, "the hub reader released", func() bool { return feedReaders(st) == 0 })
			testsupport.Eventually(t, s.WriteTimeout, "the session gone", func() bool { return len(s.Sessions()) == 0 })
		})
	}
}

// TestCloseUnblocks: Close ends at once, not WriteTimeout (an hour) later,
// a feed whose client stopped reading (its handler blocked in a write) and
// a feed still waiting for its stream to be ready; no handler outlives it.
func TestCloseUnblocks(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st := publish(t, h, "live/stuck")
	all := units(mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 1))
	write(t, st, all[:2])
	publish(t, h, "live/later") // never ready
	s, base := startServer(t, newSource(h), func(s *feed.Server) {
		s.FlushInterval = time.Millisecond
		s.WriteTimeout = time.Hour
	})
	c := openFeed(t, http.DefaultClient, feedURL(base, "live/stuck", testToken))
	// The client reads nothing more: megabyte units fill the socket
	// buffers, the handler blocks in a write and the reader's queue grows.
	big := make([]byte, 1<<20)
	pts := all[1].PTS
	testsupport.Eventually(t, 10*time.Second, "the handler blocked in a write", func() bool {
		pts += 3600
		write(t, st, []hub.Unit{{Codec: ps.CodecH264, PTS: pts, DTS: pts, Payload: big}})
		r := st.Stats().Readers
		return len(r) == 1 && r[0].Queued >= 3
	})
	waiting := make(chan int, 1)
	go func() {
		resp, err := http.Get(feedURL(base, "live/later", testToken))
		if err != nil {
			waiting <- 0
			return
		}
		resp.Body.Close()
		waiting <- resp.StatusCode
	}()
	testsupport.Eventually(t, 10*time.Second, "the second feed waiting", func() bool { return len(s.Sessions()) == 2 })

	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the blocked write")
	}
	if n := feedReaders(st); n != 0 {
		t.Fatalf("%d hub readers after Close", n)
	}
	if code := <-waiting; code != http.StatusServiceUnavailable {
		t.Fatalf("the waiting feed: %d, want 503", code)
	}
	c.cancel()
}
