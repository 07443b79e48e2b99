package mediagw

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Mediagw, log *slog.Logger) error {
	return svc.Serve(ctx, "mediagw", nil, cfg.HTTP, log)
}
