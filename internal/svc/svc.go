// Package svc starts what every service has: the Prometheus registry and the
// HTTP listener with probes and /metrics. It links no database code: a
// database-backed service opens its database with svcdb and hands its Ping
// to StartHTTP as a readiness check.
package svc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/metrics"
)

// Runtime is the common part of a running service.
type Runtime struct {
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

// StartHTTP starts the HTTP listener with /healthz, /metrics and /readyz;
// /readyz also runs the service's own checks in ready (by name: "database"
// → the store's Ping), which may be nil.
func StartHTTP(service string, h config.HTTP, log *slog.Logger, ready map[string]httpserv.ReadyFunc) (*Runtime, error) {
	rt := &Runtime{Registry: metrics.NewRegistry(service)}
	checks := map[string]httpserv.ReadyFunc{
		"startup": func(context.Context) error {
			if !rt.started.Load() {
				return errors.New("still starting")
			}
			return nil
		},
	}
	for name, f := range ready {
		checks[name] = f
	}
	rt.Mux = httpserv.NewMux(rt.Registry, checks)
	srv := &httpserv.Server{
		Address:           h.Listen,
		ReadHeaderTimeout: time.Duration(h.ReadHeaderTimeout),
		Handler:           rt.Mux,
		Log:               log,
	}
	if err := srv.Initialize(); err != nil {
		return nil, err
	}
	rt.HTTP = srv
	return rt, nil
}

// Close stops the HTTP listener.
func (rt *Runtime) Close() {
	if rt.HTTP != nil {
		rt.HTTP.Close()
	}
}
