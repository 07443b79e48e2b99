package hub_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// fakeClock is a settable clock for the hub.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newHub(t *testing.T, h *hub.Hub) *hub.Hub {
	t.Helper()
	if h.Now == nil {
		h.Now = newFakeClock().Now
	}
	if err := h.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func publish(t *testing.T, h *hub.Hub, path string) *hub.Stream {
	t.Helper()
	s, err := h.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addReader(t *testing.T, s *hub.Stream, name string) *hub.Reader {
	t.Helper()
	r, err := s.AddReader(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Unit shorthands: K video keyframe, P video inter frame, A audio. PTS is
// a sequence number so tests can tell units apart.
var seq int64

func unit(kind byte) hub.Unit {
	seq++
	switch kind {
	case 'K':
		return hub.Unit{Codec: ps.CodecH264, PTS: seq, DTS: seq, Keyframe: true, Payload: []byte{0, 0, 0, 1, 0x65, 1}}
	case 'P':
		return hub.Unit{Codec: ps.CodecH264, PTS: seq, DTS: seq, Payload: []byte{0, 0, 0, 1, 0x41, 1}}
	case 'A':
		return hub.Unit{Codec: ps.CodecG711A, PTS: seq, DTS: seq, Keyframe: true, Payload: make([]byte, 160)}
	}
	panic("unknown unit kind")
}

func write(t *testing.T, s *hub.Stream, pattern string) []hub.Unit {
	t.Helper()
	var out []hub.Unit
	for i := range len(pattern) {
		u := unit(pattern[i])
		if err := s.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// kindOf is the letter of u in a unit pattern (see unit).
func kindOf(u hub.Unit) byte {
	switch {
	case u.Codec.IsAudio():
		return 'A'
	case u.Keyframe:
		return 'K'
	}
	return 'P'
}

// drain takes the units already queued for r, without waiting for more,
// and returns them as a pattern like "KPPA".
func drain(r *hub.Reader) string {
	var b []byte
	for {
		select {
		case u, ok := <-r.Units():
			if !ok {
				return string(b)
			}
			b = append(b, kindOf(u))
		default:
			return string(b)
		}
	}
}

func TestPublish(t *testing.T) {
	h := newHub(t, &hub.Hub{})
	s := publish(t, h, "live/1")
	if _, err := h.Publish("live/1"); !errors.Is(err, hub.ErrAlreadyPublished) {
		t.Fatalf("second publish: %v, want ErrAlreadyPublished", err)
	}
	if got, ok := h.Stream("live/1"); !ok || got != s {
		t.Fatal("Stream does not return the published stream")
	}
	if st := s.Stats(); st.Hold != nil {
		t.Fatalf("a live stream has a hold: %+v", st.Hold)
	}
	r := addReader(t, s, "r")
	s.Close()
	if _, ok := <-r.Units(); ok {
		t.Fatal("reader queue open after stream close")
	}
	if !errors.Is(r.Err(), hub.ErrStreamClosed) {
		t.Fatalf("reader error %v, want ErrStreamClosed", r.Err())
	}
	if err := s.WriteUnit(unit('K')); !errors.Is(err, hub.ErrStreamClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, ok := h.Stream("live/1"); ok {
		t.Fatal("closed stream still listed")
	}
	publish(t, h, "live/1")
	if err := s.WriteUnit(hub.Unit{}); !errors.Is(err, hub.ErrUnknownCodec) {
		t.Fatalf("unknown codec: %v", err)
	}
}

func TestReaderClose(t *testing.T) {
	h := newHub(t, &hub.Hub{})
	s := publish(t, h, "live/1")
	r := addReader(t, s, "r")
	r.Close()
	r.Close()
	if !errors.Is(r.Err(), hub.ErrReaderClosed) {
		t.Fatalf("reader error %v, want ErrReaderClosed", r.Err())
	}
	write(t, s, "KP")
	if n := len(s.Stats().Readers); n != 0 {
		t.Fatalf("%d readers after close", n)
	}
}

func TestGOPCache(t *testing.T) {
	tests := []struct {
		name     string
		units    int // GOPMaxUnits, 0 for default
		before   string
		after    string
		want     string
		gopUnits int
	}{
		{name: "starts on last keyframe", before: "KPPAKPA", after: "P", want: "KPAP", gopUnits: 3},
		{name: "waits for first keyframe", before: "PPA", after: "PKP", want: "KP", gopUnits: 0},
		{name: "audio only starts at once", before: "AAA", after: "A", want: "A", gopUnits: 0},
		{name: "audio before video", before: "A", after: "AKP", want: "AKP", gopUnits: 0},
		{name: "oversized GOP not cached", units: 3, before: "KPPPP", after: "PKP", want: "KP", gopUnits: 0},
		{name: "GOP at the limit cached", units: 3, before: "KPP", after: "", want: "KPP", gopUnits: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, &hub.Hub{GOPMaxUnits: tc.units})
			s := publish(t, h, "live/1")
			write(t, s, tc.before)
			if got := s.Stats().GOPUnits; got != tc.gopUnits {
				t.Fatalf("GOP cache holds %d units, want %d", got, tc.gopUnits)
			}
			r := addReader(t, s, "r")
			write(t, s, tc.after)
			if got := drain(r); got != tc.want {
				t.Fatalf("reader got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGOPCacheBytes(t *testing.T) {
	h := newHub(t, &hub.Hub{GOPMaxBytes: 10})
	s := publish(t, h, "live/1")
	write(t, s, "KP") // 12 bytes
	if st := s.Stats(); st.GOPUnits != 0 || st.GOPBytes != 0 {
		t.Fatalf("GOP cache %d units %d bytes, want empty", st.GOPUnits, st.GOPBytes)
	}
	write(t, s, "K")
	if st := s.Stats(); st.GOPUnits != 1 || st.GOPBytes != 6 {
		t.Fatalf("GOP cache %d units %d bytes, want 1/6", st.GOPUnits, st.GOPBytes)
	}
}

// TestBlockedReader checks that a reader that never reads costs the writer
// and the other readers nothing: WriteUnit would deadlock here if it waited
// for the blocked queue.
func TestBlockedReader(t *testing.T) {
	const queue, gops, gopLen = 8, 50, 5
	h := newHub(t, &hub.Hub{ReaderQueue: queue, MaxOverflows: 1000})
	s := publish(t, h, "live/1")
	blocked := addReader(t, s, "blocked")
	fast := addReader(t, s, "fast")
	got := 0
	for range gops {
		write(t, s, "KPPPP")
		got += len(drain(fast))
	}
	if got != gops*gopLen {
		t.Fatalf("fast reader got %d units, want %d", got, gops*gopLen)
	}
	st := s.Stats()
	var bs, fs hub.ReaderStats
	for _, r := range st.Readers {
		switch r.Name {
		case "blocked":
			bs = r
		case "fast":
			fs = r
		}
	}
	if bs.Units != queue || bs.Queued != queue || bs.Drops != gops*gopLen-queue {
		t.Fatalf("blocked reader: %+v", bs)
	}
	if fs.Drops != 0 || fs.Units != gops*gopLen || fs.Keyframes != gops {
		t.Fatalf("fast reader: %+v", fs)
	}
	if st.Drops != bs.Drops {
		t.Fatalf("stream drops %d, want %d", st.Drops, bs.Drops)
	}
	if len(drain(blocked)) != queue {
		t.Fatal("blocked reader queue not full")
	}
}

func TestSkipToKeyframe(t *testing.T) {
	// Each step writes a pattern, then maybe drains the queue.
	type step struct {
		write string
		read  bool // drain the queue after writing
		want  string
	}
	tests := []struct {
		name      string
		steps     []step
		wantDrops uint64
		wantErr   error
	}{
		{
			name: "overflow skips to next keyframe",
			steps: []step{
				{write: "KPPPPP", read: true, want: "KPPP"}, // queue 4: 2 P dropped
				{write: "PPKP", read: true, want: "KP"},     // rest of the GOP dropped
			},
			wantDrops: 4,
		},
		{
			name: "audio skipped with video",
			steps: []step{
				{write: "KPPPAPA", read: true, want: "KPPP"},
				{write: "AKA", read: true, want: "KA"},
			},
			wantDrops: 4,
		},
		{
			name: "keyframe dropped when still full",
			steps: []step{
				{write: "KPPPP"},
				{write: "KPP", read: true, want: "KPPP"},
				{write: "KP", read: true, want: "KP"},
			},
			wantDrops: 4,
		},
		{
			name: "disconnect after consecutive overflowing GOPs",
			steps: []step{
				{write: "KPPPP"},
				{write: "KPPPP"},
				{write: "KPPPP", read: true, want: "KPPP"},
			},
			wantDrops: 7,
			wantErr:   hub.ErrSlowReader,
		},
		{
			name: "clean GOP resets the overflow count",
			steps: []step{
				{write: "KPPPP", read: true, want: "KPPP"},
				{write: "KPPPP", read: true, want: "KPPP"},
				{write: "KPP", read: true, want: "KPP"},
				{write: "KPPPP", read: true, want: "KPPP"},
				{write: "KPPPP", read: true, want: "KPPP"},
				{write: "K", read: true, want: "K"},
			},
			wantDrops: 4,
		},
		{
			name: "audio only drops units",
			steps: []step{
				{write: "AAAAAA", read: true, want: "AAAA"},
				{write: "AA", read: true, want: "AA"},
			},
			wantDrops: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, &hub.Hub{ReaderQueue: 4, MaxOverflows: 3})
			s := publish(t, h, "live/1")
			r := addReader(t, s, "r")
			var drops uint64
			for i, st := range tc.steps {
				write(t, s, st.write)
				if rs := s.Stats().Readers; len(rs) == 1 {
					drops = rs[0].Drops
				}
				if !st.read {
					continue
				}
				got := drain(r)
				if got != st.want {
					t.Fatalf("step %d: got %q, want %q", i, got, st.want)
				}
			}
			stats := s.Stats()
			if tc.wantErr != nil {
				if !errors.Is(r.Err(), tc.wantErr) {
					t.Fatalf("reader error %v, want %v", r.Err(), tc.wantErr)
				}
				if len(stats.Readers) != 0 || stats.SlowDisconnects != 1 {
					t.Fatalf("stats after disconnect: %+v", stats)
				}
				drops = stats.Drops
			} else if r.Err() != nil {
				t.Fatalf("reader error %v", r.Err())
			}
			if drops != tc.wantDrops {
				t.Fatalf("drops %d, want %d", drops, tc.wantDrops)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	const timeout = time.Minute
	tests := []struct {
		name  string
		steps string // a: add reader, c: close reader, t: advance timeout, h: advance half, x: check
		want  int
	}{
		{name: "never watched", steps: "txtx", want: 1},
		{name: "not yet due", steps: "hx", want: 0},
		{name: "watched", steps: "atxtx", want: 0},
		{name: "reader came and went", steps: "txactx", want: 2},
		{name: "reader left recently", steps: "achxhx", want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			var mu sync.Mutex
			var calls []string
			h := newHub(t, &hub.Hub{
				IdleTimeout: timeout,
				Now:         clock.Now,
				OnIdle: func(s *hub.Stream) {
					mu.Lock()
					defer mu.Unlock()
					calls = append(calls, s.Path())
				},
			})
			s := publish(t, h, "live/1")
			var r *hub.Reader
			for _, c := range tc.steps {
				switch c {
				case 'a':
					r = addReader(t, s, "r")
				case 'c':
					r.Close()
				case 't':
					clock.Advance(timeout)
				case 'h':
					clock.Advance(timeout / 2)
				case 'x':
					h.CheckIdle()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(calls) != tc.want {
				t.Fatalf("OnIdle called %d times (%v), want %d", len(calls), calls, tc.want)
			}
			for _, p := range calls {
				if p != "live/1" {
					t.Fatalf("OnIdle(%q)", p)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	clock := newFakeClock()
	h := newHub(t, &hub.Hub{Now: clock.Now})
	s := publish(t, h, "live/1")
	sps := readSPS(t, "h264_1920x1080_high.sps")
	key := append([]byte{0, 0, 0, 1}, sps...)
	key = append(key, 0, 0, 0, 1, 0x65, 0x88)
	// 25 fps for 6 s: one keyframe per second, P-frames of 1000 bytes.
	for sec := range 6 {
		for i := range 25 {
			u := hub.Unit{Codec: ps.CodecH264, PTS: int64(sec*25+i) * 3600, Payload: make([]byte, 1000)}
			if i == 0 {
				u.Keyframe, u.Payload = true, key
			}
			if err := s.WriteUnit(u); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteUnit(hub.Unit{Codec: ps.CodecG711A, Keyframe: true, Payload: make([]byte, 320)}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(40 * time.Millisecond)
		}
	}
	st := h.Streams()
	if len(st) != 1 {
		t.Fatalf("%d streams", len(st))
	}
	got := st[0]
	keyBytes := float64(len(key))
	wantBitrate := (keyBytes + 24*1000) * 8
	switch {
	case got.Width != 1920 || got.Height != 1080:
		t.Fatalf("resolution %dx%d", got.Width, got.Height)
	case got.VideoCodec != ps.CodecH264 || len(got.Tracks) != 2 || got.Tracks[1].Codec != ps.CodecG711A:
		t.Fatalf("tracks %+v", got.Tracks)
	case got.Units != 300 || got.Keyframes != 6+150:
		t.Fatalf("units %d keyframes %d", got.Units, got.Keyframes)
	case got.VideoFPS != 25 || got.VideoBitrate != wantBitrate:
		t.Fatalf("fps %v bitrate %v, want 25 and %v", got.VideoFPS, got.VideoBitrate, wantBitrate)
	case !got.LastUnit.Equal(clock.Now().Add(-40 * time.Millisecond)):
		t.Fatalf("last unit at %v", got.LastUnit)
	}
}

func TestReady(t *testing.T) {
	isReady := func(s *hub.Stream) bool {
		select {
		case <-s.Ready():
			return true
		default:
			return false
		}
	}
	audio := hub.Unit{Codec: ps.CodecG711A, Keyframe: true, Payload: []byte{1}}
	cases := []struct {
		name  string
		units []hub.Unit
		ready bool
	}{
		{"nothing", nil, false},
		{"delta frames only", []hub.Unit{unit('P'), unit('P')}, false},
		{"keyframe alone", []hub.Unit{unit('K')}, false},
		{"keyframe then audio", []hub.Unit{unit('K'), audio}, true},
		{"keyframe then three frames", []hub.Unit{unit('K'), unit('P'), unit('P'), unit('P')}, true},
		{"keyframe then two frames", []hub.Unit{unit('K'), unit('P'), unit('P')}, false},
		{"audio before video", []hub.Unit{audio, audio}, false},
		{"audio only", slices.Repeat([]hub.Unit{audio}, 50), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHub(t, &hub.Hub{})
			s := publish(t, h, "live/1")
			for _, u := range c.units {
				if err := s.WriteUnit(u); err != nil {
					t.Fatal(err)
				}
			}
			if got := isReady(s); got != c.ready {
				t.Fatalf("ready = %v, want %v", got, c.ready)
			}
			if c.ready {
				r := addReader(t, s, "r")
				if len(r.Tracks()) == 0 || r.Path() != "live/1" {
					t.Fatalf("tracks %v path %q", r.Tracks(), r.Path())
				}
			}
			select {
			case <-s.Done():
				t.Fatal("done before close")
			default:
			}
			s.Close()
			<-s.Done()
		})
	}
}

// TestReceived: the hub dates each unit when it takes it (unless the
// publisher did), so a reader starting on the cached GOP knows how old
// those units are.
func TestReceived(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	h := newHub(t, &hub.Hub{Now: func() time.Time { return at }})
	s := publish(t, h, "live/1")
	if err := s.WriteUnit(hub.Unit{Codec: ps.CodecH264, Keyframe: true, Payload: []byte{0, 0, 1, 0x65}}); err != nil {
		t.Fatal(err)
	}
	given := at.Add(-time.Hour)
	if err := s.WriteUnit(hub.Unit{Codec: ps.CodecH264, Payload: []byte{0, 0, 1, 0x41}, Received: given}); err != nil {
		t.Fatal(err)
	}
	r := addReader(t, s, "r")
	for i, want := range []time.Time{at, given} {
		select {
		case u := <-r.Units():
			if !u.Received.Equal(want) {
				t.Fatalf("unit %d received %v, want %v", i, u.Received, want)
			}
		default:
			t.Fatalf("unit %d not in the GOP cache", i)
		}
	}
}
