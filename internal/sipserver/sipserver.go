package sipserver

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Sipserver, log *slog.Logger) error {
	return svc.Serve(ctx, "sipserver", &cfg.Database, cfg.HTTP, log)
}
