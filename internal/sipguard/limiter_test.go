package sipguard_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/sipguard"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestLimiter(t *testing.T) {
	l := &sipguard.Limiter{Rate: 2, Burst: 3}
	count := func(key string, now time.Time, n int) int {
		ok := 0
		for range n {
			if l.Allow(key, now) {
				ok++
			}
		}
		return ok
	}
	if got := count("a", t0, 10); got != 3 {
		t.Fatalf("burst: %d allowed", got)
	}
	if got := count("b", t0, 10); got != 3 {
		t.Fatalf("other key: %d allowed", got)
	}
	if got := count("a", t0.Add(time.Second), 10); got != 2 {
		t.Fatalf("after 1s: %d allowed", got)
	}
	if got := count("a", t0.Add(1250*time.Millisecond), 10); got != 0 {
		t.Fatalf("after 1.25s: %d allowed", got)
	}
	if got := count("a", t0.Add(time.Hour), 10); got != 3 {
		t.Fatalf("refill is capped at the burst: %d allowed", got)
	}
	if got := count("a", t0, 10); got != 0 {
		t.Fatalf("clock going back: %d allowed", got)
	}
}

func TestLimiterForgetsIdleKeys(t *testing.T) {
	l := &sipguard.Limiter{Rate: 10, Burst: 20} // full again 2s after last use
	for i := range 10000 {
		l.Allow(strconv.Itoa(i), t0)
	}
	if n := l.Len(); n != 10000 {
		t.Fatalf("%d keys", n)
	}
	now := t0.Add(3 * time.Second)
	for i := range 2000 {
		l.Allow("new"+strconv.Itoa(i), now) // touches every shard (all but surely), sweeping it
	}
	if n := l.Len(); n != 2000 {
		t.Fatalf("%d keys after sweep", n)
	}
	l0 := &sipguard.Limiter{}
	if !l0.Allow("x", t0) || l0.Len() != 0 {
		t.Fatal("zero Limiter must allow without keeping keys")
	}
}

// TestLimiterBoundsKeys: a flood of new sources never grows the table past
// MaxKeys, and a source that keeps sending (so is never the least recently
// used) stays limited.
func TestLimiterBoundsKeys(t *testing.T) {
	l := &sipguard.Limiter{Rate: 1, Burst: 2, MaxKeys: 640}
	l.Allow("steady", t0)
	l.Allow("steady", t0)
	for i := range 100000 {
		now := t0.Add(time.Duration(i) * time.Microsecond)
		l.Allow("flood"+strconv.Itoa(i), now)
		if i%100 == 0 && l.Allow("steady", now) {
			t.Fatalf("steady source allowed past its burst after %d flood keys", i)
		}
		if n := l.Len(); n > 640 {
			t.Fatalf("%d keys, cap 640", n)
		}
	}
}

// BenchmarkLimiterAllow measures one Allow on a limiter holding 100,000
// sources, each seen again, and reports the memory held per source.
func BenchmarkLimiterAllow(b *testing.B) {
	const sources = 100000
	keys := make([]string, sources)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := &sipguard.Limiter{Rate: 200, Burst: 400, MaxKeys: 2 * sources}
	for i := range keys {
		// The key strings count: the limiter keeps them, as it keeps addr.String().
		keys[i] = "192.168." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":5060"
		l.Allow(keys[i], t0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := float64(after.HeapAlloc-before.HeapAlloc) / sources

	now := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		l.Allow(keys[i%sources], now)
		i++
	}
	b.ReportMetric(perKey, "B/key")
	runtime.KeepAlive(keys)
}
