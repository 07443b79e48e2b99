package sipserver

// Ending media sessions: ours (teardown, undo) and stored ones nobody in
// this process runs (endRow).

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func (m *sessionManager) endPath(path, reason string) error {
	m.mu.Lock()
	ms := m.byPath[path]
	m.mu.Unlock()
	if ms == nil {
		return fmt.Errorf("%s: %w", path, ErrNoSession)
	}
	m.end(ms, reason, true)
	return nil
}

func (m *sessionManager) endSession(id, reason string) error {
	found := m.matching(func(ms *mediaSession) bool { return ms.row.ID == id })
	if len(found) == 0 {
		return fmt.Errorf("session %s: %w", id, ErrNoSession)
	}
	m.end(found[0], reason, true)
	return nil
}

// end ends an open session: marks it ended, hangs up (bye) and closes its
// receiver. Only the first of concurrent enders does the work.
func (m *sessionManager) end(ms *mediaSession, reason string, bye bool) {
	if m.markEnded(ms, reason) {
		m.teardown(ms, reason, bye)
	}
}

// markEnded records that ms ended for reason — whatever ends it later
// (a BYE racing in) finds it ended — and reports whether its teardown is
// the caller's: not when it had ended already, nor while it is still being
// set up (start() sees ended and tears down).
func (m *sessionManager) markEnded(ms *mediaSession, reason string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms.ended {
		return false
	}
	ms.ended = true
	ms.row.EndReason = reason
	if m.byPath[ms.row.Path] == ms {
		delete(m.byPath, ms.row.Path)
	}
	return ms.isReady()
}

// teardown undoes an ended session: row, dialog, receiver, SSRC.
func (m *sessionManager) teardown(ms *mediaSession, reason string, bye bool) {
	m.mu.Lock()
	dlg := ms.dlg
	if dlg != nil {
		delete(m.byCall, dlg.callID)
	}
	rcv := ms.row.ReceiverID
	m.ending[ms.row.ID] = true
	done := make(chan struct{})
	m.draining[ms.row.Path] = done
	m.mu.Unlock()
	if bye && dlg != nil {
		m.Parent.hangup(dlg, reason)
	}
	m.Parent.background(func(ctx context.Context) {
		defer close(done)
		if _, err := m.Store.EndSession(ctx, ms.row.ID, reason); err != nil {
			m.log.Error("store session end", "session", ms.row.ID, "err", err)
		}
		m.mu.Lock()
		delete(m.ending, ms.row.ID)
		m.mu.Unlock()
		if rcv != "" {
			if err := m.node.close(ctx, rcv); err != nil {
				m.log.Warn("close receiver", "receiver", rcv, "path", ms.row.Path, "err", err)
			}
		}
		// Free once mediagw no longer has it.
		m.alloc.Release(ms.ssrc)
		m.mu.Lock()
		if m.draining[ms.row.Path] == done {
			delete(m.draining, ms.row.Path)
		}
		m.mu.Unlock()
	})
	m.Parent.sessionEnded(ms.row.ID, ms.row.Owner, reason)
	m.Metrics.sessionsEnd.WithLabelValues(ms.row.Kind, reason).Inc()
	m.log.Info("media session ended", "kind", ms.row.Kind, "path", ms.row.Path, "device", ms.row.DeviceID, "reason", reason)
}

// undo cleans up after a failed set-up (receivers were closed by attempt).
func (m *sessionManager) undo(ms *mediaSession, reason string) {
	if ms.row.DeviceID != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 5*time.Second)
		defer cancel()
		if _, err := m.Store.EndSession(ctx, ms.row.ID, reason); err != nil {
			m.log.Error("store session end", "session", ms.row.ID, "err", err)
		}
	}
	if ms.ssrc != 0 {
		m.alloc.Release(ms.ssrc)
	}
}

// endRow ends a stored session nobody runs in this process: BYE from the
// stored dialog, close its receiver, mark it ended.
func (m *sessionManager) endRow(r store.StreamSession, reason string) {
	ctx, cancel := context.WithTimeout(m.ctx, 5*time.Second)
	defer cancel()
	ended, err := m.Store.EndSession(ctx, r.ID, reason)
	if err != nil || !ended {
		return
	}
	if dlg := dialogOf(r); dlg != nil {
		m.Parent.hangup(dlg, reason)
	}
	if r.ReceiverID != "" {
		if err := m.node.close(ctx, r.ReceiverID); err != nil {
			m.log.Warn("close receiver", "receiver", r.ReceiverID, "err", err)
		}
	}
	m.Metrics.sessionsEnd.WithLabelValues(r.Kind, reason).Inc()
	m.log.Info("stored media session ended", "kind", r.Kind, "path", r.Path, "device", r.DeviceID, "reason", reason)
}

// dialogOf rebuilds the dialog of a stored session, nil when it has none.
func dialogOf(r store.StreamSession) *dialog {
	if r.CallID == "" || r.ToTag == "" {
		return nil
	}
	target, err := parseURI(r.RemoteTarget)
	if err != nil {
		return nil
	}
	return &dialog{
		deviceID: r.DeviceID, channelID: r.ChannelID, callID: r.CallID, fromTag: r.FromTag, toTag: r.ToTag,
		remoteTarget: target, cseq: uint32(r.CSeq),
	}
}
