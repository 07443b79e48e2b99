// Package svc starts what every service has: the Prometheus registry, the HTTP
// listener with probes and /metrics, and (for database-backed services) the store.
package svc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/metrics"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Runtime is the common part of a running service.
type Runtime struct {
	// Store is nil for services without a database.
	Store    *store.Store
	Registry *prometheus.Registry
	// Mux already serves /healthz, /readyz and /metrics; services add their routes.
	Mux  *http.ServeMux
	HTTP *httpserv.Server

	started atomic.Bool
}

// Started marks the service's own routes and components as set up: until
// then /readyz answers 503 "startup: still starting", so that nothing (a
// load balancer, make run, a test) talks to a half-built service.
func (rt *Runtime) Started() { rt.started.Store(true) }

// Start opens the database (when db is non-nil) and starts the HTTP listener.
func Start(ctx context.Context, service string, db *config.Database, h config.HTTP, log *slog.Logger) (*Runtime, error) {
	rt := &Runtime{Registry: metrics.NewRegistry(service)}
	ready := map[string]httpserv.ReadyFunc{
		"startup": func(context.Context) error {
			if !rt.started.Load() {
				return errors.New("still starting")
			}
			return nil
		},
	}
	if db != nil {
		st, err := store.OpenConfigured(ctx, *db, log)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		rt.Store = st
		ready["database"] = st.Ping
	}
	rt.Mux = httpserv.NewMux(rt.Registry, ready)
	srv := &httpserv.Server{
		Address:           h.Listen,
		ReadHeaderTimeout: time.Duration(h.ReadHeaderTimeout),
		Handler:           rt.Mux,
		Log:               log,
	}
	if err := srv.Initialize(); err != nil {
		rt.Close()
		return nil, err
	}
	rt.HTTP = srv
	return rt, nil
}

// Close stops the HTTP listener and closes the store.
func (rt *Runtime) Close() {
	if rt.HTTP != nil {
		rt.HTTP.Close()
	}
	if rt.Store != nil {
		rt.Store.Close()
	}
}

// Serve starts the runtime and holds it until ctx is cancelled: all a service
// does until it has work of its own beyond probes, metrics and migrations.
func Serve(ctx context.Context, service string, db *config.Database, h config.HTTP, log *slog.Logger) error {
	rt, err := Start(ctx, service, db, h, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	rt.Started()
	log.Info("serving", "http", rt.HTTP.Addr().String(), "endpoints", "/healthz /readyz /metrics")
	<-ctx.Done()
	return nil
}
