package gbsim

import (
	"sync"
	"testing"
	"time"
)

// virtualClock is a clock that moves only when a test moves it. A timer
// fires when the clock reaches it and then counts as unconsumed until its
// owner Resets or Stops it (the streamer always does one or the other), so
// drive can advance in step with the streamer: it moves to the next
// deadline only when every fired timer was consumed. Media pacing then
// depends on the order of events, never on how busy the machine is.
type virtualClock struct {
	mu         sync.Mutex
	now        time.Time
	armed      map[*virtualTimer]struct{}
	created    int
	unconsumed int
	changed    chan struct{} // closed and replaced on every change
}

func newVirtualClock() *virtualClock {
	return &virtualClock{
		now:     time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local),
		armed:   map[*virtualTimer]struct{}{},
		changed: make(chan struct{}),
	}
}

type virtualTimer struct {
	c     *virtualClock
	ch    chan time.Time
	at    time.Time
	fired bool // fired and not yet Reset or Stopped
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) NewTimer(d time.Duration) timer {
	t := &virtualTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.created++
	c.mu.Unlock()
	t.Reset(d)
	return t
}

func (t *virtualTimer) C() <-chan time.Time { return t.ch }

func (t *virtualTimer) Reset(d time.Duration) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	t.disarm()
	t.at = c.now.Add(d)
	c.armed[t] = struct{}{}
	if d <= 0 {
		t.fire()
	}
	c.signal()
}

func (t *virtualTimer) Stop() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	t.disarm()
	c.signal()
}

// disarm drops a pending value and the timer's deadline; c.mu is held.
func (t *virtualTimer) disarm() {
	select {
	case <-t.ch:
	default:
	}
	if t.fired {
		t.fired = false
		t.c.unconsumed--
	}
	delete(t.c.armed, t)
}

// fire delivers the current time; c.mu is held.
func (t *virtualTimer) fire() {
	delete(t.c.armed, t)
	t.fired = true
	t.c.unconsumed++
	t.ch <- t.c.now
}

func (c *virtualClock) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the clock by d and fires the timers due by then, without
// waiting for anyone.
func (c *virtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.armed {
		if !t.at.After(c.now) {
			t.fire()
		}
	}
	c.signal()
}

// waitFor blocks until cond (called with c.mu held) holds, stop is closed
// or, when limit > 0, limit of real time passed; it reports whether cond
// held.
func (c *virtualClock) waitFor(cond func() bool, stop <-chan struct{}, limit time.Duration) bool {
	var expired <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		expired = t.C
	}
	for {
		c.mu.Lock()
		ok, changed := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			return false
		case <-expired:
			return false
		}
	}
}

// drive advances the clock from deadline to deadline, each time once every
// fired timer was consumed, until the returned stop function is called
// (which waits for the driving goroutine to end). Between events the clock
// stands still: a paused stream, or one at the end of its range, sees no
// time pass.
func (c *virtualClock) drive() (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ready := c.waitFor(func() bool { return c.unconsumed == 0 && len(c.armed) > 0 }, quit, 0)
			if !ready {
				return
			}
			c.mu.Lock()
			var next time.Time
			for t := range c.armed {
				if next.IsZero() || t.at.Before(next) {
					next = t.at
				}
			}
			if next.After(c.now) {
				c.now = next
			}
			for t := range c.armed {
				if !t.at.After(c.now) {
					t.fire()
				}
			}
			c.signal()
			c.mu.Unlock()
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// waitIdle waits until no timer is armed and every fired one was consumed:
// the streamer waits for a request (paused, at the end of its range, or
// gone).
func (c *virtualClock) waitIdle(t *testing.T, limit time.Duration) {
	t.Helper()
	if !c.waitFor(func() bool { return c.unconsumed == 0 && len(c.armed) == 0 }, nil, limit) {
		t.Fatalf("virtual clock: timers still armed after %v", limit)
	}
}

// waitTimers waits until n timers were created: a stream has started.
func (c *virtualClock) waitTimers(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	if !c.waitFor(func() bool { return c.created >= n }, nil, limit) {
		t.Fatalf("virtual clock: fewer than %d timers after %v", n, limit)
	}
}

func TestVirtualClock(t *testing.T) {
	c := newVirtualClock()
	start := c.Now()
	a := c.NewTimer(40 * time.Millisecond)
	b := c.NewTimer(0)
	select {
	case <-b.C():
	default:
		t.Fatal("a zero timer must fire at once")
	}
	b.Stop()
	c.Advance(39 * time.Millisecond)
	select {
	case <-a.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Millisecond)
	if got := <-a.C(); !got.Equal(start.Add(40 * time.Millisecond)) {
		t.Fatalf("fired at %v", got.Sub(start))
	}
	// Driven, a timer re-armed after each firing ticks in virtual time.
	a.Reset(10 * time.Millisecond)
	stop := c.drive()
	for i := range 5 {
		<-a.C()
		if i < 4 {
			a.Reset(10 * time.Millisecond)
		} else {
			a.Stop()
		}
	}
	c.waitIdle(t, time.Minute)
	stop()
	if got := c.Now().Sub(start); got != 90*time.Millisecond {
		t.Fatalf("virtual time %v, want 90ms", got)
	}
}
