package sdp

import (
	"fmt"
	"strconv"
	"sync"
)

// maxSequence is the largest 4-digit stream sequence number.
const maxSequence = 9999

// Allocator hands out y= SSRCs for one SIP domain following the GB28181
// rules: digit 1 is the Kind, digits 2–6 come from the domain ID, digits
// 7–10 are a sequence number 0001..9999.
//
// Live and history streams share one sequence space (as WVP's SSRCFactory
// does), so at most 9999 streams of either kind are open at a time and the
// last four digits alone identify a stream — which keeps demultiplexing by
// SSRC unambiguous even when a device mangles the first digit.
//
// Numbers are handed out round-robin, so a just-released SSRC is reused as
// late as possible and stray packets of an old stream are unlikely to be
// taken for a new one. An Allocator is safe for concurrent use.
type Allocator struct {
	mu     sync.Mutex
	domain uint32 // digits 2–6 as a number
	// used[seq] is 0 when seq is free, else 1+Kind of the SSRC holding it.
	used  [maxSequence + 1]uint8
	next  int // next sequence number to try
	inUse int
}

// NewAllocator returns an allocator for the SIP domain or server ID id
// (see DomainDigits).
func NewAllocator(id string) (*Allocator, error) {
	d, err := DomainDigits(id)
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseUint(d, 10, 32)
	if err != nil { // cannot happen: DomainDigits returns 5 digits
		return nil, fmt.Errorf("domain %q: %w", id, ErrBadDomain)
	}
	return &Allocator{domain: uint32(v), next: 1}, nil
}

// Domain returns the 5 domain digits written into every SSRC.
func (a *Allocator) Domain() string {
	return fmt.Sprintf("%05d", a.domain)
}

// InUse returns how many SSRCs are currently allocated or reserved.
func (a *Allocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inUse
}

// Allocate returns a free SSRC of the given kind, or ErrExhausted when all
// 9999 sequence numbers are taken.
func (a *Allocator) Allocate(kind Kind) (SSRC, error) {
	if kind > KindHistory {
		return 0, fmt.Errorf("allocate %v: %w", kind, ErrForeignSSRC)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inUse >= maxSequence {
		return 0, ErrExhausted
	}
	for range maxSequence {
		seq := a.next
		a.next++
		if a.next > maxSequence {
			a.next = 1
		}
		if a.used[seq] == 0 {
			a.used[seq] = 1 + uint8(kind)
			a.inUse++
			return a.compose(kind, seq), nil
		}
	}
	return 0, ErrExhausted // unreachable while inUse is accurate
}

// Release frees an SSRC returned by Allocate or accepted by Reserve.
// Releasing an SSRC that is not currently held (twice, or one from another
// domain) does nothing, so it is safe to call from every teardown path.
func (a *Allocator) Release(s SSRC) {
	seq, kind, ok := a.split(s)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used[seq] == 1+uint8(kind) {
		a.used[seq] = 0
		a.inUse--
	}
}

// Reserve marks s as in use, for an SSRC restored after a restart. It
// returns ErrForeignSSRC if s does not follow the y= rules of this domain
// and ErrInUse if its sequence number is already taken.
func (a *Allocator) Reserve(s SSRC) error {
	seq, kind, ok := a.split(s)
	if !ok {
		return fmt.Errorf("reserve %s: %w", s, ErrForeignSSRC)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used[seq] != 0 {
		return fmt.Errorf("reserve %s: %w", s, ErrInUse)
	}
	a.used[seq] = 1 + uint8(kind)
	a.inUse++
	return nil
}

func (a *Allocator) compose(kind Kind, seq int) SSRC {
	return SSRC(uint32(kind)*1_000_000_000 + a.domain*10_000 + uint32(seq))
}

// split checks that s belongs to this domain and returns its parts.
func (a *Allocator) split(s SSRC) (seq int, kind Kind, ok bool) {
	kind, ok = s.Kind()
	seq = s.Sequence()
	if !ok || seq == 0 || (uint32(s)/10_000)%100_000 != a.domain {
		return 0, 0, false
	}
	return seq, kind, true
}
