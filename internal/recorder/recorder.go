package recorder

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/svc"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
)

// Run serves until ctx is cancelled. The recorder reads the schema the
// sipserver owns: it waits up to database.connect_timeout for it to be
// current and refuses to start on an older one.
func Run(ctx context.Context, cfg *config.Recorder, log *slog.Logger) error {
	st, err := svcdb.Open(ctx, "recorder", cfg.Database, svcdb.Reader, log)
	if err != nil {
		return err
	}
	defer st.Close()
	rt, err := svc.StartHTTP("recorder", cfg.HTTP, log, map[string]httpserv.ReadyFunc{"database": st.Ping})
	if err != nil {
		return err
	}
	defer rt.Close()
	rt.Started()
	log.Info("serving", "http", rt.HTTP.Addr().String(), "endpoints", "/healthz /readyz /metrics")
	<-ctx.Done()
	return nil
}
