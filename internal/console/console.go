package console

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Console, log *slog.Logger) error {
	rt, err := svc.Start(ctx, "console", &cfg.Database, cfg.HTTP, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	log.Info("serving", "http", rt.HTTP.Addr().String(), "endpoints", "/healthz /readyz /metrics")
	<-ctx.Done()
	return nil
}
