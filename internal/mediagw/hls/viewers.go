package hls

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
)

// viewerKey identifies an HLS viewer session (see Server).
type viewerKey struct {
	token, ip, path string
}

// viewer is one HLS viewer session.
type viewer struct {
	// opened is closed when the audit of the session's start is done; err
	// is its outcome.
	opened chan struct{}
	err    error
	// last is when the viewer's last request came; guarded by Server.mu.
	last time.Time
	// joined counts the requests that came while the audit ran and wait
	// for its outcome; guarded by Server.mu (tests read it).
	joined int
}

// admit starts the viewer session of req, auditing it with Source.Opened,
// or finds the running one. Concurrent first requests of one viewer share
// one audit; a failed audit starts no session (the next request tries
// again).
func (s *Server) admit(ctx context.Context, req access.Request) error {
	key := viewerKey{token: req.Token, ip: hostOf(req.Remote), path: req.Path}
	now := s.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	v := s.viewers[key]
	if v != nil && isClosed(v.opened) && now.Sub(v.last) >= s.IdleTimeout {
		v = nil // the session ended: this request starts a new one
	}
	if v != nil {
		v.last = now
		if !isClosed(v.opened) {
			v.joined++
		}
		s.mu.Unlock()
		select {
		case <-v.opened:
			return v.err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", access.ErrUnavailable, ctx.Err())
		}
	}
	s.sweepViewersLocked(now)
	v = &viewer{opened: make(chan struct{}), last: now}
	s.viewers[key] = v
	s.mu.Unlock()

	// The audit is the session's, not this request's: a player that drops
	// its first request must not fail the requests waiting on the audit.
	err := s.Source.Opened(context.WithoutCancel(ctx), req)
	s.mu.Lock()
	v.err = err
	if err != nil && s.viewers[key] == v {
		delete(s.viewers, key)
	}
	close(v.opened)
	s.mu.Unlock()
	return err
}

// Viewers returns the running viewer sessions (admitted, requesting within
// IdleTimeout). Ending one forgets it: the viewer's next request is
// authorized again, and a revoked token is refused there.
func (s *Server) Viewers() []access.Viewer {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]access.Viewer, 0, len(s.viewers))
	for k, v := range s.viewers {
		if !isClosed(v.opened) || v.err != nil || now.Sub(v.last) >= s.IdleTimeout {
			continue
		}
		out = append(out, access.Viewer{Token: k.token, End: func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.viewers[k] == v {
				delete(s.viewers, k)
			}
		}})
	}
	return out
}

// sweepViewersLocked forgets the sessions that ended.
func (s *Server) sweepViewersLocked(now time.Time) {
	for k, v := range s.viewers {
		if isClosed(v.opened) && now.Sub(v.last) >= s.IdleTimeout {
			delete(s.viewers, k)
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// hostOf returns the IP of an ip:port remote address (the port changes
// with every connection of one player).
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
