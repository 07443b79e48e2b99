package rtpin

import (
	"time"

	"github.com/pion/rtp"
)

// Defaults of the ReorderBuffer.
const (
	// DefaultMaxPackets is the reorder window in packets.
	DefaultMaxPackets = 64
	// DefaultMaxDelay is how long a gap is waited for.
	DefaultMaxDelay = 50 * time.Millisecond
)

const (
	// historyBits is how far back emitted sequence numbers are remembered
	// to tell duplicates from late packets.
	historyBits = 1024
	// maxJump is the largest forward step taken as loss; larger steps are a
	// sender restart (new sequence origin) once confirmed.
	maxJump = 3000
	// confirmSpan: a far packet is a restart only when a packet within this
	// many sequence numbers after it follows; a lone stray (a spoofed or
	// misrouted packet) must not throw away the stream's position.
	confirmSpan = 32
)

// Stats counts what a ReorderBuffer has seen.
type Stats struct {
	// Received is the number of packets pushed.
	Received uint64
	// Emitted is the number of packets output in order.
	Emitted uint64
	// Lost is the number of sequence numbers given up on.
	Lost uint64
	// Duplicates is the number of packets received twice (dropped).
	Duplicates uint64
	// Late is the number of packets that arrived after their sequence
	// number was given up on, or too far behind to tell (dropped).
	Late uint64
	// Resets is the number of sequence restarts (large jumps either way).
	Resets uint64
	// Strays is the number of far-off packets held as a possible restart
	// that no packet confirmed (dropped).
	Strays uint64
}

// Output is one packet released in order.
type Output struct {
	// Packet is the packet, as pushed.
	Packet *rtp.Packet
	// SeqNum is the sequence number extended across the 16-bit wrap.
	SeqNum int64
	// Lost is the number of packets given up on just before this one.
	Lost int
	// Reset is true when the sequence restarted before this packet (the
	// sender restarted or jumped); treat it as a loss of unknown size.
	Reset bool
}

// Discontinuity reports whether packets are missing before this one, that
// is whether the depacketizer must be told of a loss.
func (o Output) Discontinuity() bool {
	return o.Lost > 0 || o.Reset
}

type slot struct {
	pkt  *rtp.Packet
	ext  int64
	at   time.Time
	used bool
}

// ReorderBuffer puts RTP packets received over UDP back in sequence order,
// drops duplicates and gives up on a missing packet once MaxPackets later
// packets are waiting or it has waited MaxDelay, reporting the loss with the
// next packet. Time only advances through Push and Poll, so tests can drive
// it with a fake clock. A ReorderBuffer is not safe for concurrent use.
type ReorderBuffer struct {
	// MaxPackets is the window size; 0 means DefaultMaxPackets.
	MaxPackets int
	// MaxDelay is how long a gap is waited for; 0 means DefaultMaxDelay.
	MaxDelay time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	slots   []slot
	init    bool
	next    int64
	count   int
	lost    int
	reset   bool
	lateRun int
	// cand is a far-ahead packet waiting for a follower to confirm a restart.
	cand    *rtp.Packet
	candExt int64
	history [historyBits / 64]uint64
	out     []Output
	stats   Stats
}

func (b *ReorderBuffer) setup() {
	if b.slots != nil {
		return
	}
	n := b.MaxPackets
	if n <= 0 {
		n = DefaultMaxPackets
	}
	b.slots = make([]slot, n)
}

func (b *ReorderBuffer) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *ReorderBuffer) maxDelay() time.Duration {
	if b.MaxDelay > 0 {
		return b.MaxDelay
	}
	return DefaultMaxDelay
}

// Push adds a packet and returns the packets now in order. The buffer keeps
// the packet until it is output, so the caller must not reuse it. The
// returned slice is valid until the next call.
func (b *ReorderBuffer) Push(pkt *rtp.Packet) ([]Output, error) {
	b.out = b.out[:0]
	if pkt == nil {
		return b.out, ErrNilPacket
	}
	b.setup()
	now := b.now()
	b.stats.Received++
	seq := pkt.SequenceNumber
	if !b.init {
		// The first packet sets the sequence origin only once a second one
		// agrees with it: a stray arriving first (garbage with a guessed
		// SSRC) would otherwise make the whole real stream look late.
		if b.cand == nil {
			b.cand, b.candExt = pkt, int64(seq)
			return b.out, nil
		}
		d := int64(int16(seq - uint16(b.candExt)))
		if d == 0 {
			b.stats.Duplicates++
			return b.out, nil
		}
		if d > confirmSpan || d < -confirmSpan {
			b.stats.Strays++
			b.cand, b.candExt = pkt, int64(seq)
			return b.out, nil
		}
		low, lowExt, high, highExt := b.cand, b.candExt, pkt, b.candExt+d
		if d < 0 {
			low, lowExt, high, highExt = pkt, b.candExt+d, b.cand, b.candExt
		}
		b.init, b.cand, b.next = true, nil, lowExt
		b.place(low, lowExt, now)
		b.place(high, highExt, now)
		b.drain()
		b.expire(now)
		return b.out, nil
	}
	ext := b.next + int64(int16(seq-uint16(b.next)))
	size := int64(len(b.slots))

	far := ext-b.next > maxJump || b.next-ext > maxJump
	switch {
	case far:
		if b.cand == nil || ext <= b.candExt || ext-b.candExt > confirmSpan {
			if b.cand != nil {
				b.stats.Strays++
			}
			// Held, not dropped: the caller must not reuse it yet.
			b.cand, b.candExt = pkt, ext
			b.expire(now)
			return b.out, nil
		}
		cand, candExt := b.cand, b.candExt
		b.cand = nil
		b.restart(candExt)
		b.place(cand, candExt, now)
		if ext >= b.next+size {
			b.skipTo(ext - size + 1)
		}
	case ext < b.next:
		if b.next-ext <= historyBits && b.emitted(ext) {
			b.stats.Duplicates++
			b.expire(now)
			return b.out, nil
		}
		b.lateRun++
		if b.lateRun < len(b.slots) {
			b.stats.Late++
			b.expire(now)
			return b.out, nil
		}
		// A run of "late" packets is a sender that restarted lower.
		b.restart(ext)
	case ext >= b.next+size:
		b.skipTo(ext - size + 1)
	}
	b.lateRun = 0
	if b.cand != nil && ext-b.candExt < 0 && b.candExt-ext > confirmSpan {
		// The stream went on where it was: the candidate was a stray.
		b.cand = nil
		b.stats.Strays++
	}

	s := &b.slots[b.idx(ext)]
	if s.used {
		b.stats.Duplicates++
	} else {
		*s = slot{pkt: pkt, ext: ext, at: now, used: true}
		b.count++
	}
	b.drain()
	b.expire(now)
	return b.out, nil
}

