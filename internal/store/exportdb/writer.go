package exportdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// This file is the writer side: only the recorder's export runner
// (internal/recorder/export) calls these. Times are passed in (the
// runner's injected clock), never the database's now().

// ErrNotRunning is a progress or result of a job that is no longer running
// on the node that reports it: deleted (expired) meanwhile, or requeued.
var ErrNotRunning = fmt.Errorf("exportdb: job not running on this node: %w", store.ErrNotFound)

// NewJob is what Create needs.
type NewJob struct {
	Owner     string
	ChannelID string
	Source    string
	Start     time.Time
	End       time.Time
	// Created is the creation time (the runner's clock).
	Created time.Time
}

// Create inserts a queued job with a fresh ID. A job the schema refuses
// (empty owner or channel, unknown source, End not after Start) is
// store.ErrInvalid.
func (db *DB) Create(ctx context.Context, n NewJob) (Job, error) {
	if n.Owner == "" || n.ChannelID == "" || !n.End.After(n.Start) ||
		(n.Source != recorderapi.SourcePlatform && n.Source != recorderapi.SourceDevice) {
		return Job{}, fmt.Errorf("create export of %q: %w", n.ChannelID, store.ErrInvalid)
	}
	return db.one(ctx, "create export", `
INSERT INTO exports (id, owner, channel_id, source, start_at, end_at, state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
RETURNING `+jobColumns, NewID(), n.Owner, n.ChannelID, n.Source, n.Start, n.End, n.Created)
}

// Claim takes the oldest queued job this node can run and marks it running
// on node at now; ok is false when there is none. Jobs locked by another
// node's Claim are skipped (FOR UPDATE SKIP LOCKED). A platform job is
// claimed only when every segment in its range is in one of stores (the
// node's own directory store "dir://<node>", or a shared S3 store); a
// device job only when devices is set.
func (db *DB) Claim(ctx context.Context, node string, stores []string, devices bool, now time.Time) (Job, bool, error) {
	j, err := db.one(ctx, "claim export", `
UPDATE exports SET state = 'running', node = $1, started_at = $4, progress = 0, bytes = 0, error = ''
WHERE id = (
    SELECT e.id FROM exports e
    WHERE e.state = 'queued'
      AND CASE WHEN e.source = 'device' THEN $3
          ELSE NOT EXISTS (
              SELECT 1 FROM recordings r
              WHERE r.channel_id = e.channel_id AND r.start_at < e.end_at AND r.end_at > e.start_at
                AND NOT r.deleting
                -- One range of the (channel_id, start_at) index, as in
                -- recordingdb.PlaybackSegments, which the runner reads.
                AND r.start_at >= coalesce((SELECT max(x.start_at) FROM recordings x
                                            WHERE x.channel_id = e.channel_id AND x.start_at <= e.start_at),
                                           '-infinity')
                AND r.store <> ALL ($2::text[]))
          END
    ORDER BY e.created_at, e.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING `+jobColumns, node, stores, devices, now)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Job{}, false, nil
		}
		return Job{}, false, err
	}
	return j, true, nil
}

