package sipserver

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

const (
	// sweepInterval is how often liveness is checked: the resolution of
	// offline detection.
	sweepInterval = time.Second
	// touchEvery sweeps, the last keepalive times are written to PostgreSQL
	// so that a restart knows how fresh each device was.
	touchEvery = 30
)

// runLiveness sweeps every device once a second: registrations that expired
// and devices silent for interval × count go offline. The keepalive path only
// stores a timestamp; this loop is the one place that turns silence into a
// transition, so a device costs O(1) per keepalive and O(1) per second.
func (s *Server) runLiveness(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.now()
		s.sweep(now)
		s.failures.sweep(now)
		if n%touchEvery == 0 {
			s.flushTouches()
		}
	}
}

func (s *Server) sweep(now time.Time) {
	s.devices.each(func(d *device) {
		last := time.Unix(0, d.lastKeepalive.Load())
		d.mu.Lock()
		var change *store.StatusChange
		expired := d.registered && now.After(d.expiresAt)
		if expired {
			d.registered = false
			d.subscribedUntil = time.Time{}
		}
		if d.online {
			// A device restored at start gets a full timeout from the restart
			// before silence counts against it: its keepalives were not watched.
			deadline := maxTime(last, s.startedAt).Add(d.interval * time.Duration(d.count))
			switch {
			case expired:
				change = &store.StatusChange{DeviceID: d.id, Cause: "expired", At: d.expiresAt}
			case !d.registered:
				change = &store.StatusChange{DeviceID: d.id, Cause: "expired", At: now}
			case now.After(deadline):
				// The device was last known alive one interval after its last
				// keepalive: that is when it went silent, not when we noticed.
				change = &store.StatusChange{DeviceID: d.id, Cause: "keepalive_timeout", At: last.Add(d.interval)}
			}
			if change != nil {
				d.online = false
			}
		}
		d.mu.Unlock()
		if change != nil {
			if change.At.After(now) {
				change.At = now
			}
			s.writer.status(*change)
			s.Log.Info("device offline", "device", d.id, "cause", change.Cause, "since", change.At)
			s.sessions.deviceGone(d.id, ReasonUnregister)
		}
	})
}

// flushTouches queues the keepalive times that changed since the last call.
func (s *Server) flushTouches() {
	var touches []store.KeepaliveTouch
	s.devices.each(func(d *device) {
		if d.touched.Swap(false) {
			touches = append(touches, store.KeepaliveTouch{DeviceID: d.id, At: time.Unix(0, d.lastKeepalive.Load())})
		}
	})
	if len(touches) > 0 {
		s.writer.touch(touches)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
