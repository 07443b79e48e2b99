package recordingdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Node is a recorder node as its heartbeats left it.
type Node struct {
	Node        string
	URL         string
	StartedAt   time.Time
	HeartbeatAt time.Time
	// Retention is the node's retention settings, as of its last heartbeat.
	Retention Retention
	// Capacity is the node's last capacity reading as its guard wrote it
	// (SetCapacity; a capacity.Event in JSON), nil before the first.
	Capacity json.RawMessage
}

// Recorder is a recorder node and whether it is live.
type Recorder struct {
	Node
	// Live is whether its heartbeat is recent (Recorders' within).
	Live bool
}

// Retention is what a recorder node's configuration keeps: StandardDays
// and KeyDays for channels whose plans set no retention (retention class
// standard and key), and Limit, a cap on every segment's age (0: none).
type Retention struct {
	StandardDays int
	KeyDays      int
	Limit        time.Duration
}

// Beat is one heartbeat of a recorder node.
type Beat struct {
	// Node names the node; URL is where it serves, for operators.
	Node string
	URL  string
	// PublicURL is where browsers reach its playback (recorder.public_url;
	// empty: URL).
	PublicURL string
	// Retention is the node's retention settings, published for the console.
	Retention Retention
	// Started marks the node's first heartbeat since it started:
	// started_at becomes now.
	Started bool
}

// Lease is a channel a node took in AcquireLeases, with what it needs to
// record the hole the previous holder left.
type Lease struct {
	ChannelID string
	// PreviousNode held the lease before (its lease had expired), or ""
	// when the channel was free.
	PreviousNode string
	// PreviousEnd is the end of the channel's last closed segment, by any
	// node (zero when it has none): the start of a recorder_down gap.
	// The previous node's open segment, if any, stays open for that
	// node's own repair when it restarts (OpenSegments): its uncommitted
	// part is on that node's disk.
	PreviousEnd time.Time
}

// Heartbeat records that b's node is alive, by the database's clock, with
// its URLs and retention settings; a Started beat sets its start time too.
func (db *DB) Heartbeat(ctx context.Context, b Beat) error {
	r := b.Retention
	if b.Node == "" || r.StandardDays < 1 || r.KeyDays < 1 || r.Limit < 0 {
		return fmt.Errorf("heartbeat of %q: retention %+v: %w", b.Node, r, store.ErrInvalid)
	}
	_, err := db.Pool.Exec(ctx, `
INSERT INTO recorder_nodes AS n (node, url, standard_days, key_days, retention_limit, public_url)
VALUES ($1, $2, $3, $4, nullif($5::interval, '0'), $7)
ON CONFLICT (node) DO UPDATE SET url = excluded.url, public_url = excluded.public_url, heartbeat_at = now(),
    started_at = CASE WHEN $6 THEN now() ELSE n.started_at END,
    standard_days = excluded.standard_days, key_days = excluded.key_days,
    retention_limit = excluded.retention_limit`,
		b.Node, b.URL, r.StandardDays, r.KeyDays, r.Limit, b.Started, b.PublicURL)
	if err != nil {
		return fmt.Errorf("heartbeat of %s: %w", b.Node, err)
	}
	return nil
}

// nodeColumns are the columns scanned by scanNode; the limit is read in
// microseconds.
const nodeColumns = `node, url, started_at, heartbeat_at, standard_days, key_days,
    (extract(epoch FROM coalesce(retention_limit, interval '0')) * 1000000)::bigint, capacity`

// scanNode scans the nodeColumns of a row.
func scanNode(r pgx.CollectableRow) (Node, error) {
	var n Node
	err := scanNodeInto(r, &n)
	return n, err
}

// scanNodeInto scans the nodeColumns of a row into n, and the columns
// after them into more.
func scanNodeInto(r pgx.CollectableRow, n *Node, more ...any) error {
	var limitMicros int64
	var capacity []byte
	dest := []any{
		&n.Node, &n.URL, &n.StartedAt, &n.HeartbeatAt, &n.Retention.StandardDays, &n.Retention.KeyDays,
		&limitMicros, &capacity,
	}
	err := r.Scan(append(dest, more...)...)
	n.Retention.Limit = time.Duration(limitMicros) * time.Microsecond
	if capacity != nil {
		n.Capacity = json.RawMessage(capacity)
	}
	return err
}

// Recorders returns every recorder node, ordered by name, each live when
// its last heartbeat is within the given duration of the database's now.
func (db *DB) Recorders(ctx context.Context, within time.Duration) ([]Recorder, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+nodeColumns+`, heartbeat_at > now() - $1::interval
FROM recorder_nodes ORDER BY node`, within)
	if err != nil {
		return nil, fmt.Errorf("recorder nodes: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recorder, error) {
		var rec Recorder
		err := scanNodeInto(r, &rec.Node, &rec.Live)
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("recorder nodes: %w", err)
	}
	return recs, nil
}

// SetCapacity stores state, a JSON object, as node's last capacity reading
// and, when notify is not empty, sends it on that notification channel in
// the same statement: a listener and a page loaded later see the same
// state. A node without a heartbeat yet has no row: the state is only
// sent; the node's next reading stores it.
func (db *DB) SetCapacity(ctx context.Context, node string, state json.RawMessage, notify string) error {
	if node == "" || !json.Valid(state) || len(state) == 0 || state[0] != '{' {
		return fmt.Errorf("capacity of %q: %w: a JSON object is required", node, store.ErrInvalid)
	}
	_, err := db.Pool.Exec(ctx, `
WITH u AS (UPDATE recorder_nodes SET capacity = $2::text::jsonb WHERE node = $1 RETURNING 1)
SELECT CASE WHEN $3::text <> '' THEN pg_notify($3::text, $2::text) END, (SELECT count(*) FROM u)`, node, string(state), notify)
	if err != nil {
		return fmt.Errorf("capacity of %s: %w", node, err)
	}
	return nil
}

