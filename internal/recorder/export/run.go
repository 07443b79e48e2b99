package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
)

// requeue puts back the jobs this node was running when it last stopped
// and removes their partial files.
func (r *Runner) requeue() error {
	ctx, cancel := context.WithTimeout(r.ctx, DefaultDBTimeout)
	defer cancel()
	ids, err := r.DB.Requeue(ctx, r.Node)
	if err != nil {
		return fmt.Errorf("export runner: %w", err)
	}
	for _, id := range ids {
		if err := r.Store.Delete(ctx, []string{Key(id, r.Node)}); err != nil {
			r.Log.Warn("remove partial export file", "id", id, "error", err)
		}
		r.Log.Info("export requeued: the node stopped while it ran", "id", id, "node", r.Node)
	}
	r.removeLeftovers(ctx)
	return nil
}

// removeLeftovers deletes the export files of this node that no finished
// job holds: partial files of jobs another node took over while this one
// was down (RequeueDead), and of runs before the node was in the key. Other
// nodes' files are left alone. (An S3 store lists committed objects only:
// a partial file in the spool of a node that crashed stays there.)
func (r *Runner) removeLeftovers(ctx context.Context) {
	mine := "." + keyNode(r.Node) + ".mp4"
	// In a directory store every file is this node's; a bucket is shared.
	shared := !strings.HasPrefix(r.Store.Name(), objstore.KindDir+"://")
	var stale []string
	err := r.Store.List(ctx, keyPrefix, func(key string, _ int64) error {
		name := strings.TrimPrefix(key, keyPrefix)
		id, rest, _ := strings.Cut(name, ".")
		if !exportdb.ValidID(id) || "."+rest != mine && rest != "mp4" {
			return nil
		}
		j, err := r.DB.Job(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case j.State == recorderapi.StateDone && j.ObjectKey == key,
			shared && rest == "mp4" && j.Node != r.Node: // an old-style file, maybe another node's
			return nil
		}
		stale = append(stale, key)
		return nil
	})
	if err != nil {
		r.Log.Warn("list export files: leftovers stay until the next start", "error", err)
		return
	}
	if len(stale) == 0 {
		return
	}
	if err := r.Store.Delete(ctx, stale); err != nil {
		r.Log.Warn("remove leftover export files", "keys", stale, "error", err)
		return
	}
	r.Log.Info("leftover export files removed", "keys", stale)
}

// run is the runner's goroutine: it claims jobs while fewer than
// MaxRunning run, and sweeps expired files.
func (r *Runner) run() {
	poll := time.NewTicker(r.PollInterval)
	defer poll.Stop()
	sweep := time.NewTicker(r.SweepInterval)
	defer sweep.Stop()
	done := make(chan struct{}, r.MaxRunning)
	running := 0
	r.sweepOnce()
	for {
		for running < r.MaxRunning {
			j, ok := r.claim()
			if !ok {
				break
			}
			if r.isRunning(j.ID) {
				// Another node took this node for dead (its heartbeat
				// late) and queued its job again: the run here goes on.
				r.Log.Warn("export claimed again while it runs here; the run goes on", "id", j.ID, "node", r.Node)
				continue
			}
			running++
			r.setRunning(running)
			r.wg.Go(func() {
				r.runJob(j)
				done <- struct{}{}
			})
		}
		select {
		case <-r.ctx.Done():
			return
		case <-done:
			running--
			r.setRunning(running)
		case <-r.wake:
		case <-poll.C:
			r.requeueDead()
		case <-r.sweep:
			r.sweepOnce()
		case <-sweep.C:
			r.sweepOnce()
		}
	}
}

func (r *Runner) setRunning(n int) {
	if r.Metrics != nil {
		r.Metrics.running.Set(float64(n))
	}
}

// claim takes one job this node can run.
func (r *Runner) claim() (exportdb.Job, bool) {
	ctx, cancel := context.WithTimeout(r.ctx, DefaultDBTimeout)
	defer cancel()
	devices := r.Sip != nil && r.Tokens != nil && r.RTSPURL != ""
	j, ok, err := r.DB.Claim(ctx, r.Node, []string{r.Store.Name()}, devices, r.Now())
	if err != nil {
		if r.ctx.Err() == nil {
			r.Log.Warn("claim export", "node", r.Node, "error", err)
		}
		return exportdb.Job{}, false
	}
	return j, ok
}

// requeueDead queues again the jobs of nodes silent for DeadAfter.
func (r *Runner) requeueDead() {
	if r.DeadAfter <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, DefaultDBTimeout)
	defer cancel()
	jobs, err := r.DB.RequeueDead(ctx, r.Node, r.DeadAfter)
	if err != nil {
		if r.ctx.Err() == nil {
			r.Log.Warn("requeue exports of dead nodes", "error", err)
		}
		return
	}
	for _, j := range jobs {
		r.Log.Warn("export requeued: its node has sent no heartbeat for too long", "id", j.ID, "dead_node", j.Node,
			"silent_for", r.DeadAfter, "owner", j.Owner, "channel_id", j.ChannelID)
	}
}

