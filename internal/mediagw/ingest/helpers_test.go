package ingest

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

// quiet drops the warnings tests provoke on purpose.
var quiet = slog.New(slog.DiscardHandler)

// testAU is one synthetic access unit.
type testAU struct {
	pts  int64
	key  bool
	data []byte
}

// synthAUs builds n Annex-B access units of codec, a keyframe every 10.
func synthAUs(codec ps.Codec, n, size int, seed uint64) []testAU {
	aus := make([]testAU, 0, n)
	for _, a := range pstest.Synthetic(codec, n, size, seed) {
		aus = append(aus, testAU{pts: a.PTS, key: a.Keyframe, data: a.Data})
	}
	return aus
}

// stream is a synthetic camera stream cut into raw RTP packets.
type stream struct {
	aus     []testAU
	packets [][]byte
}

// makeStream muxes n access units as PS and packetizes them with ssrc.
func makeStream(t testing.TB, mux *ps.Muxer, ssrc uint32, n int, seed uint64) *stream {
	t.Helper()
	if mux == nil {
		mux = &ps.Muxer{VideoCodec: ps.CodecH264}
	}
	s := &stream{aus: synthAUs(mux.VideoCodec, n, 3000, seed)}
	pk := &ps.Packetizer{SSRC: ssrc, SequenceNumber: uint16(seed * 1000)}
	for _, au := range s.aus {
		pack, err := mux.AppendVideo(nil, au.pts, au.pts, au.key, au.data)
		if err != nil {
			t.Fatal(err)
		}
		err = pk.Visit(pack, uint32(au.pts), func(p *rtp.Packet) error {
			b, err := p.Marshal()
			s.packets = append(s.packets, b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// byPTS indexes the access units by PTS.
func (s *stream) byPTS() map[int64]testAU {
	m := make(map[int64]testAU, len(s.aus))
	for _, au := range s.aus {
		m[au.pts] = au
	}
	return m
}

// sink collects copies of the frames and signals when it has enough.
type sink struct {
	mu     sync.Mutex
	frames []ps.Frame
	want   int
	got    chan struct{}
}

func newSink(want int) *sink {
	return &sink{want: want, got: make(chan struct{})}
}

func (s *sink) WriteFrame(f ps.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Payload = bytes.Clone(f.Payload)
	s.frames = append(s.frames, f)
	if len(s.frames) == s.want {
		close(s.got)
	}
}

func (s *sink) snapshot() []ps.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ps.Frame(nil), s.frames...)
}

// wait blocks until the sink has its frames; the limit only keeps a broken
// test from hanging.
func (s *sink) wait(t testing.TB) {
	t.Helper()
	select {
	case <-s.got:
	case <-time.After(20 * time.Second):
		t.Fatalf("sink got %d frames, want %d", len(s.snapshot()), s.want)
	}
}

// checkFrames verifies that every frame is intact and in order, and returns
// the number of keyframes.
func checkFrames(t testing.TB, frames []ps.Frame, src *stream) int {
	t.Helper()
	idx := src.byPTS()
	keys := 0
	var last int64 = -1
	for _, f := range frames {
		au, ok := idx[f.PTS]
		if !ok {
			t.Fatalf("frame with unknown PTS %d", f.PTS)
		}
		if f.PTS <= last {
			t.Fatalf("frame PTS %d after %d", f.PTS, last)
		}
		last = f.PTS
		if !bytes.Equal(f.Payload, au.data) {
			t.Fatalf("frame PTS %d: payload differs (%d bytes, want %d)", f.PTS, len(f.Payload), len(au.data))
		}
		if f.Keyframe != au.key {
			t.Fatalf("frame PTS %d: keyframe %v, want %v", f.PTS, f.Keyframe, au.key)
		}
		if f.Keyframe {
			keys++
		}
	}
	return keys
}

// newReceiver initializes a receiver for a test and closes it at the end.
func newReceiver(t testing.TB, r *Receiver) *Receiver {
	t.Helper()
	if r.Log == nil {
		r.Log = quiet
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// waitEnd waits for r to end and returns why.
func waitEnd(t testing.TB, r *Receiver) error {
	t.Helper()
	select {
	case <-r.Done():
		return r.Err()
	case <-time.After(20 * time.Second):
		t.Fatal("receiver did not end")
		return nil
	}
}
