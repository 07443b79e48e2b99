package sipguard

import (
	"hash/maphash"
	"sync"
	"time"
)

// numShards splits a Limiter's keys so that each idle-key sweep walks a
// small map, spreading its cost instead of pausing every caller at once.
const numShards = 64

// Sweeps run at most this often per shard, and keys are kept at most this
// long after their last use.
const (
	minSweepInterval = time.Second
	maxIdle          = time.Hour
)

var shardSeed = maphash.MakeSeed()

// DefaultMaxKeys bounds a Limiter's key table when MaxKeys is not set.
const DefaultMaxKeys = 1 << 16

// Limiter is a token bucket per key (such as a source IP): a key may take
// Burst events at once and Rate per second after that. Keys idle long
// enough for their bucket to be full again are forgotten, which loses
// nothing, so memory follows the number of recently active keys. The
// cleanup is amortised over Allow calls; no goroutine is needed.
//
// The table is bounded: a flood of spoofed UDP sources can create keys
// faster than they go idle, so past MaxKeys the least recently used key of
// the shard is forgotten. That key's next event starts from a full bucket;
// what the cap protects is memory, while each live source stays limited.
//
// Set the fields before the first Allow; the zero value with Rate ≤ 0
// allows everything. A Limiter must not be copied after first use.
type Limiter struct {
	// Rate is the sustained number of events per second per key.
	Rate float64
	// Burst is the number of events a key may take at once; less than 1 means 1.
	Burst int
	// MaxKeys bounds the number of keys held; 0 means DefaultMaxKeys.
	MaxKeys int

	shards [numShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]bucket
	swept   int64 // Unix nanoseconds of the last sweep
}

type bucket struct {
	tokens float64
	last   int64 // Unix nanoseconds of the last refill
}

// Allow reports whether key may have one more event at time now, and
// takes it from the key's bucket if so.
func (l *Limiter) Allow(key string, now time.Time) bool {
	if l.Rate <= 0 {
		return true
	}
	burst := float64(max(l.Burst, 1))
	t := now.UnixNano()
	s := &l.shards[maphash.String(shardSeed, key)%numShards]
	s.mu.Lock()
	defer s.mu.Unlock()

	// A bucket unused for refill is full again, like a new one.
	refill := maxIdle
	if f := burst / l.Rate * float64(time.Second); f < float64(maxIdle) {
		refill = time.Duration(f)
	}
	if s.buckets == nil {
		s.buckets = make(map[string]bucket)
	} else if d := time.Duration(t - s.swept); d >= max(refill, minSweepInterval) || d < 0 {
		for k, b := range s.buckets {
			if time.Duration(t-b.last) >= refill {
				delete(s.buckets, k)
			}
		}
		s.swept = t
	}

	b, ok := s.buckets[key]
	switch {
	case !ok:
		if len(s.buckets) >= l.shardCap() {
			s.evictOldest()
		}
		b = bucket{tokens: burst, last: t}
	case t > b.last:
		b.tokens = min(burst, b.tokens+time.Duration(t-b.last).Seconds()*l.Rate)
		b.last = t
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	s.buckets[key] = b
	return allowed
}

// shardCap is the number of keys one shard may hold.
func (l *Limiter) shardCap() int {
	n := l.MaxKeys
	if n <= 0 {
		n = DefaultMaxKeys
	}
	return max(n/numShards, 1)
}

// evictOldest forgets the least recently refilled key of the shard. It
// walks the shard (MaxKeys/64 keys), which happens only while the table is
// full, that is under a flood of new sources.
func (s *limiterShard) evictOldest() {
	var oldest string
	first := true
	var at int64
	for k, b := range s.buckets {
		if first || b.last < at {
			oldest, at, first = k, b.last, false
		}
	}
	delete(s.buckets, oldest)
}

// Len returns the number of keys the limiter holds.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}
