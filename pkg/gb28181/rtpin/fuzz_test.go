package rtpin_test

import (
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtpin"
)

// FuzzReorder feeds random sequence numbers and clock steps: every 3 bytes
// are a 16-bit sequence delta and a time step (0xFF = poll). Output must be
// strictly increasing, without duplicates, and the buffer bounded.
func FuzzReorder(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 1, 0, 0, 2, 0, 0xFF, 0xFF, 0, 0, 1, 0})
	f.Add([]byte{0, 1, 0, 0, 3, 0, 0xFF, 0xFE, 60, 0, 2, 0})
	f.Add([]byte{0x80, 0, 0, 0, 1, 0, 0x7F, 0xFF, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &clock{t: time.Unix(0, 0)}
		b := &rtpin.ReorderBuffer{MaxPackets: 8, MaxDelay: 20 * time.Millisecond, Now: c.now}
		var seq uint16
		last := int64(-1 << 62)
		seen := map[int64]bool{}
		check := func(out []rtpin.Output) {
			for _, o := range out {
				if o.SeqNum <= last && !o.Reset {
					t.Fatalf("seq %d after %d", o.SeqNum, last)
				}
				if seen[o.SeqNum] && !o.Reset {
					t.Fatalf("seq %d emitted twice", o.SeqNum)
				}
				if o.Reset {
					clear(seen)
				}
				if uint16(o.SeqNum) != o.Packet.SequenceNumber {
					t.Fatalf("extended %d for packet %d", o.SeqNum, o.Packet.SequenceNumber)
				}
				seen[o.SeqNum] = true
				last = o.SeqNum
			}
		}
		for len(data) >= 3 {
			seq += uint16(data[0])<<8 | uint16(data[1])
			step := data[2]
			data = data[3:]
			c.advance(time.Duration(step) * time.Millisecond)
			if step == 0xFF {
				check(b.Poll())
				continue
			}
			out, err := b.Push(pkt(seq))
			if err != nil {
				t.Fatal(err)
			}
			check(out)
			if b.Len() > 8 {
				t.Fatalf("buffer holds %d packets", b.Len())
			}
		}
		check(b.Flush())
		s := b.Stats()
		if s.Received != s.Emitted+s.Duplicates+s.Late+s.Strays {
			t.Fatalf("accounting: %+v", s)
		}
	})
}
