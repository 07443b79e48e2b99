// Package schema is the one migration stream of the sharpeyes database: the
// SQL migrations embedded in every database-backed binary, applied by one
// owner (the sipserver, at start) and checked by the other services, which
// refuse to run on a schema older than the one they were built with.
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var files embed.FS

// Owner is the service that applies the migrations at its start; the
// messages of the other services name it.
const Owner = "sipserver"

// pollInterval is how often Require looks at the version again while it
// waits for the owner to finish migrating.
const pollInterval = 250 * time.Millisecond

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it cannot be missing
	}
	return sub
}

func provider(pool *pgxpool.Pool, opts ...goose.ProviderOption) (*goose.Provider, func(), error) {
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(), opts...)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("schema: migrations: %w", err)
	}
	return p, func() { db.Close() }, nil
}

// Latest is the newest schema version embedded in this binary: the version
// it needs.
func Latest() int64 {
	entries, err := fs.Glob(Migrations(), "*.sql")
	if err != nil || len(entries) == 0 {
		panic("schema: no embedded migrations")
	}
	v, err := goose.NumericComponent(entries[len(entries)-1])
	if err != nil {
		panic(fmt.Sprintf("schema: migration %s: %v", entries[len(entries)-1], err))
	}
	return v
}

// Migrate applies the migrations the database lacks. Only the schema owner
// calls it. Several owners starting at once against one database wait for
// each other on goose's session lock (a PostgreSQL advisory lock) instead of
// racing.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("schema: migration lock: %w", err)
	}
	p, done, err := provider(pool, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	defer done()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("schema: migrate: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// Version reports the schema version the database is at: 0 when no
// migration was ever applied.
func Version(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("schema: version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	p, done, err := provider(pool)
	if err != nil {
		return 0, err
	}
	defer done()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema: version: %w", err)
	}
	return v, nil
}

// Require checks the database is at least at the version this binary needs
// (Latest). While it is older, Require waits up to wait for the owner to
// migrate it — services started together with the owner pass their
// configured connect timeout — and then returns an error wrapping ErrTooOld
// that names both versions and what to do. A newer schema is accepted:
// migrations only add to what older binaries use.
func Require(ctx context.Context, pool *pgxpool.Pool, service string, wait time.Duration) error {
	need := Latest()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		have, err := Version(ctx, pool)
		if err != nil {
			return err
		}
		if have >= need {
			return nil
		}
		t := time.NewTimer(pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("schema: wait for version %d: %w", need, ctx.Err())
		case <-deadline.C:
			t.Stop()
			return fmt.Errorf("%w: the database is at version %d but %s needs version %d: "+
				"start %s first (it applies the migrations at start), then %s; "+
				"an older %s binary cannot upgrade it", ErrTooOld, have, service, need, Owner, service, Owner)
		case <-t.C:
		}
	}
}
