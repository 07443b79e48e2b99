package exportdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// This file is the reader side: the console calls these (and so may the
// recorder's own API).

// Job returns job id, whoever owns it (the console checks the owner);
// store.ErrNotFound when there is none.
func (db *DB) Job(ctx context.Context, id string) (Job, error) {
	if !ValidID(id) {
		return Job{}, fmt.Errorf("export %q: %w", id, store.ErrNotFound)
	}
	return db.one(ctx, "export "+id, `SELECT `+jobColumns+` FROM exports WHERE id = $1`, id)
}

// ListQuery selects jobs for List.
type ListQuery struct {
	// Owner selects one user's jobs; "" lists everyone's (admins only).
	Owner string
	// Granted keeps the jobs on channels the scope sees (the console: the
	// caller's download slice now, so a right revoked since hides the job).
	Granted catalogview.Scope
	// Limit bounds the answer (default and at most 500).
	Limit int
}

// maxList bounds List.
const maxList = 500

// List returns jobs, newest first.
func (db *DB) List(ctx context.Context, q ListQuery) ([]Job, error) {
	if q.Limit <= 0 || q.Limit > maxList {
		q.Limit = maxList
	}
	var c store.Conds
	c.Eq("owner", q.Owner)
	q.Granted.FilterChannels(&c, "channel_id")
	where := c.Clause()
	c.Args = append(c.Args, q.Limit)
	return db.jobs(ctx, "list exports", `SELECT `+jobColumns+` FROM exports`+where+
		` ORDER BY created_at DESC, id LIMIT $`+strconv.Itoa(len(c.Args)), c.Args...)
}

// NodeURL returns the internal URL (recorder_nodes.url) of node: where the
// console asks for a job's file and sends its DELETE. store.ErrNotFound
// when the node is unknown or has no URL.
func (db *DB) NodeURL(ctx context.Context, node string) (string, error) {
	var url string
	err := db.Pool.QueryRow(ctx, `SELECT url FROM recorder_nodes WHERE node = $1`, node).Scan(&url)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && url == "") {
		return "", fmt.Errorf("recorder node %q url: %w", node, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("recorder node %q url: %w", node, err)
	}
	return url, nil
}
