package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

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
// row of audit_log, the one table of who watched what; and mediagw asks
// there which of its viewers' play tokens are revoked.
type InternalAPI struct {
	Store *consoledb.DB
	// Audit stores the media opens' rows (a consoledb.AuditWriter, many
	// rows per transaction); nil writes them through Store.
	Audit auth.AuditLog
	// Token is the service token mediagw sends; empty disables the API (503).
	Token string
	Log   *slog.Logger
}

func (ia *InternalAPI) auditLog() auth.AuditLog {
	if ia.Audit == nil {
		return ia.Store
	}
	return ia.Audit
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
		{Pattern: http.MethodPost + " " + auditapi.PathViewersCheck, Handler: ia.viewersCheck},
	}
}

// internalStatus maps the internal routes' errors to HTTP statuses.
func internalStatus(err error) int {
	// svcapi answers its own 400 (svcapi.ErrBadRequest, which input's
	// refusals wrap), 413 and coded errors (auditapi.ErrRevoked: 403,
	// svcapi.ErrUnavailable) before asking.
	if errors.Is(err, auth.ErrAuditUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// mediaOpen stores one auditapi.MediaOpen as an audit_log row and answers
// 204 only once it is stored: mediagw admits the viewer on that answer. The
// open of a revoked token (a user's, sent with its issued_at) is refused
// with auditapi.ErrRevoked (403) and its row says so (result refused,
// reason viewer_revoked): a disabled user's token still within its
// validity opens nothing more.
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
	e := store.AuditEntry{
		At: m.At, Username: m.User, Action: auditapi.ActionMediaOpen, Target: m.Path, Remote: m.Remote, Detail: detail,
	}
	revoked := false
	if m.User != "" && !m.IssuedAt.IsZero() {
		got, err := ia.Store.TokensRevoked(r.Context(), []string{m.User}, []time.Time{m.IssuedAt})
		if err != nil {
			ia.logger().Error("check a media open's play token", "user", m.User, "path", m.Path, "error", err)
			return fmt.Errorf("check the play token of %s: %w", m.User, auth.ErrAuditUnavailable)
		}
		if revoked = got[0]; revoked {
			e.Result, e.Reason = store.AuditRefused, auditapi.CodeRevoked
		}
	}
	err := auth.WriteAudit(r.Context(), ia.auditLog(), ia.logger(), e)
	if err != nil {
		// The cause is logged by WriteAudit; mediagw hears only that the row is not there.
		return fmt.Errorf("store the media open of %s: %w", m.Path, auth.ErrAuditUnavailable)
	}
	if revoked {
		ia.logger().Warn("media open refused: play token revoked", "user", m.User, "path", m.Path,
			"issued_at", m.IssuedAt, "remote", m.Remote, "node", m.Node)
		return fmt.Errorf("media open of %s by %s: %w", m.Path, m.User, auditapi.ErrRevoked)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// viewersCheck answers which viewers of an auditapi.ViewersCheck hold a
// revoked play token; mediagw closes them.
func (ia *InternalAPI) viewersCheck(w http.ResponseWriter, r *http.Request) error {
	var c auditapi.ViewersCheck
	if err := input.ReadJSON(r.Body, &c, false); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return svcapi.BadRequest("%v", err)
	}
	users := make([]string, len(c.Viewers))
	issued := make([]time.Time, len(c.Viewers))
	for i, v := range c.Viewers {
		users[i], issued[i] = v.User, v.IssuedAt
	}
	revoked, err := ia.Store.TokensRevoked(r.Context(), users, issued)
	if err != nil {
		ia.logger().Error("check viewers' play tokens", "viewers", len(users), "error", err)
		return fmt.Errorf("check %d viewers: %w", len(users), svcapi.ErrUnavailable)
	}
	out := auditapi.ViewersRevoked{Revoked: []auditapi.Viewer{}}
	for i, v := range c.Viewers {
		if revoked[i] {
			out.Revoked = append(out.Revoked, v)
		}
	}
	if len(out.Revoked) > 0 {
		ia.logger().Info("viewers revoked", "checked", len(c.Viewers), "revoked", len(out.Revoked))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
