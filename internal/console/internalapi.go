package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

//go:embed internal_openapi.json
var internalOpenAPI []byte

// InternalAPI is the console's internal API under /internal/v1, on the same
// listener as the public one, for the other services: mediagw reports every
// media open (WHEP, HLS session start, RTSP PLAY) there, and it becomes a
// row of audit_log, the one table of who watched what.
type InternalAPI struct {
	Store *consoledb.DB
	// Token is the service token mediagw sends; empty disables the API (503).
	Token string
	Log   *slog.Logger
}

func (ia *InternalAPI) logger() *slog.Logger {
	if ia.Log == nil {
		return slog.Default()
	}
	return ia.Log
}

// Register adds the internal routes to mux.
func (ia *InternalAPI) Register(mux *http.ServeMux) {
	(&svcapi.API{Token: ia.Token, Status: internalStatus, Log: ia.logger()}).MountRoutes(mux, internalOpenAPI, ia.routes())
	// Anything else under /internal/ is a JSON 404, never the UI's page.
	mux.HandleFunc("/internal/", func(w http.ResponseWriter, r *http.Request) {
		svcapi.WriteJSON(w, http.StatusNotFound, svcapi.Error{Error: "no route " + r.Method + " " + r.URL.Path, Code: svcapi.CodeNotFound})
	})
}

// routes is the internal route table: Register serves it and the OpenAPI
// test checks it against the document.
func (ia *InternalAPI) routes() []svcapi.Route {
	return []svcapi.Route{
		{Pattern: http.MethodPost + " " + auditapi.PathMediaOpens, Handler: ia.mediaOpen},
	}
}

// internalStatus maps the internal routes' errors to HTTP statuses.
func internalStatus(err error) int {
	// svcapi answers its own 400 (svcapi.ErrBadRequest, which input's
	// refusals wrap) and 413 before asking.
	if errors.Is(err, auth.ErrAuditUnavailable) {
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
	// ReadJSON checked the text of every field (no NUL, valid UTF-8).
	if err := m.Validate(); err != nil {
		return svcapi.BadRequest("%v", err)
	}
	detail := map[string]any{"protocol": m.Protocol}
	if m.Node != "" {
		detail["node"] = m.Node
	}
	err := auth.WriteAudit(r.Context(), ia.Store, ia.logger(), store.AuditEntry{
		At: m.At, Username: m.User, Action: auditapi.ActionMediaOpen, Target: m.Path, Remote: m.Remote, Detail: detail,
	})
	if err != nil {
		// The cause is logged by WriteAudit; mediagw hears only that the row is not there.
		return fmt.Errorf("store the media open of %s: %w", m.Path, auth.ErrAuditUnavailable)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
