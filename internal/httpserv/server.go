// Package httpserv is the HTTP listener component of the services, with the
// probes and metrics endpoints every service serves.
package httpserv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/metrics"
)

// Server serves Handler on Address until Close.
type Server struct {
	// Address is host:port; port 0 picks a free port (see Addr).
	Address           string
	ReadHeaderTimeout time.Duration
	Handler           http.Handler
	Log               *slog.Logger

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Initialize binds the listener, so that a port in use is reported at start, and starts serving.
func (s *Server) Initialize() error {
	ln, err := net.Listen("tcp", s.Address)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", s.Address, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go s.run()
	return nil
}

func (s *Server) run() {
	defer close(s.done)
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.Log.Error("http server stopped", "address", s.ln.Addr().String(), "error", err)
	}
}

// Addr is the address actually bound.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, lets requests in flight finish for up to 5 s, then closes.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
}

// ReadyFunc reports whether a dependency (the database, say) is usable.
type ReadyFunc func(context.Context) error

// NewMux returns a mux with GET /healthz (the process is up), GET /readyz (every
// ready check passes within 2 s, else 503 naming the failing check) and GET /metrics.
func NewMux(reg *prometheus.Registry, ready map[string]ReadyFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for name, check := range ready {
			if err := check(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "%s: %v\n", name, err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", metrics.Handler(reg))
	return mux
}
