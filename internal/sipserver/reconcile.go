package sipserver

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// restoreSessions takes over the sessions a previous sipserver left open.
// An active session whose receiver mediagw still has is recovered (viewers
// never notice the restart); one whose receiver is gone is hung up; one
// that was still being set up is abandoned, since its INVITE died with the
// old process. When mediagw cannot be asked, active sessions are recovered
// and the reconcile loop decides later.
func (m *sessionManager) restore(ctx context.Context) error {
	if m.Config.MediagwURL == "" {
		return nil
	}
	rows, err := m.Store.OpenSessions(ctx, "")
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	live := map[string]bool{}
	rcvs, rerr := m.node.receivers(ctx)
	for _, r := range rcvs {
		live[r.ID] = true
	}
	var recovered, ended int
	for _, r := range rows {
		dlg := dialogOf(r)
		switch {
		case r.State != store.SessionActive || dlg == nil:
			m.endRow(r, ReasonRestart)
			ended++
		case rerr == nil && !live[r.ReceiverID]:
			m.endRow(r, ReasonReceiverGone)
			ended++
		default:
			ssrc, _ := sdp.ParseSSRC(r.SSRC)
			ms := &mediaSession{row: r, ssrc: ssrc, ready: make(chan struct{}), dlg: dlg, receiverAt: time.Now()}
			close(ms.ready)
			// The device's SSRC may not follow our numbering; then nothing is reserved.
			if err := m.alloc.Reserve(ssrc); err != nil {
				ms.ssrc = 0
			}
			m.mu.Lock()
			m.byPath[r.Path], m.byCall[r.CallID] = ms, ms
			m.mu.Unlock()
			recovered++
		}
	}
	if rerr != nil {
		m.log.Warn("mediagw not reachable at start: sessions kept until it answers", "err", rerr)
	}
	m.log.Info("media sessions restored", "recovered", recovered, "ended", ended)
	return nil
}

// runReconcile compares our sessions with mediagw's receivers and the
// database every interval, ending orphans on either side:
//   - a session whose receiver mediagw no longer has (mediagw restarted,
//     or the receiver closed without telling us) is hung up, so the device
//     does not stream to nobody;
//   - a receiver no session owns is closed, so no viewer waits on a stream
//     that no device will feed;
//   - a stored open session nobody in this process runs is ended.
func (m *sessionManager) runReconcile(ctx context.Context) {
	if m.Config.MediagwURL == "" {
		return
	}
	t := time.NewTicker(m.Config.ReconcileInterval.Std())
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, m.Config.ReconcileInterval.Std())
		err := m.reconcile(rctx)
		cancel()
		switch {
		case err != nil && !failing:
			m.log.Warn("reconcile: cannot compare sessions with mediagw", "err", err)
			failing = true
		case err == nil && failing:
			m.log.Info("reconcile: mediagw answers again")
			failing = false
		}
	}
}

// orphanGrace keeps the reconcile loop off receivers and rows that a
// session set-up may have just created.
func (m *sessionManager) orphanGrace() time.Duration {
	return m.Config.InviteTimeout.Std() + 5*time.Second
}

func (m *sessionManager) reconcile(ctx context.Context) error {
	rcvs, err := m.node.receivers(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]mediaapi.Receiver, len(rcvs))
	for _, r := range rcvs {
		byID[r.ID] = r
	}
	owned, err := m.Parent.upwardReceivers(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	m.mu.Lock()
	known := map[string]bool{}
	var lost []*mediaSession
	for id := range m.ending {
		known[id] = true
	}
	for _, ms := range m.byPath {
		known[ms.row.ID] = true
		if ms.row.ReceiverID != "" {
			owned[ms.row.ReceiverID] = true
		}
		if !ms.isReady() {
			continue // being set up
		}
		if _, ok := byID[ms.row.ReceiverID]; !ok && now.Sub(ms.receiverAt) > time.Second {
			lost = append(lost, ms)
		}
	}
	m.mu.Unlock()
	for _, ms := range lost {
		m.log.Info("reconcile: mediagw lost the receiver; hanging up", "path", ms.row.Path, "receiver", ms.row.ReceiverID)
		m.end(ms, ReasonReceiverGone, true)
	}
	for _, r := range rcvs {
		if !owned[r.ID] && now.Sub(r.Created) > m.orphanGrace() {
			m.log.Info("reconcile: closing a receiver no session owns", "receiver", r.ID, "path", r.Path)
			if err := m.node.close(ctx, r.ID); err != nil {
				m.log.Warn("close receiver", "receiver", r.ID, "err", err)
			}
		}
	}
	rows, err := m.Store.OpenSessions(ctx, "")
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !known[r.ID] && now.Sub(r.StartedAt) > m.orphanGrace() {
			m.endRow(r, ReasonOrphan)
		}
	}
	return nil
}
