package rtpin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtpin"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func pkt(seq uint16) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq}}
}

// step is one action of a scenario: push seq (after advancing the clock),
// or poll when poll is set.
type step struct {
	seq     uint16
	advance time.Duration
	poll    bool
	flush   bool
}

type emitted struct {
	seq   uint16
	lost  int
	reset bool
}

func run(t *testing.T, b *rtpin.ReorderBuffer, c *clock, steps []step) []emitted {
	t.Helper()
	var got []emitted
	for _, s := range steps {
		c.advance(s.advance)
		var out []rtpin.Output
		switch {
		case s.poll:
			out = b.Poll()
		case s.flush:
			out = b.Flush()
		default:
			var err error
			out, err = b.Push(pkt(s.seq))
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range out {
			got = append(got, emitted{o.Packet.SequenceNumber, o.Lost, o.Reset})
			if o.Discontinuity() != (o.Lost > 0 || o.Reset) {
				t.Fatal("Discontinuity disagrees with Lost/Reset")
			}
		}
	}
	return got
}

func seqs(s ...uint16) []step {
	out := make([]step, len(s))
	for i, v := range s {
		out[i] = step{seq: v}
	}
	return out
}

func TestReorder(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		max   int
		steps []step
		want  []emitted
		stats rtpin.Stats
	}{
		{
			name:  "in order",
			steps: seqs(10, 11, 12),
			want:  []emitted{{10, 0, false}, {11, 0, false}, {12, 0, false}},
			stats: rtpin.Stats{Received: 3, Emitted: 3},
		},
		{
			name:  "swap",
			steps: seqs(1, 3, 2, 4),
			want:  []emitted{{1, 0, false}, {2, 0, false}, {3, 0, false}, {4, 0, false}},
			stats: rtpin.Stats{Received: 4, Emitted: 4},
		},
		{
			name:  "wrap",
			steps: seqs(65534, 0, 65535, 1),
			want:  []emitted{{65534, 0, false}, {65535, 0, false}, {0, 0, false}, {1, 0, false}},
			stats: rtpin.Stats{Received: 4, Emitted: 4},
		},
		{
			name:  "duplicates buffered and emitted",
			steps: seqs(1, 3, 3, 2, 2, 1),
			want:  []emitted{{1, 0, false}, {2, 0, false}, {3, 0, false}},
			stats: rtpin.Stats{Received: 6, Emitted: 3, Duplicates: 3},
		},
		{
			name:  "loss by count",
			max:   4,
			steps: seqs(1, 3, 4, 5, 6),
			want:  []emitted{{1, 0, false}, {3, 1, false}, {4, 0, false}, {5, 0, false}, {6, 0, false}},
			stats: rtpin.Stats{Received: 5, Emitted: 5, Lost: 1},
		},
		{
			name:  "late after loss",
			max:   4,
			steps: seqs(1, 3, 4, 5, 6, 2),
			want:  []emitted{{1, 0, false}, {3, 1, false}, {4, 0, false}, {5, 0, false}, {6, 0, false}},
			stats: rtpin.Stats{Received: 6, Emitted: 5, Lost: 1, Late: 1},
		},
		{
			name:  "far ahead with empty buffer",
			max:   4,
			steps: append(seqs(1, 20), step{poll: true, advance: 60 * time.Millisecond}),
			want:  []emitted{{1, 0, false}, {20, 18, false}},
			stats: rtpin.Stats{Received: 2, Emitted: 2, Lost: 18},
		},
		{
			name:  "loss by time on push",
			steps: []step{{seq: 1}, {seq: 3}, {seq: 4, advance: 60 * ms}},
			want:  []emitted{{1, 0, false}, {3, 1, false}, {4, 0, false}},
			stats: rtpin.Stats{Received: 3, Emitted: 3, Lost: 1},
		},
		{
			name:  "loss by time on poll",
			steps: []step{{seq: 1}, {seq: 3}, {poll: true, advance: 10 * ms}, {poll: true, advance: 45 * ms}},
			want:  []emitted{{1, 0, false}, {3, 1, false}},
			stats: rtpin.Stats{Received: 2, Emitted: 2, Lost: 1},
		},
		{
			name:  "two gaps expire",
			steps: []step{{seq: 1}, {seq: 3}, {seq: 6}, {poll: true, advance: 60 * ms}},
			want:  []emitted{{1, 0, false}, {3, 1, false}, {6, 2, false}},
			stats: rtpin.Stats{Received: 3, Emitted: 3, Lost: 3},
		},
		{
			name:  "flush",
			steps: []step{{seq: 1}, {seq: 4}, {seq: 3}, {flush: true}},
			want:  []emitted{{1, 0, false}, {3, 1, false}, {4, 0, false}},
			stats: rtpin.Stats{Received: 3, Emitted: 3, Lost: 1},
		},
		{
			name:  "restart forward",
			steps: seqs(1, 2, 9000, 9001),
			want:  []emitted{{1, 0, false}, {2, 0, false}, {9000, 0, true}, {9001, 0, false}},
			stats: rtpin.Stats{Received: 4, Emitted: 4, Resets: 1},
		},
		{
			name:  "restart backward",
			max:   3,
			steps: seqs(5000, 5001, 100, 101, 102, 103),
			// 100 is held until 101 confirms the restart: nothing is lost.
			want:  []emitted{{5000, 0, false}, {5001, 0, false}, {100, 0, true}, {101, 0, false}, {102, 0, false}, {103, 0, false}},
			stats: rtpin.Stats{Received: 6, Emitted: 6, Resets: 1},
		},
		{
			name:  "first packet a stray",
			max:   2,
			steps: seqs(3, 65000, 65001, 65002),
			want:  []emitted{{65000, 0, false}, {65001, 0, false}, {65002, 0, false}},
			stats: rtpin.Stats{Received: 4, Emitted: 3, Strays: 1},
		},
		{
			name:  "negative extended sequence",
			max:   2,
			steps: seqs(3, 4, 65000, 65001, 65002),
			want:  []emitted{{3, 0, false}, {4, 0, false}, {65001, 0, true}, {65002, 0, false}},
			stats: rtpin.Stats{Received: 5, Emitted: 4, Late: 1, Resets: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1000, 0)}
			b := &rtpin.ReorderBuffer{MaxPackets: tc.max, Now: c.now}
			got := run(t, b, c, tc.steps)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("output %d: got %v, want %v (all %v)", i, got[i], tc.want[i], got)
				}
			}
			if s := b.Stats(); s != tc.stats {
				t.Fatalf("stats %+v, want %+v", s, tc.stats)
			}
		})
	}
}

