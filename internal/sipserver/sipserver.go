package sipserver

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/svc"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
)

// Run serves SIP and the internal API until ctx is cancelled.
//
// sipserver owns the schema: it applies the migrations the database lacks
// before anything else uses it, and the other services wait for that.
func Run(ctx context.Context, cfg *config.Sipserver, log *slog.Logger) error {
	st, err := svcdb.Open(ctx, "sipserver", cfg.Database, svcdb.Owner, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	rt, err := svc.StartHTTP("sipserver", cfg.HTTP, log, map[string]httpserv.ReadyFunc{"database": st.Ping})
	if err != nil {
		return err
	}
	defer rt.Close()
	db := sipdb.New(st)
	srv := &Server{
		Config: cfg.SIP, SessionConfig: cfg.Sessions, MediaToken: string(cfg.ServiceToken), Store: db, Log: log,
		Metrics: rt.Registry,
	}
	if err := srv.Initialize(); err != nil {
		return err
	}
	defer srv.Close()
	api := &API{Server: srv, Store: db, Token: string(cfg.ServiceToken), Log: log}
	api.Register(rt.Mux)
	rt.Started()
	if cfg.ServiceToken == "" {
		log.Warn("internal API disabled: service_token is not set (console and mediagw cannot reach sipserver)")
	}
	if cfg.SIP.Password == "" {
		log.Warn("sip.password is empty: only devices with their own password can register")
	}
	log.Info("serving", "http", rt.HTTP.Addr().String(), "api", "/internal/v1/")
	<-ctx.Done()
	return nil
}