// isRunning reports whether job id runs on this node.
func (r *Runner) isRunning(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// kickSweep makes the run goroutine sweep now.
func (r *Runner) kickSweep() {
	select {
	case r.sweep <- struct{}{}:
	default:
	}
}

// stop cancels job id if it runs here.
func (r *Runner) stop(id string) {
	r.mu.Lock()
	cancel := r.running[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// runJob runs one claimed job to its end and records the outcome.
func (r *Runner) runJob(j exportdb.Job) {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	r.mu.Lock()
	r.running[j.ID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, j.ID)
		r.mu.Unlock()
	}()
	r.Log.Info("export started", "id", j.ID, "owner", j.Owner, "channel_id", j.ChannelID, "source", j.Source,
		"start", j.Start, "end", j.End, "node", r.Node)
	began := time.Now()
	p := &progress{r: r, id: j.ID}
	var bytes int64
	var err error
	switch j.Source {
	case recorderapi.SourcePlatform:
		bytes, err = r.platform(ctx, j, p)
	case recorderapi.SourceDevice:
		bytes, err = r.device(ctx, j, p)
	default:
		err = fmt.Errorf("unknown source %q", j.Source)
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(r.ctx), DefaultDBTimeout)
	defer dcancel()
	result := "done"
	switch {
	case r.ctx.Err() != nil:
		// Closing: Close requeues the job (a crash: the next start does).
		_ = r.Store.Delete(dctx, []string{Key(j.ID, r.Node)})
		result = "stopped"
		r.Log.Info("export interrupted: the node stops; the job is queued again", "id", j.ID)
	case errors.Is(err, ErrStopped) || errors.Is(err, exportdb.ErrNotRunning) || ctx.Err() != nil:
		_ = r.Store.Delete(dctx, []string{Key(j.ID, r.Node)})
		result = "stopped"
		r.Log.Info("export stopped", "id", j.ID)
	case err != nil:
		_ = r.Store.Delete(dctx, []string{Key(j.ID, r.Node)})
		result = "failed"
		if ferr := r.DB.Fail(dctx, j.ID, r.Node, err.Error(), r.Now()); ferr != nil {
			r.Log.Warn("record export failure", "id", j.ID, "error", ferr)
		}
		r.Log.Warn("export failed", "id", j.ID, "channel_id", j.ChannelID, "source", j.Source, "error", err)
	default:
		now := r.Now()
		if ferr := r.DB.Finish(dctx, j.ID, r.Node, Key(j.ID, r.Node), bytes, now, now.Add(r.TTL)); ferr != nil {
			_ = r.Store.Delete(dctx, []string{Key(j.ID, r.Node)})
			result = "stopped"
			r.Log.Warn("export finished but not recorded: file removed", "id", j.ID, "error", ferr)
			break
		}
		if r.Metrics != nil {
			r.Metrics.bytes.Add(float64(bytes))
		}
		r.Log.Info("export done", "id", j.ID, "channel_id", j.ChannelID, "bytes", bytes,
			"took", time.Since(began).Round(time.Millisecond))
	}
	if r.Metrics != nil {
		r.Metrics.jobs.WithLabelValues(j.Source, result).Inc()
	}
}

// progress writes a job's progress at most once a second.
type progress struct {
	r    *Runner
	id   string
	last time.Time
}

// report writes p and bytes unless the last write is under a second old;
// ErrStopped when the job no longer runs here (deleted).
func (p *progress) report(ctx context.Context, frac float64, bytes int64) error {
	now := p.r.Now()
	if !p.last.IsZero() && now.Sub(p.last) < progressEvery {
		return nil
	}
	p.last = now
	ctx, cancel := context.WithTimeout(ctx, DefaultDBTimeout)
	defer cancel()
	err := p.r.DB.Progress(ctx, p.id, p.r.Node, frac, bytes)
	if errors.Is(err, exportdb.ErrNotRunning) {
		return fmt.Errorf("export %s: %w", p.id, ErrStopped)
	}
	if err != nil {
		// A database hiccup does not end the job: the next report retries.
		p.r.Log.Warn("export progress", "id", p.id, "error", err)
	}
	return nil
}

// sweepOnce expires this node's finished jobs past their TTL and deletes
// the files of its expired jobs.
func (r *Runner) sweepOnce() {
	ctx, cancel := context.WithTimeout(r.ctx, DefaultDBTimeout)
	defer cancel()
	if n, err := r.DB.ExpireDue(ctx, r.Node, r.Now()); err != nil {
		r.Log.Warn("expire exports", "error", err)
	} else if n > 0 {
		r.Log.Info("exports expired", "count", n)
	}
	jobs, err := r.DB.Unlinked(ctx, r.Node, 100)
	if err != nil {
		r.Log.Warn("expired exports", "error", err)
		return
	}
	for _, j := range jobs {
		r.stop(j.ID)
		if err := r.Store.Delete(ctx, []string{j.ObjectKey}); err != nil {
			r.Log.Warn("delete export file", "id", j.ID, "key", j.ObjectKey, "error", err)
			continue
		}
		if err := r.DB.Unlink(ctx, j.ID); err != nil {
			r.Log.Warn("unlink export", "id", j.ID, "error", err)
		}
	}
}
