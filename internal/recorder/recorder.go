package recorder

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Recorder, log *slog.Logger) error {
	return svc.Serve(ctx, "recorder", &cfg.Database, cfg.HTTP, log)
}
