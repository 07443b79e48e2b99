// Package auditretention deletes audit rows older than the retention
// (config audit.retention, at least 180 days), once a day, in bounded
// batches, so that the hash chain's verify still passes.
package auditretention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// Defaults of Job's zero fields.
const (
	DefaultBatch    = 10_000
	DefaultInterval = 24 * time.Hour
)

// ErrTooShort refuses a retention shorter than consoledb.MinAuditRetention.
var ErrTooShort = errors.New("audit retention shorter than the 180 days required")

// Store is what the job needs of the database: consoledb.DB's PruneAudit.
type Store interface {
	PruneAudit(ctx context.Context, before, now time.Time, limit int64) (int64, error)
}

// Job prunes the audit log: at start and then every Interval, it deletes
// the rows older than Retention, Batch rows per statement (no statement
// holds the table long, and a Close stops it between two).
type Job struct {
	Store Store
	// Retention is how long rows are kept (at least
	// consoledb.MinAuditRetention).
	Retention time.Duration
	// Batch bounds the rows of one delete (DefaultBatch when zero).
	Batch int64
	// Interval is the time between two passes (DefaultInterval when zero).
	Interval time.Duration
	Log      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits for the next pass; nil means time.After.
	After func(time.Duration) <-chan time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

// Initialize checks the settings and starts the run goroutine.
func (j *Job) Initialize() error {
	if j.Store == nil {
		return errors.New("audit retention: no store")
	}
	if j.Retention < consoledb.MinAuditRetention {
		return fmt.Errorf("audit retention %s: %w", j.Retention, ErrTooShort)
	}
	if j.Batch <= 0 {
		j.Batch = DefaultBatch
	}
	if j.Interval <= 0 {
		j.Interval = DefaultInterval
	}
	if j.Log == nil {
		j.Log = slog.Default()
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	if j.After == nil {
		j.After = time.After
	}
	var ctx context.Context
	ctx, j.cancel = context.WithCancel(context.Background())
	j.done = make(chan struct{})
	go j.run(ctx)
	return nil
}

// Close stops the job, between two batches of a pass in progress.
func (j *Job) Close() {
	if j.cancel == nil {
		return
	}
	j.cancel()
	<-j.done
}

func (j *Job) run(ctx context.Context) {
	defer close(j.done)
	for {
		if _, err := j.Prune(ctx); err != nil && ctx.Err() == nil {
			j.Log.Error("audit retention", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-j.After(j.Interval):
		}
	}
}

// Prune runs one pass: it deletes the rows older than Retention, Batch at
// a time, logging each batch, and returns how many went.
func (j *Job) Prune(ctx context.Context) (int64, error) {
	now := j.Now()
	before := now.Add(-j.Retention)
	var total int64
	for {
		n, err := j.Store.PruneAudit(ctx, before, now, j.Batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune audit rows before %s (%d deleted): %w", before.UTC().Format(time.RFC3339), total, err)
		}
		if n > 0 {
			j.Log.Info("audit retention: deleted a batch", "rows", n, "total", total, "before", before)
		}
		if n < j.Batch || ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		j.Log.Info("audit retention: pass done", "deleted", total, "before", before, "retention", j.Retention)
	}
	return total, ctx.Err()
}