// Progress records a running job's progress (0..1) and bytes so far.
// ErrNotRunning when the job is no longer running on node: the runner
// stops it.
func (db *DB) Progress(ctx context.Context, id, node string, progress float64, bytes int64) error {
	progress = min(max(progress, 0), 1)
	tag, err := db.Pool.Exec(ctx, `
UPDATE exports SET progress = $3, bytes = $4 WHERE id = $1 AND node = $2 AND state = 'running'`,
		id, node, progress, max(bytes, 0))
	if err != nil {
		return fmt.Errorf("export %s progress: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("export %s progress: %w", id, ErrNotRunning)
	}
	return nil
}

// Finish marks a running job of node done: its file is objectKey in the
// node's store, bytes long, deleted at expires.
func (db *DB) Finish(ctx context.Context, id, node, objectKey string, bytes int64, finished, expires time.Time) error {
	tag, err := db.Pool.Exec(ctx, `
UPDATE exports SET state = 'done', progress = 1, bytes = $4, object_key = $3, finished_at = $5, expires_at = $6
WHERE id = $1 AND node = $2 AND state = 'running'`, id, node, objectKey, max(bytes, 0), finished, expires)
	if err != nil {
		return fmt.Errorf("finish export %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish export %s: %w", id, ErrNotRunning)
	}
	return nil
}

// Fail marks a running job of node failed with msg (it has no file).
func (db *DB) Fail(ctx context.Context, id, node, msg string, finished time.Time) error {
	tag, err := db.Pool.Exec(ctx, `
UPDATE exports SET state = 'failed', error = $3, finished_at = $4, object_key = NULL
WHERE id = $1 AND node = $2 AND state = 'running'`, id, node, msg, finished)
	if err != nil {
		return fmt.Errorf("fail export %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("fail export %s: %w", id, ErrNotRunning)
	}
	return nil
}

// Requeue puts node's running jobs back in the queue: at its start, the
// jobs it ran when it stopped (a crash) start again. It returns their IDs
// (their partial files are the caller's to remove).
func (db *DB) Requeue(ctx context.Context, node string) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `
UPDATE exports SET state = 'queued', node = NULL, started_at = NULL, progress = 0, bytes = 0, object_key = NULL
WHERE node = $1 AND state = 'running' RETURNING id`, node)
	if err != nil {
		return nil, fmt.Errorf("requeue exports of %s: %w", node, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("requeue exports of %s: %w", node, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("requeue exports of %s: %w", node, err)
	}
	return ids, nil
}

// RequeueDead puts back in the queue the running jobs of the nodes other
// than self whose heartbeat (recorder_nodes.heartbeat_at, on the
// database's clock, as the channel leases) is older than silentFor, or that
// have none: a node that died mid-job leaves nothing running for ever. It
// returns the jobs, queued again, with Node naming the dead node. A node
// that comes back finds its jobs gone: its progress and finish are refused
// (ErrNotRunning), which stops them.
func (db *DB) RequeueDead(ctx context.Context, self string, silentFor time.Duration) ([]Job, error) {
	if silentFor <= 0 {
		return nil, fmt.Errorf("requeue exports of dead nodes: silentFor %s: %w", silentFor, store.ErrInvalid)
	}
	return db.jobs(ctx, "requeue exports of dead nodes", `
UPDATE exports e SET state = 'queued', node = NULL, started_at = NULL, progress = 0, bytes = 0, object_key = NULL
FROM (SELECT id, node AS dead FROM exports
      WHERE state = 'running' AND node <> $1
        AND NOT EXISTS (SELECT 1 FROM recorder_nodes n
                        WHERE n.node = exports.node AND n.heartbeat_at > now() - $2::interval)
      FOR UPDATE SKIP LOCKED) d
WHERE e.id = d.id
-- jobColumns, but the node the job ran on.
RETURNING e.id, e.owner, e.channel_id, e.source, e.start_at, e.end_at, e.state, e.progress, e.bytes, e.error,
	d.dead, coalesce(e.object_key, ''), e.created_at, e.started_at, e.finished_at, e.expires_at`, self, silentFor)
}

// Expire marks job id expired at now, whatever its state (DELETE): a
// running job's node stops it at its next progress, and the node holding
// a file deletes it at its next sweep (Unlinked). It returns the job as it
// was.
func (db *DB) Expire(ctx context.Context, id string, now time.Time) (Job, error) {
	if !ValidID(id) {
		return Job{}, fmt.Errorf("expire export %q: %w", id, store.ErrNotFound)
	}
	var before Job
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+jobColumns+` FROM exports WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if before, err = pgx.CollectExactlyOneRow(rows, scanJob); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
UPDATE exports SET state = 'expired', expires_at = least(coalesce(expires_at, $2), $2),
    finished_at = coalesce(finished_at, $2)
WHERE id = $1`, id, now)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, fmt.Errorf("expire export %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("expire export %s: %w", id, err)
	}
	return before, nil
}

// ExpireDue marks node's done jobs whose expires_at has passed expired.
func (db *DB) ExpireDue(ctx context.Context, node string, now time.Time) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `
UPDATE exports SET state = 'expired' WHERE node = $1 AND state = 'done' AND expires_at <= $2`, node, now)
	if err != nil {
		return 0, fmt.Errorf("expire exports of %s: %w", node, err)
	}
	return tag.RowsAffected(), nil
}

// Unlinked returns node's expired jobs that still name a file: the files
// the sweep deletes (then Unlink).
func (db *DB) Unlinked(ctx context.Context, node string, limit int) ([]Job, error) {
	return db.jobs(ctx, "expired exports of "+node, `SELECT `+jobColumns+` FROM exports
WHERE node = $1 AND state = 'expired' AND object_key IS NOT NULL ORDER BY id LIMIT $2`, node, limit)
}

// Unlink forgets the file of expired job id, deleted from the store.
func (db *DB) Unlink(ctx context.Context, id string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE exports SET object_key = NULL WHERE id = $1 AND state = 'expired'`, id); err != nil {
		return fmt.Errorf("unlink export %s: %w", id, err)
	}
	return nil
}
