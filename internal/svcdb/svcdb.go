// Package svcdb opens the database of a database-backed service at start:
// the configured URL, or the private development cluster (pgcluster) when
// none is set, and then the schema step of the service's role — the owner
// (sipserver) applies the migrations, every other service checks the
// version and refuses to run on an older schema. Services without a
// database (mediagw) do not import it, so they link no database code.
package svcdb

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/pgcluster"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/schema"
)

// DevDatabase is the database name used on the private development cluster.
const DevDatabase = "sharpeyes"

// Role is what a service does with the schema at start.
type Role int

const (
	// Owner applies the migrations the database lacks (the sipserver).
	Owner Role = iota + 1
	// Reader checks the database is at the version it needs, waiting up to
	// its connect timeout for the owner, and refuses to start otherwise.
	Reader
)

// Open opens the database of cfg for service and applies (Owner) or checks
// (Reader) the schema. Without a URL it starts (or reuses) the private
// development cluster under cfg.DataDir, which is what `make run` relies on.
func Open(ctx context.Context, service string, cfg config.Database, role Role, log *slog.Logger) (*store.Store, error) {
	timeout := time.Duration(cfg.ConnectTimeout)
	connectCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := string(cfg.URL)
	if url == "" {
		c := &pgcluster.Cluster{Dir: cfg.DataDir, Durable: true, Log: log}
		if err := c.Ensure(connectCtx); err != nil {
			return nil, fmt.Errorf("database.url is empty and the private cluster did not start: %w", err)
		}
		if err := c.CreateDB(connectCtx, DevDatabase); err != nil {
			return nil, err
		}
		url = c.URL(DevDatabase)
		log.Warn("using the private development PostgreSQL cluster; set database.url for production",
			"dir", c.Dir, "port", c.Port())
	}
	st, err := store.Connect(connectCtx, url, cfg.MaxConns, log)
	if err != nil {
		return nil, err
	}
	switch role {
	case Owner:
		err = schema.Migrate(connectCtx, st.Pool, log)
	default:
		// The wait is the service's own connect timeout, and the check runs
		// under ctx rather than connectCtx so that running out of it yields
		// the message naming the versions, not a bare deadline error.
		err = schema.Require(ctx, st.Pool, service, timeout)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	v, err := schema.Version(ctx, st.Pool)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("database ready", "schema_version", v, "schema_owner", role == Owner)
	return st, nil
}
