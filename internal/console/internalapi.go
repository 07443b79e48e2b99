package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

//go:embed internal_openapi.json
var internalOpenAPI []byte

// InternalAPI is the console's internal API under /internal/v1, on the same
// listener as the public one, for the other services: mediagw reports every
// media open (WHEP, HLS session start, RTSP PLAY) there, and it becomes a
// row of audit_log, the one table of who watched what.
type InternalAPI struct {
	Store *store.Store
	// Token is the service token mediagw sends; empty disables the API (503).
	Token string
	Log   *slog.Logger
}

// Register adds the internal routes to mux.
func (ia *InternalAPI) Register(mux *http.ServeMux) {
	log := ia.Log
	if log == nil {
		log = slog.Default()
	}
	route := (&svcapi.API{Token: ia.Token, Status: internalStatus, Log: log}).Mount(mux, internalOpenAPI)
	// auditapi.PathMediaOpens, spelled out for the route test's source reader.
	route("POST /internal/v1/audit/media-opens", ia.mediaOpen)
	// Anything else under /internal/ is a JSON 404, never the UI's page.
	mux.HandleFunc("/internal/", func(w http.ResponseWriter, r *http.Request) {
		svcapi.WriteJSON(w, http.StatusNotFound, svcapi.Error{Error: "no route " + r.Method + " " + r.URL.Path})
	})
}

// internalStatus maps the internal routes' errors to HTTP statuses.
func internalStatus(err error) int {
	switch {
	case errors.Is(err, input.ErrBadInput):
		return http.StatusBadRequest
	case errors.Is(err, auth.ErrAuditUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// mediaOpen stores one auditapi.MediaOpen as an audit_log row and answers
// 204 only once it is stored: mediagw admits the viewer on that answer.
func (ia *InternalAPI) mediaOpen(w http.ResponseWriter, r *http.Request) error {
	var m auditapi.MediaOpen
	if err := input.ReadJSON(r.Body, &m, false); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", input.ErrBadInput, err)
	}
	if err := input.Text("path", m.Path); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	detail := map[string]any{"protocol": m.Protocol}
	if m.Node != "" {
		detail["node"] = m.Node
	}
	err := ia.Store.AddAudit(ctx, store.AuditEntry{
		At: m.At, Username: m.User, Action: auditapi.ActionMediaOpen, Target: m.Path, Remote: m.Remote, Detail: detail,
	})
	if err != nil {
		// The cause is logged by svcapi; mediagw hears only that the row is not there.
		return fmt.Errorf("store the media open of %s: %w: %w", m.Path, auth.ErrAuditUnavailable, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
