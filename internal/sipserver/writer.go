package sipserver

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// maxPendingChanges bounds the status changes kept while PostgreSQL is
// unreachable; beyond it the oldest are dropped (and said so), so a long
// outage cannot exhaust memory.
const maxPendingChanges = 1_000_000

// stateStore is what stateWriter needs of the store.
type stateStore interface {
	UpdateRegistrations(ctx context.Context, regs []store.Registration) error
	ApplyStatusChanges(ctx context.Context, changes []store.StatusChange) ([]store.StatusChange, error)
	TouchKeepalives(ctx context.Context, touches []store.KeepaliveTouch) error
}

// stateWriter batches registrations and online/offline transitions and
// writes them every Interval, so no SIP handler ever waits for PostgreSQL.
// Registrations are written before transitions, so a new device's row exists
// when its first transition is logged. Failed batches are retried.
type stateWriter struct {
	Store    stateStore
	Interval time.Duration
	Log      *slog.Logger
	Metrics  *metrics

	// flushMu serialises flushes: the periodic one and sync.
	flushMu sync.Mutex

	mu   sync.Mutex
	regs map[string]store.Registration
	// flushing holds the registrations of the flush under way.
	flushing map[string]store.Registration
	changes  []store.StatusChange
	touches  []store.KeepaliveTouch
	dropped  int
}

func (w *stateWriter) initialize() {
	w.regs = map[string]store.Registration{}
}

// register queues a device's registration fields; the latest per device wins.
func (w *stateWriter) register(r store.Registration) {
	w.mu.Lock()
	w.regs[r.DeviceID] = r
	w.mu.Unlock()
}

// status queues a transition.
func (w *stateWriter) status(c store.StatusChange) {
	w.mu.Lock()
	w.changes = append(w.changes, c)
	if n := len(w.changes) - maxPendingChanges; n > 0 {
		w.changes = slices.Delete(w.changes, 0, n)
		w.dropped += n
	}
	w.mu.Unlock()
}

// touch queues the last keepalive times of devices.
func (w *stateWriter) touch(t []store.KeepaliveTouch) {
	w.mu.Lock()
	w.touches = append(w.touches, t...)
	w.mu.Unlock()
}

// run flushes every Interval until ctx is done, then once more.
func (w *stateWriter) run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// Not cancelled by shutdown: a batch being written is finished.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			w.flush(fctx)
			cancel()
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			w.flush(fctx)
			cancel()
			return
		}
	}
}

// syncDevice makes sure the device's registration is written, for work
// that needs its row (its catalog): it flushes at once only when the
// registration is still queued or being written, so a registration storm
// does not turn into one flush per device.
func (w *stateWriter) syncDevice(ctx context.Context, id string) {
	w.mu.Lock()
	_, queued := w.regs[id]
	_, writing := w.flushing[id]
	w.mu.Unlock()
	if queued || writing {
		w.flush(ctx)
	}
}

// flush writes what is queued; on failure it puts it back for the next round.
func (w *stateWriter) flush(ctx context.Context) {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	regs, changes, touches, dropped := w.regs, w.changes, w.touches, w.dropped
	w.regs, w.changes, w.touches, w.dropped = map[string]store.Registration{}, nil, nil, 0
	w.flushing = regs
	pending := len(regs) + len(changes) + len(touches)
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.flushing = nil
		w.mu.Unlock()
	}()
	if dropped > 0 {
		w.Log.Error("database unreachable for long: dropped oldest status changes", "dropped", dropped)
	}
	if pending == 0 {
		return
	}
	start := time.Now()
	var err error
	if len(regs) > 0 {
		if err = w.Store.UpdateRegistrations(ctx, slices.Collect(maps.Values(regs))); err == nil {
			regs = nil
		}
	}
	if err == nil && len(changes) > 0 {
		var applied []store.StatusChange
		if applied, err = w.Store.ApplyStatusChanges(ctx, changes); err == nil {
			w.Metrics.transitions.Add(float64(len(applied)))
			changes = nil
		}
	}
	if err == nil && len(touches) > 0 {
		if err = w.Store.TouchKeepalives(ctx, touches); err == nil {
			touches = nil
		}
	}
	w.Metrics.flushSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		return
	}
	w.Metrics.flushErrors.Inc()
	w.Log.Warn("write device state; will retry", "err", err,
		"registrations", len(regs), "changes", len(changes), "keepalives", len(touches))
	w.mu.Lock()
	for id, r := range regs {
		if _, newer := w.regs[id]; !newer {
			w.regs[id] = r
		}
	}
	w.changes = append(changes, w.changes...)
	// Keepalive times are advisory (they only refine a restart): not retried.
	w.mu.Unlock()
}
