// Package ptzlock decides who controls a camera's PTZ: one controller at a
// time — a console user or a superior platform.
// A command takes the camera's lock or refreshes it; the lock expires when
// its holder has sent nothing for the idle time; a user with a higher PTZ
// priority takes it over, anyone else is refused with the holder's name and
// the time the lock ends.
//
// The locks live in the sipserver's memory, where every PTZ command passes:
// a restart frees every camera, which costs nobody more than the idle time
// they would have waited anyway.
package ptzlock

import (
	"fmt"
	"sync"
	"time"
)

// DefaultIdle is the lock's idle time when Locks.Idle is not set: long
// enough to keep the control between an operator's moves, short enough
// that a forgotten camera is free again soon.
const DefaultIdle = 30 * time.Second

// The range of PTZ priorities (the grants' ptz_priority): higher wins.
const (
	MinPriority = 1
	MaxPriority = 9
)

// User is who asks for a camera's control.
type User struct {
	// ID identifies the controller ("user:12", "platform:3"): two sessions
	// of one user share the lock.
	ID string
	// Username is shown to the controllers the lock refuses.
	Username string
	// Priority is the user's PTZ priority on the camera, MinPriority–MaxPriority.
	Priority int
}

// Holder is the user controlling a camera.
type Holder struct {
	User
	// Until is when the lock ends unless the holder sends another command.
	Until time.Time
}

// Result is what Acquire granted.
type Result struct {
	// Holder is the caller's lock, ending Idle from now.
	Holder Holder
	// TookOver is the lock of the user the caller's higher priority took
	// the camera from, or nil.
	TookOver *Holder
}

// Locks holds the PTZ locks of all cameras. It is a plain registry under a
// mutex: expired locks are dropped as Acquire passes, so it needs no
// goroutine.
type Locks struct {
	// Idle is how long a lock lasts after its holder's last command
	// (DefaultIdle when zero).
	Idle time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	held map[string]Holder
	// nextSweep is when expired locks are dropped next: at most once per
	// Idle, so the sweep's cost is spread over the commands.
	nextSweep time.Time
}

// Initialize sets the defaults.
func (l *Locks) Initialize() error {
	if l.Idle < 0 {
		return fmt.Errorf("ptzlock: negative idle time %s", l.Idle)
	}
	if l.Idle == 0 {
		l.Idle = DefaultIdle
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	l.held = map[string]Holder{}
	return nil
}

// Acquire gives u the control of camera (any key naming one camera) for
// Idle from now: when the camera is free or its lock expired, when u holds
// it already (the lock is refreshed), or when u's priority is higher than
// the holder's (a take-over, reported in Result.TookOver). Otherwise it
// returns a *LockedError (ErrLocked): an equal priority does not take over,
// the first user keeps the camera.
func (l *Locks) Acquire(camera string, u User) (Result, error) {
	if u.Priority < MinPriority || u.Priority > MaxPriority {
		return Result{}, fmt.Errorf("%w: %d for user %s", ErrPriority, u.Priority, u.Username)
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var res Result
	if h, ok := l.held[camera]; ok && now.Before(h.Until) && h.ID != u.ID {
		if u.Priority <= h.Priority {
			return Result{}, &LockedError{Holder: h}
		}
		res.TookOver = &h
	}
	res.Holder = Holder{User: u, Until: now.Add(l.Idle)}
	l.held[camera] = res.Holder
	return res, nil
}

// sweep drops the expired locks, at most once per Idle.
func (l *Locks) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	for camera, h := range l.held {
		if !now.Before(h.Until) {
			delete(l.held, camera)
		}
	}
	l.nextSweep = now.Add(l.Idle)
}