// LiveNodes returns the nodes whose last heartbeat is within the given
// duration of the database's now, ordered by name. A caller's fair share
// of the channels is their number over len(LiveNodes).
func (db *DB) LiveNodes(ctx context.Context, within time.Duration) ([]Node, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+nodeColumns+` FROM recorder_nodes
WHERE heartbeat_at > now() - $1::interval ORDER BY node`, within)
	if err != nil {
		return nil, fmt.Errorf("live recorder nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("live recorder nodes: %w", err)
	}
	return nodes, nil
}

// LiveRetention returns the retention settings of the live recorder nodes
// (heartbeat within the given duration of the database's now), and false
// when none is live. The nodes of a fleet share one configuration; if live
// nodes disagree (a rolling change), the one whose heartbeat is the most
// recent wins.
func (db *DB) LiveRetention(ctx context.Context, within time.Duration) (Retention, bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+nodeColumns+` FROM recorder_nodes
WHERE heartbeat_at > now() - $1::interval ORDER BY heartbeat_at DESC, node LIMIT 1`, within)
	if err != nil {
		return Retention{}, false, fmt.Errorf("live recorder retention: %w", err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, scanNode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Retention{}, false, nil
	}
	if err != nil {
		return Retention{}, false, fmt.Errorf("live recorder retention: %w", err)
	}
	return n.Retention, true, nil
}

// AcquireLeases takes for node, for ttl, those of candidates (in their
// order) that are free or whose lease expired, until node holds max live
// leases. It is one statement: two nodes never take the same channel (the
// insert's conflict check reads the row as the other left it).
func (db *DB) AcquireLeases(ctx context.Context, node string, candidates []string, maxHeld int,
	ttl time.Duration,
) ([]Lease, error) {
	if node == "" || ttl <= 0 {
		return nil, fmt.Errorf("acquire leases: node %q, ttl %v: %w", node, ttl, store.ErrInvalid)
	}
	if len(candidates) == 0 || maxHeld <= 0 {
		return nil, nil
	}
	candidates = unique(candidates) // a row conflicts with itself only once per statement
	rows, err := db.Pool.Query(ctx, `
WITH prev AS (
    SELECT l.channel_id, l.node FROM recorder_leases l WHERE l.channel_id = ANY ($2::text[])
), taken AS (
    INSERT INTO recorder_leases AS l (channel_id, node, acquired_at, expires_at)
    SELECT u.c, $1, now(), now() + $4::interval
    FROM unnest($2::text[]) WITH ORDINALITY AS u (c, i)
    WHERE u.c <> ''
      AND NOT EXISTS (SELECT 1 FROM recorder_leases x WHERE x.channel_id = u.c AND x.expires_at > now())
    ORDER BY u.i
    LIMIT greatest($3 - (SELECT count(*) FROM recorder_leases x WHERE x.node = $1 AND x.expires_at > now()), 0)
    ON CONFLICT (channel_id) DO UPDATE
        SET node = excluded.node, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
        WHERE l.expires_at <= now()
    RETURNING l.channel_id
)
SELECT t.channel_id, coalesce(p.node, ''),
       (SELECT r.end_at FROM recordings r WHERE r.channel_id = t.channel_id AND NOT r.open
        ORDER BY r.start_at DESC LIMIT 1)
FROM taken t LEFT JOIN prev p ON p.channel_id = t.channel_id
ORDER BY t.channel_id`, node, candidates, maxHeld, ttl)
	if err != nil {
		return nil, fmt.Errorf("acquire leases for %s: %w", node, err)
	}
	leases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Lease, error) {
		var l Lease
		var end *time.Time
		if err := r.Scan(&l.ChannelID, &l.PreviousNode, &end); err != nil {
			return l, err
		}
		if end != nil {
			l.PreviousEnd = *end
		}
		return l, nil
	})
	if err != nil {
		return nil, fmt.Errorf("acquire leases for %s: %w", node, err)
	}
	return leases, nil
}

// RenewLeases extends every lease still naming node to now + ttl and
// returns their channels, sorted. A lease that expired but nobody took is
// renewed too (a database pause must not stop every recording); one that
// another node took is gone from the answer: the caller stops recording it.
func (db *DB) RenewLeases(ctx context.Context, node string, ttl time.Duration) ([]string, error) {
	if node == "" || ttl <= 0 {
		return nil, fmt.Errorf("renew leases: node %q, ttl %v: %w", node, ttl, store.ErrInvalid)
	}
	rows, err := db.Pool.Query(ctx, `
WITH r AS (UPDATE recorder_leases SET expires_at = now() + $2::interval WHERE node = $1 RETURNING channel_id)
SELECT channel_id FROM r ORDER BY channel_id`, node, ttl)
	if err != nil {
		return nil, fmt.Errorf("renew leases of %s: %w", node, err)
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("renew leases of %s: %w", node, err)
	}
	return held, nil
}

// ReleaseLeases gives up node's leases on channels (a clean stop, or a
// channel handed to a less loaded node); others' leases are untouched.
func (db *DB) ReleaseLeases(ctx context.Context, node string, channels []string) error {
	if len(channels) == 0 {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM recorder_leases WHERE node = $1 AND channel_id = ANY ($2::text[])`,
		node, channels); err != nil {
		return fmt.Errorf("release %d leases of %s: %w", len(channels), node, err)
	}
	return nil
}

// unique returns ss without repeats, in first-seen order.
func unique(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
