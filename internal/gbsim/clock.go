package gbsim

import "time"

// clock is the simulator's time source for what a device reports and how it
// paces media: the time in its answers (DeviceStatus, RecordInfo, alarms),
// PTZ movement, subscription expiry, the frame rate and playback speed of
// streams and the media faults timed from a stream's start. Tests replace it
// with a virtual clock so that they need no wall-clock windows. The
// signalling timers (keepalive, registration refresh, retransmissions) run
// on the wall clock: they talk to a real platform.
type clock interface {
	Now() time.Time
	// NewTimer returns a started timer that fires once after d.
	NewTimer(d time.Duration) timer
}

// timer is the part of time.Timer the simulator uses. After a timer fired,
// its owner either Resets or Stops it (the virtual clock of the tests uses
// that to know the value was consumed).
type timer interface {
	C() <-chan time.Time
	// Reset re-arms the timer to fire after d; no stale value is delivered.
	Reset(d time.Duration)
	Stop()
}

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) NewTimer(d time.Duration) timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time { return w.t.C }

// Reset relies on Go ≥ 1.23 timers: no stale value survives Reset or Stop.
func (w wallTimer) Reset(d time.Duration) { w.t.Reset(d) }

func (w wallTimer) Stop() { w.t.Stop() }
