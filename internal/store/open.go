package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
)

// DevDatabase is the database name used on the private development cluster.
const DevDatabase = "sharpeyes"

// OpenConfigured opens the database of cfg. Without a URL it starts (or reuses) the
// private development cluster under cfg.DataDir, which is what `make run` relies on.
func OpenConfigured(ctx context.Context, cfg config.Database, log *slog.Logger) (*Store, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.ConnectTimeout))
	defer cancel()
	url := string(cfg.URL)
	if url == "" {
		c := &pgtest.Cluster{Dir: cfg.DataDir, Durable: true, Log: log}
		if err := c.Ensure(ctx); err != nil {
			return nil, fmt.Errorf("database.url is empty and the private cluster did not start: %w", err)
		}
		if err := c.CreateDB(ctx, DevDatabase); err != nil {
			return nil, err
		}
		url = c.URL(DevDatabase)
		log.Warn("using the private development PostgreSQL cluster; set database.url for production",
			"dir", c.Dir, "port", c.Port())
	}
	return Open(ctx, url, cfg.MaxConns, log)
}