// place buffers p at ext, giving up on what falls out of the window.
func (b *ReorderBuffer) place(p *rtp.Packet, ext int64, now time.Time) {
	if size := int64(len(b.slots)); ext >= b.next+size {
		b.skipTo(ext - size + 1)
	}
	b.slots[b.idx(ext)] = slot{pkt: p, ext: ext, at: now, used: true}
	b.count++
}

// Poll releases packets whose gap has waited longer than MaxDelay; call it
// from a timer when no packets arrive. The returned slice is valid until the
// next call.
func (b *ReorderBuffer) Poll() []Output {
	b.out = b.out[:0]
	if b.slots != nil {
		b.expire(b.now())
	}
	return b.out
}

// Flush releases every buffered packet in order, giving up on all gaps; a
// far packet still waiting to be confirmed as a restart is dropped as a
// stray. The returned slice is valid until the next call.
func (b *ReorderBuffer) Flush() []Output {
	b.out = b.out[:0]
	if b.cand != nil {
		b.cand = nil
		b.stats.Strays++
	}
	for b.count > 0 {
		b.skipGap()
	}
	return b.out
}

// Stats returns the counters.
func (b *ReorderBuffer) Stats() Stats {
	return b.stats
}

// Len returns the number of packets waiting for a gap.
func (b *ReorderBuffer) Len() int {
	return b.count
}

// restart flushes what is buffered and starts the sequence over at ext.
func (b *ReorderBuffer) restart(ext int64) {
	for b.count > 0 {
		b.skipGap()
	}
	b.stats.Resets++
	b.next = ext
	b.lost = 0
	b.reset = true
	b.history = [historyBits / 64]uint64{}
}

// skipTo gives up on every sequence number below target.
func (b *ReorderBuffer) skipTo(target int64) {
	for b.next < target {
		if b.count == 0 {
			n := target - b.next
			b.lost += int(n)
			b.stats.Lost += uint64(n)
			for e := b.next; e < target && target-e <= historyBits; e++ {
				b.setEmitted(e, false)
			}
			b.next = target
			return
		}
		s := &b.slots[b.idx(b.next)]
		if s.used && s.ext == b.next {
			b.emit(s)
		} else {
			b.lost++
			b.stats.Lost++
			b.setEmitted(b.next, false)
		}
		b.next++
	}
	b.drain()
}

// skipGap gives up on the missing packets before the first buffered one.
func (b *ReorderBuffer) skipGap() {
	size := int64(len(b.slots))
	for e := b.next; e < b.next+size; e++ {
		if s := &b.slots[b.idx(e)]; s.used && s.ext == e {
			b.skipTo(e)
			return
		}
	}
}

// drain emits the packets that are in order.
func (b *ReorderBuffer) drain() {
	for b.count > 0 {
		s := &b.slots[b.idx(b.next)]
		if !s.used || s.ext != b.next {
			return
		}
		b.emit(s)
		b.next++
	}
}

// expire gives up on gaps waited for longer than MaxDelay.
func (b *ReorderBuffer) expire(now time.Time) {
	for b.count > 0 {
		oldest := now
		for i := range b.slots {
			if s := &b.slots[i]; s.used && s.at.Before(oldest) {
				oldest = s.at
			}
		}
		if now.Sub(oldest) < b.maxDelay() {
			return
		}
		b.skipGap()
	}
}

// idx maps an extended sequence number (possibly negative) to its slot.
func (b *ReorderBuffer) idx(ext int64) int {
	n := int64(len(b.slots))
	return int((ext%n + n) % n)
}

func (b *ReorderBuffer) emit(s *slot) {
	b.out = append(b.out, Output{Packet: s.pkt, SeqNum: s.ext, Lost: b.lost, Reset: b.reset})
	b.lost = 0
	b.reset = false
	b.setEmitted(s.ext, true)
	*s = slot{}
	b.count--
	b.stats.Emitted++
}

func (b *ReorderBuffer) emitted(ext int64) bool {
	i := uint64(ext) % historyBits
	return b.history[i/64]&(1<<(i%64)) != 0
}

func (b *ReorderBuffer) setEmitted(ext int64, v bool) {
	i := uint64(ext) % historyBits
	if v {
		b.history[i/64] |= 1 << (i % 64)
	} else {
		b.history[i/64] &^= 1 << (i % 64)
	}
}
