package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the shared state of the services in one PostgreSQL database.
type Store struct {
	// Pool is the connection pool; aggregates use it through Store's methods.
	Pool *pgxpool.Pool
	// Log receives what background work (Listen) has to report; nil means slog.Default().
	Log *slog.Logger
}

// Connect connects to url with at most maxConns connections and checks the
// database answers. It leaves the schema alone: the owner applies it
// (schema.Migrate), the other services check it (schema.Require).
func Connect(ctx context.Context, url string, maxConns int32, log *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database URL: %w", err)
	}
	cfg.MaxConns = maxConns
	// What the database says besides results reaches the log: a migration's
	// NOTICE (00012: the audit log could not be given its own owner) would
	// be lost otherwise.
	noticeLog := log
	if noticeLog == nil {
		noticeLog = slog.Default()
	}
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		level := slog.LevelInfo
		if n.Severity == "WARNING" {
			level = slog.LevelWarn
		}
		noticeLog.Log(context.Background(), level, "database notice", "severity", n.Severity, "message", n.Message, "detail", n.Detail)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &Store{Pool: pool, Log: log}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping checks the database answers (readiness probes).
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }
