package console

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Console, log *slog.Logger) error {
	return svc.Serve(ctx, "console", &cfg.Database, cfg.HTTP, log)
}
