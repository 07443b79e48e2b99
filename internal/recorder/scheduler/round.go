package scheduler

import "context"

// round heartbeats, renews, releases and acquires leases once.
func (s *Scheduler) round() {
	ctx, cancel := context.WithTimeout(s.ctx, s.Timeout)
	defer cancel()
	if err := s.DB.Heartbeat(ctx, s.Node, s.URL); err != nil {
		s.Log.Warn("recorder heartbeat failed", "node", s.Node, "error", err)
	}
}

// stopAll stops every held channel and releases its lease (Close).
func (s *Scheduler) stopAll() {
	for ch := range s.held {
		s.Parent.Stop(ch, StopClosing)
		delete(s.held, ch)
	}
}
