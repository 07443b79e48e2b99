package sipserver

import (
	"context"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves SIP and the internal API until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Sipserver, log *slog.Logger) error {
	rt, err := svc.Start(ctx, "sipserver", &cfg.Database, cfg.HTTP, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	srv := &Server{
		Config: cfg.SIP, SessionConfig: cfg.Sessions, MediaToken: string(cfg.ServiceToken), Store: rt.Store, Log: log,
		Metrics: rt.Registry,
	}
	if err := srv.Initialize(); err != nil {
		return err
	}
	defer srv.Close()
	api := &API{Server: srv, Store: rt.Store, Token: string(cfg.ServiceToken), Log: log}
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
