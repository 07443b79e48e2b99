// Package exportdb is the database of export jobs (the exports table,
// migration 00014). The recorder is its one writer: its export runner
// (internal/recorder/export) creates, claims, advances, finishes and
// expires jobs through the writer methods. The console only reads, through
// the reader methods (Job, List, NodeURL), and asks a recorder over its
// internal API (internal/contract/recorderapi) for every change.
package exportdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// DB is the access to the exports table.
type DB struct {
	*store.Store
}

// New returns the export jobs' database over st.
func New(st *store.Store) *DB { return &DB{Store: st} }

// Job is one row of exports.
type Job struct {
	// ID is 16 lowercase hex digits.
	ID string
	// Owner is the username the job and its file belong to.
	Owner     string
	ChannelID string
	// Source is recorderapi.SourcePlatform or SourceDevice.
	Source string
	Start  time.Time
	End    time.Time
	// State is one of recorderapi.State*.
	State    string
	Progress float64
	Bytes    int64
	// Error says why a failed job failed.
	Error string
	// Node runs the job, then holds its file ("" while queued).
	Node string
	// ObjectKey is the file's key in Node's object store ("" until done,
	// and again once the file is deleted).
	ObjectKey  string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	ExpiresAt  *time.Time
}

// API returns the job as the API shows it.
func (j Job) API() recorderapi.Export {
	return recorderapi.Export{
		ID: j.ID, State: j.State, Progress: j.Progress, Bytes: j.Bytes, Error: j.Error,
		ChannelID: j.ChannelID, Source: j.Source, Start: j.Start, End: j.End,
		CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, ExpiresAt: j.ExpiresAt, Owner: j.Owner,
	}
}

const jobColumns = `id, owner, channel_id, source, start_at, end_at, state, progress, bytes, error,
	coalesce(node, ''), coalesce(object_key, ''), created_at, started_at, finished_at, expires_at`

func scanJob(row pgx.CollectableRow) (Job, error) {
	var j Job
	err := row.Scan(&j.ID, &j.Owner, &j.ChannelID, &j.Source, &j.Start, &j.End, &j.State, &j.Progress, &j.Bytes,
		&j.Error, &j.Node, &j.ObjectKey, &j.CreatedAt, &j.StartedAt, &j.FinishedAt, &j.ExpiresAt)
	return j, err
}

// one runs a query returning at most one job; none is store.ErrNotFound.
func (db *DB) one(ctx context.Context, what, query string, args ...any) (Job, error) {
	rows, err := db.Pool.Query(ctx, query, args...)
	if err != nil {
		return Job{}, fmt.Errorf("%s: %w", what, err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

func (db *DB) jobs(ctx context.Context, what, query string, args ...any) ([]Job, error) {
	rows, err := db.Pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	js, err := pgx.CollectRows(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return js, nil
}

// NewID returns a random job ID: 16 lowercase hex digits.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// ValidID tells whether id has the shape of a job ID, so that a garbage
// path element never reaches the database.
func ValidID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
