package sipserver

import (
	"context"
	"time"
)

// healthInterval is how often the media node is probed: a fifth of the
// grace, within [200 ms, 1 s], so an outage is noticed within the grace
// plus one probe.
func healthInterval(grace time.Duration) time.Duration {
	return min(max(grace/5, 200*time.Millisecond), time.Second)
}

// healthFailures is how many probes in a row must fail, besides the grace
// passing, before sessions are hung up: two slow answers of a loaded node
// are not an outage.
const healthFailures = 3

// runHealth probes the media node's /healthz and, once it has failed for
// the whole grace (and healthFailures probes in a row), hangs up every
// session whose media goes there. Without
// this a camera behind a firewall would stream to nobody for as long as
// the node is down, and viewers would wait on a stream that never comes;
// ended sessions make them retry, and the next INVITE starts clean when the
// node is back.
func (m *sessionManager) runHealth(ctx context.Context) {
	if m.Config.MediagwURL == "" {
		return
	}
	grace := m.Config.MediaNodeGrace.Std()
	interval := healthInterval(grace)
	t := time.NewTicker(interval)
	defer t.Stop()
	lastOK := m.Parent.now()
	down := false
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, max(interval, grace/2))
		err := m.node.health(pctx)
		cancel()
		now := m.Parent.now()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if down {
				m.log.Info("media node answers again", "node", m.Config.MediagwURL, "down_for", now.Sub(lastOK).Round(time.Second))
			}
			lastOK, down, failed = now, false, 0
			continue
		}
		failed++
		if failed < healthFailures || now.Sub(lastOK) < grace {
			continue
		}
		if !down {
			m.log.Warn("media node failed its health check for the whole grace; hanging up its sessions",
				"node", m.Config.MediagwURL, "grace", grace, "err", err)
			down = true
		}
		m.nodeDown()
	}
}

// nodeDown ends every session of the (one) media node. The receivers are
// gone or unreachable with it; the BYE is what matters.
func (m *sessionManager) nodeDown() {
	// Sessions being set up are left alone: their receiver call fails on its own.
	for _, ms := range m.matching((*mediaSession).isReady) {
		m.end(ms, ReasonMediaNodeDown, true)
	}
}