func TestReorderMisc(t *testing.T) {
	var b rtpin.ReorderBuffer
	if _, err := b.Push(nil); !errors.Is(err, rtpin.ErrNilPacket) {
		t.Fatalf("nil packet: %v", err)
	}
	if out := b.Poll(); len(out) != 0 {
		t.Fatal("poll on empty buffer")
	}
	// Real clock and default settings.
	for _, s := range []uint16{7, 9} {
		if _, err := b.Push(pkt(s)); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() != 1 {
		t.Fatalf("Len %d, want 1", b.Len())
	}
	out := b.Flush()
	if len(out) != 1 || out[0].SeqNum != 9 || out[0].Lost != 1 {
		t.Fatalf("flush: %+v", out)
	}
}

func TestSSRCFilter(t *testing.T) {
	f := rtpin.SSRCFilter{SSRC: 42}
	if !f.Accept(42) || f.Accept(7) || f.Foreign() != 1 {
		t.Fatal("fixed SSRC")
	}
	if s, ok := f.Locked(); s != 42 || !ok {
		t.Fatal("fixed SSRC must report locked")
	}
	a := rtpin.SSRCFilter{AcceptAny: true}
	if _, ok := a.Locked(); ok {
		t.Fatal("locked before any packet")
	}
	first, again, other := a.Accept(5), a.Accept(5), a.Accept(6)
	if !first || !again || other || a.Foreign() != 1 {
		t.Fatal("accept any")
	}
	if s, ok := a.Locked(); s != 5 || !ok {
		t.Fatal("must lock on first SSRC")
	}
	a.Unlock()
	if !a.Accept(6) || a.Accept(5) {
		t.Fatal("unlock must relock on the next SSRC")
	}
}

func TestTimestampUnwrapper(t *testing.T) {
	var u rtpin.TimestampUnwrapper
	in := []uint32{0xFFFFFF00, 0xFFFFFFF0, 0x10, 0x8, 0x80000000}
	want := []int64{0xFFFFFF00, 0xFFFFFFF0, 0x100000010, 0x100000008, 0x180000000}
	for i, v := range in {
		if got := u.Unwrap(v); got != want[i] {
			t.Fatalf("Unwrap(%#x) = %#x, want %#x", v, got, want[i])
		}
	}
	u.Reset()
	if got := u.Unwrap(5); got != 5 {
		t.Fatalf("after Reset: %d", got)
	}
}

// A lone far-off packet (spoofed, or another sender's) is held and dropped
// as a stray; it does not reset the stream. Two packets that agree are a
// real sender restart, and both are output.
func TestReorderStrayAndRestart(t *testing.T) {
	var b rtpin.ReorderBuffer
	var got []int64
	push := func(seqs ...uint16) {
		for _, s := range seqs {
			out, err := b.Push(pkt(s))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				got = append(got, o.SeqNum)
			}
		}
	}
	push(100, 101, 20000, 102, 103)
	if st := b.Stats(); st.Resets != 0 || st.Strays != 1 || len(got) != 4 || got[3] != 103 {
		t.Fatalf("stray: out %v stats %+v", got, st)
	}
	got = nil
	push(30000, 30001, 30002)
	if st := b.Stats(); st.Resets != 1 || len(got) != 3 || uint16(got[0]) != 30000 || uint16(got[2]) != 30002 {
		t.Fatalf("restart: out %v stats %+v", got, st)
	}
	push(40000)
	if out := b.Flush(); len(out) != 0 || b.Stats().Strays != 2 {
		t.Fatalf("flush with a pending stray: %v %+v", out, b.Stats())
	}
}
