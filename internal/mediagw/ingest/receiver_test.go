package ingest

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

func TestReceiverPipeline(t *testing.T) {
	const n = 30
	src := makeStream(t, nil, 1234, n, 1)
	pkts := src.packets
	swapped := func() [][]byte {
		out := append([][]byte(nil), pkts...)
		for i := 1; i+1 < len(out); i += 3 {
			out[i], out[i+1] = out[i+1], out[i]
		}
		return out
	}
	foreign := makeStream(t, nil, 999, 5, 2).packets

	tests := []struct {
		name   string
		ssrc   uint32
		input  [][]byte
		frames int // -1: fewer than n, at least n-3
		check  func(t *testing.T, st Stats)
	}{
		{
			name: "in order", ssrc: 1234, input: pkts, frames: n,
			check: func(t *testing.T, st Stats) {
				if st.Packets != uint64(len(pkts)) || st.Lost != 0 || st.Reordered != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "reordered within window", ssrc: 1234, input: swapped(), frames: n,
			check: func(t *testing.T, st Stats) {
				if st.Reordered == 0 || st.Lost != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "duplicates", ssrc: 1234, frames: n,
			input: func() [][]byte {
				var out [][]byte
				for i, p := range pkts {
					out = append(out, p)
					if i%5 == 0 {
						out = append(out, p)
					}
				}
				return out
			}(),
			check: func(t *testing.T, st Stats) {
				if st.Duplicates != uint64((len(pkts)+4)/5) || st.Reordered != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "loss", ssrc: 1234, frames: -1,
			input: append(append([][]byte(nil), pkts[:10]...), pkts[11:]...),
			check: func(t *testing.T, st Stats) {
				if st.Lost != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "foreign SSRC", ssrc: 1234, frames: n,
			input: func() [][]byte {
				var out [][]byte
				for i, p := range pkts {
					out = append(out, p)
					if i < len(foreign) {
						out = append(out, foreign[i])
					}
				}
				return out
			}(),
			check: func(t *testing.T, st Stats) {
				if st.ForeignSSRC != uint64(len(foreign)) || st.SSRC != 1234 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "SSRC 0 locks to the first", ssrc: 0, frames: n,
			input: append(append([][]byte(nil), pkts...), foreign...),
			check: func(t *testing.T, st Stats) {
				if st.ForeignSSRC != uint64(len(foreign)) || st.SSRC != 1234 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "garbage", ssrc: 1234, frames: n,
			input: func() [][]byte {
				r := rand.New(rand.NewPCG(3, 3))
				var out [][]byte
				for _, p := range pkts {
					out = append(out, p, nil, []byte{0x80}, pstest.NoZero(r, 1+r.IntN(200)))
				}
				return out
			}(),
			check: func(t *testing.T, st Stats) {
				if st.Invalid == 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSink(-1)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: tt.ssrc, Sink: s, ReorderPackets: 8, ReorderDelay: time.Hour})
			for _, p := range tt.input {
				r.WritePacket(p)
			}
			frames := s.snapshot()
			keys := checkFrames(t, frames, src)
			switch {
			case tt.frames >= 0 && len(frames) != tt.frames:
				t.Fatalf("%d frames, want %d", len(frames), tt.frames)
			case tt.frames < 0 && (len(frames) >= n || len(frames) < n-3):
				t.Fatalf("%d frames, want a few less than %d", len(frames), n)
			case tt.frames == n && keys != n/10:
				t.Fatalf("%d keyframes, want %d", keys, n/10)
			}
			st := r.Stats()
			if st.Frames != uint64(len(frames)) || st.VideoCodec != ps.CodecH264 || st.LastPacket.IsZero() {
				t.Errorf("stats %+v", st)
			}
			tt.check(t, st)
		})
	}
}

// TestReceiverPSQuirks feeds streams whose PSM is missing or lies.
func TestReceiverPSQuirks(t *testing.T) {
	tests := []struct {
		name  string
		mux   *ps.Muxer
		codec ps.Codec
	}{
		{"no PSM", &ps.Muxer{VideoCodec: ps.CodecH264, OmitPSM: true}, ps.CodecH264},
		{"H.265 announced as H.264", &ps.Muxer{VideoCodec: ps.CodecH265, PSMVideoStreamType: ps.StreamTypeH264}, ps.CodecH265},
		{"unbounded PES", &ps.Muxer{VideoCodec: ps.CodecH265, UnboundedVideoPES: true}, ps.CodecH265},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := makeStream(t, tt.mux, 42, 20, 4)
			s := newSink(-1)
			r := newReceiver(t, &Receiver{Path: "cam", SSRC: 42, Sink: s})
			for _, p := range src.packets {
				r.WritePacket(p)
			}
			frames := s.snapshot()
			checkFrames(t, frames, src)
			if len(frames) < 19 || r.Stats().VideoCodec != tt.codec {
				t.Fatalf("%d frames, stats %+v", len(frames), r.Stats())
			}
		})
	}
}

// TestReceiverPollReleasesGap checks that a gap is given up on by the timer
// when no more packets come.
func TestReceiverPollReleasesGap(t *testing.T) {
	src := makeStream(t, nil, 7, 10, 5)
	s := newSink(1)
	r := newReceiver(t, &Receiver{Path: "cam", SSRC: 7, Sink: s, ReorderDelay: time.Millisecond})
	// The second packet is missing: the rest waits for it until the timer
	// gives up, then the frames after the gap come out.
	for i, p := range src.packets {
		if i != 1 {
			r.WritePacket(p)
		}
	}
	s.wait(t)
	if st := r.Stats(); st.Lost != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReceiverTimeout(t *testing.T) {
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1), Timeout: 20 * time.Millisecond})
	if err := waitEnd(t, r); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	// An ended receiver ignores input.
	r.WritePacket(makeStream(t, nil, 1, 1, 1).packets[0])
	if st := r.Stats(); st.Packets != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReceiverClose(t *testing.T) {
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1)})
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	r.Close()
	r.Close()
	if err := waitEnd(t, r); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v", err)
	}
	var none Receiver
	if err := none.Initialize(); !errors.Is(err, ErrNoSink) {
		t.Fatalf("no sink: %v", err)
	}
}

