package sdp_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

func TestAllocatorFormat(t *testing.T) {
	tests := []struct {
		id         string
		kind       sdp.Kind
		want       string
		wantDomain string
	}{
		{"34020000002000000001", sdp.KindLive, "0200000001", "20000"},
		{"34020000002000000001", sdp.KindHistory, "1200000001", "20000"},
		{"13010000002000000001", sdp.KindLive, "0100000001", "10000"},
		{"4401020049", sdp.KindHistory, "1102000001", "10200"},
	}
	for _, tt := range tests {
		a, err := sdp.NewAllocator(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Domain() != tt.wantDomain {
			t.Errorf("Domain() = %q, want %q", a.Domain(), tt.wantDomain)
		}
		s, err := a.Allocate(tt.kind)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != tt.want {
			t.Errorf("%s %v: got %s, want %s", tt.id, tt.kind, s, tt.want)
		}
	}
	if _, err := sdp.NewAllocator("1234"); !errors.Is(err, sdp.ErrBadDomain) {
		t.Errorf("NewAllocator(1234) error = %v", err)
	}
}

func TestAllocatorSharedSequence(t *testing.T) {
	a, _ := sdp.NewAllocator("34020000002000000001")
	live, _ := a.Allocate(sdp.KindLive)
	hist, _ := a.Allocate(sdp.KindHistory)
	if live.Sequence() == hist.Sequence() {
		t.Fatalf("live %s and history %s share a sequence number", live, hist)
	}
	// Releasing the other kind's SSRC with the same sequence must not free it.
	a.Release(sdp.SSRC(1200000000 + uint32(live.Sequence())))
	if a.InUse() != 2 {
		t.Fatalf("InUse = %d after foreign-kind release", a.InUse())
	}
	if err := a.Reserve(sdp.SSRC(1200000000 + uint32(live.Sequence()))); !errors.Is(err, sdp.ErrInUse) {
		t.Fatalf("Reserve of taken sequence with other kind: %v", err)
	}
}

func TestAllocatorExhaustAndReuse(t *testing.T) {
	a, _ := sdp.NewAllocator("34020000002000000001")
	seen := make(map[sdp.SSRC]bool)
	for i := range 9999 {
		kind := sdp.Kind(i % 2)
		s, err := a.Allocate(kind)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if seen[s] {
			t.Fatalf("duplicate %s", s)
		}
		if k, _ := s.Kind(); k != kind || s.DomainPart() != "20000" || s.Sequence() < 1 || s.Sequence() > 9999 {
			t.Fatalf("bad SSRC %s for kind %v", s, kind)
		}
		seen[s] = true
	}
	if _, err := a.Allocate(sdp.KindLive); !errors.Is(err, sdp.ErrExhausted) {
		t.Fatalf("10000th allocation: %v", err)
	}
	victim := sdp.SSRC(200004321)
	a.Release(victim)
	a.Release(victim) // idempotent
	if a.InUse() != 9998 {
		t.Fatalf("InUse = %d", a.InUse())
	}
	got, err := a.Allocate(sdp.KindHistory)
	if err != nil || got.Sequence() != 4321 {
		t.Fatalf("reuse: got %s, %v", got, err)
	}
}

func TestAllocatorRoundRobin(t *testing.T) {
	a, _ := sdp.NewAllocator("34020000002000000001")
	s1, _ := a.Allocate(sdp.KindLive)
	a.Release(s1)
	s2, _ := a.Allocate(sdp.KindLive)
	if s1 == s2 {
		t.Fatalf("just released %s handed out again immediately", s1)
	}
}

func TestAllocatorReserve(t *testing.T) {
	a, _ := sdp.NewAllocator("34020000002000000001")
	tests := []struct {
		ssrc sdp.SSRC
		want error
	}{
		{200000005, nil},
		{200000005, sdp.ErrInUse},
		{1200000005, sdp.ErrInUse},
		{1200000006, nil},
		{100000007, sdp.ErrForeignSSRC},  // other domain
		{200000000, sdp.ErrForeignSSRC},  // sequence 0
		{2200000008, sdp.ErrForeignSSRC}, // first digit 2
	}
	for _, tt := range tests {
		err := a.Reserve(tt.ssrc)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("Reserve(%s) = %v, want %v", tt.ssrc, err, tt.want)
		}
	}
	if a.InUse() != 2 {
		t.Fatalf("InUse = %d", a.InUse())
	}
	// Allocation skips reserved numbers.
	for range 10 {
		s, err := a.Allocate(sdp.KindLive)
		if err != nil {
			t.Fatal(err)
		}
		if s.Sequence() == 5 || s.Sequence() == 6 {
			t.Fatalf("allocated reserved sequence: %s", s)
		}
	}
	a.Release(100000007) // foreign: no-op, no panic
	if _, err := a.Allocate(sdp.Kind(2)); !errors.Is(err, sdp.ErrForeignSSRC) {
		t.Fatalf("Allocate(Kind 2) = %v", err)
	}
}

func TestAllocatorConcurrent(t *testing.T) {
	a, _ := sdp.NewAllocator("34020000002000000001")
	var mu sync.Mutex
	seen := make(map[sdp.SSRC]bool)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				s, err := a.Allocate(sdp.Kind(g % 2))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[s] {
					t.Errorf("duplicate %s", s)
				}
				seen[s] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if a.InUse() != 1600 {
		t.Fatalf("InUse = %d", a.InUse())
	}
}
