// Package svcapi is the plumbing of the services' internal HTTP APIs
// (/internal/v1 of sipserver and mediagw): the service-token check, bounded
// JSON bodies, JSON errors with a status and a machine code chosen by the
// service, the list and time parameters every API parses alike, and the
// Client the services call each other with.
package svcapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// MaxBody bounds request bodies.
const MaxBody = 64 << 10

// Error is the JSON body of every error answer.
type Error struct {
	// Error is the text for people.
	Error string `json:"error"`
	// Code is the stable machine code (CodeNotFound, …).
	Code string `json:"code"`
}

// HandlerFunc is a route: it writes its answer, or returns an error that
// the API turns into a JSON error with the status Status picks.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one route of an API's route table: the table is the one list
// that both the service's Register serves and its OpenAPI test walks.
type Route struct {
	// Pattern is the ServeMux pattern, method included ("GET /internal/v1/devices/{device}").
	Pattern string
	// Handler serves it.
	Handler HandlerFunc
}

// Patterns returns the patterns of routes, for apitest.CheckRoutes.
func Patterns(routes []Route) []string {
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, r.Pattern)
	}
	return out
}

// API wraps a service's routes with the service-token check.
type API struct {
	// Token is the service token; empty disables the API (503).
	Token string
	// Status maps a route's error that wraps no CodeError to an HTTP
	// status (500 when nil); the answer's code is the status's shared one.
	Status func(error) int
	// Log receives refused and failed requests.
	Log *slog.Logger
}

// Mount serves openAPI at GET /internal/v1/openapi.json without a token and
// returns the function that adds a route to mux behind the token check.
func (a *API) Mount(mux *http.ServeMux, openAPI []byte) func(pattern string, h HandlerFunc) {
	mux.HandleFunc("GET /internal/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	return func(pattern string, h HandlerFunc) { mux.Handle(pattern, a.Handle(h)) }
}

// MountRoutes is Mount with the route table routes added.
func (a *API) MountRoutes(mux *http.ServeMux, openAPI []byte, routes []Route) {
	route := a.Mount(mux, openAPI)
	for _, r := range routes {
		route(r.Pattern, r.Handler)
	}
}

// Handle returns h behind the token check: 503 when no token is
// configured, 401 with WWW-Authenticate when it is missing or wrong.
func (a *API) Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Token == "" {
			WriteJSON(w, http.StatusServiceUnavailable, Error{"internal API disabled: set service_token", CodeUnavailable})
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sharpeyes-internal"`)
			WriteJSON(w, http.StatusUnauthorized, Error{"missing or wrong service token", CodeUnauthorized})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		err := h(w, r)
		if err == nil {
			return
		}
		status, code := a.classify(err)
		if status >= 500 {
			a.Log.Warn("internal API", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "error", err)
		} else {
			a.Log.Info("internal API refused", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "error", err)
		}
		WriteJSON(w, status, Error{err.Error(), code})
	})
}

// classify picks the status and code of a route's error: its CodeError's,
// else the service's Status mapping.
func (a *API) classify(err error) (int, string) {
	var (
		maxErr *http.MaxBytesError
		ce     *CodeError
	)
	switch {
	case errors.As(err, &maxErr):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.As(err, &ce):
		return ce.Status, ce.Code
	case a.Status != nil:
		status := a.Status(err)
		return status, codeOfStatus(status)
	}
	return http.StatusInternalServerError, CodeInternal
}

// WriteJSON writes v as the JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeBody decodes the JSON body into v, refusing unknown fields. A
// malformed body gives an error wrapping ErrBadRequest; an oversized one
// keeps its *http.MaxBytesError (413).
func DecodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return fmt.Errorf("%w: invalid JSON body: %w", ErrBadRequest, err)
	}
	return nil
}