// closingSink closes its receiver from inside WriteFrame.
type closingSink struct{ r *Receiver }

func (c *closingSink) WriteFrame(ps.Frame) { c.r.Close() }

func TestReceiverClosedBySink(t *testing.T) {
	c := &closingSink{}
	r := newReceiver(t, &Receiver{Path: "cam", Sink: c})
	c.r = r
	for _, p := range makeStream(t, nil, 5, 5, 6).packets {
		r.WritePacket(p)
	}
	if err := waitEnd(t, r); !errors.Is(err, ErrClosed) || r.Stats().Frames != 1 {
		t.Fatalf("err = %v, stats %+v", err, r.Stats())
	}
}

// FuzzReceiverWritePacket feeds arbitrary datagrams, each preceded by a
// one-byte length, to a receiver: nothing may panic and every frame handed
// out must be counted.
func FuzzReceiverWritePacket(f *testing.F) {
	src := makeStream(f, nil, 77, 3, 1)
	var seed []byte
	for _, p := range src.packets {
		if len(p) < 256 {
			seed = append(append(seed, byte(len(p))), p...)
		}
	}
	f.Add(seed)
	h := rtp.Header{Version: 2, SSRC: 77, Padding: true, CSRC: []uint32{1, 2}}
	hb, _ := h.Marshal()
	f.Add(append([]byte{byte(len(hb) + 1)}, append(hb, 9)...))
	f.Add([]byte{12, 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 77})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &sink{want: -1}
		r := &Receiver{Path: "fuzz", Sink: s, ReorderPackets: 4, ReorderDelay: time.Hour}
		if err := r.Initialize(); err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			r.WritePacket(data[1 : 1+n])
			data = data[1+n:]
		}
		if st := r.Stats(); st.Frames != uint64(len(s.snapshot())) {
			t.Fatalf("stats %+v, sink %d", st, len(s.snapshot()))
		}
	})
}

// TestReceiverPaused: a paused receiver (its device's playback paused)
// does not time out however long nothing comes; resumed, it does again,
// a whole timeout after the resume.
func TestReceiverPaused(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r := newReceiver(t, &Receiver{Path: "cam", Sink: newSink(-1), Timeout: 20 * time.Millisecond, Now: clock})
	r.SetPaused(true)
	advance(time.Hour)
	select {
	case <-r.Done():
		t.Fatalf("a paused receiver ended: %v", r.Err())
	case <-time.After(200 * time.Millisecond): // ten timeouts' checks
	}
	r.SetPaused(false)
	advance(time.Hour)
	if err := waitEnd(t, r); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}
