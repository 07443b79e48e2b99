package console

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/probe"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

//go:embed openapi.json
var openAPI []byte

// API is the console's public API under /api/v1: login, devices, channels,
// the tree, live play, PTZ, records, playback, exports and events.
type API struct {
	// Store is the console's database: the audit log it writes, and the
	// read model devices and channels are read from (effective state).
	Store *consoledb.DB
	Auth  *auth.Service
	Sip   *sipapi.Client
	// Signer mints play tokens; nil disables play and playback (503).
	Signer *playtoken.Signer
	// PublicURL and RTSPURL are the bases of the returned WHEP/HLS and RTSP URLs.
	PublicURL, RTSPURL string
	// PlayTokenTTL is the lifetime of minted play tokens.
	PlayTokenTTL time.Duration
	// RecorderToken is the service token of the recorder nodes' internal
	// API (exports); empty: the export routes answer 503.
	RecorderToken string
	// RecorderHTTP is the HTTP client of those calls (nil: a default one).
	RecorderHTTP *http.Client
	Events       *Events
	// Proxies says whose X-Forwarded-For and X-Forwarded-Proto are believed.
	Proxies auth.Proxies
	// AuditFailOpen lets a video access (play, playback, its control, PTZ,
	// an export, an export's file) go on when its audit row cannot be
	// written (the failure is logged). The zero value refuses it (503
	// audit_unavailable): an API built without configuration fails closed.
	AuditFailOpen bool
	Log           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PTZPriorities gives a user's PTZ priority on a channel (the grants'
	// ptz_priority); nil gives everybody DefaultPTZPriority.
	PTZPriorities PTZPriorities
	// Prober probes channels' video (POST /channels/{id}/probe); nil
	// answers 503.
	Prober *probe.Prober

	mu       sync.Mutex
	warming  map[string]bool
	closed   bool
	bgCtx    context.Context
	bgCancel context.CancelFunc
	wg       sync.WaitGroup
}

// Initialize prepares the background work of play calls.
func (a *API) Initialize() error {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.PlayTokenTTL <= 0 {
		a.PlayTokenTTL = 5 * time.Minute
	}
	a.warming = map[string]bool{}
	a.bgCtx, a.bgCancel = context.WithCancel(context.Background())
	return nil
}

// Close cancels and waits for the background stream starts. A request
// still in flight starts none after it (see prewarm).
func (a *API) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	if a.bgCancel != nil {
		a.bgCancel()
	}
	a.wg.Wait()
}

// handlerFunc is a route. sess is nil on public routes. It writes its answer
// or returns an error that becomes the JSON error answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *auth.Session) error

// access says who may call a route.
type access int

const (
	// accessPublic needs no login.
	accessPublic access = iota
	// accessLoggedIn needs a login, even one that must change its password.
	accessLoggedIn
	// accessNormal needs a login whose password need not change.
	accessNormal
)

// route is one entry of the API's route table.
type route struct {
	// Pattern is the http.ServeMux pattern ("GET /api/v1/devices").
	Pattern string
	Access  access
	Handler handlerFunc
}

// routes is the route table: Register serves it and the OpenAPI test
// checks it against the document.
func (a *API) routes() []route {
	return []route{
		{"GET /api/v1/openapi.json", accessPublic, a.openAPI},
		{"POST /api/v1/auth/login", accessPublic, a.login},
		{"POST /api/v1/auth/logout", accessLoggedIn, a.logout},
		{"POST /api/v1/auth/password", accessLoggedIn, a.changePassword},
		{"GET /api/v1/me", accessLoggedIn, a.me},
		{"GET /api/v1/devices", accessNormal, a.listDevices},
		{"GET /api/v1/channels", accessNormal, a.listChannels},
		{"GET /api/v1/tree", accessNormal, a.tree},
		{"POST /api/v1/channels/{id}/play", accessNormal, a.play},
		{"POST /api/v1/channels/{id}/stop", accessNormal, a.stop},
		{"POST /api/v1/channels/{id}/ptz", accessNormal, a.ptz},
		{"GET /api/v1/channels/{id}/records", accessNormal, a.records},
		{"POST /api/v1/channels/{id}/probe", accessNormal, a.probeChannel},
		{"GET /api/v1/channels/{id}/probes", accessNormal, a.listProbes},
		{"GET /api/v1/channels/{id}/faults", accessNormal, a.listFaults},
		{"GET /api/v1/channels/{id}/thumbnail", accessNormal, a.thumbnail},
		{"GET /api/v1/channels/{id}/recordings", accessNormal, a.recordings},
		{"POST /api/v1/channels/{id}/playback", accessNormal, a.playback},
		{"POST /api/v1/playback/{session}/control", accessNormal, a.controlPlayback},
		{"DELETE /api/v1/playback/{session}", accessNormal, a.stopPlayback},
		{"GET /api/v1/exports", accessNormal, a.listExports},
		{"POST /api/v1/exports", accessNormal, a.createExport},
		{"GET /api/v1/exports/{id}", accessNormal, a.getExport},
		{"DELETE /api/v1/exports/{id}", accessNormal, a.deleteExport},
		{"GET /api/v1/exports/{id}/file", accessNormal, a.exportFile},
		{"GET /api/v1/events", accessNormal, a.events},
		{"GET /api/v1/departments", accessNormal, a.listDepartments},
		{"POST /api/v1/departments", accessNormal, a.createDepartment},
		{"GET /api/v1/departments/{id}", accessNormal, a.getDepartment},
		{"PATCH /api/v1/departments/{id}", accessNormal, a.updateDepartment},
		{"DELETE /api/v1/departments/{id}", accessNormal, a.deleteDepartment},
		{"GET /api/v1/users", accessNormal, a.listUsers},
		{"POST /api/v1/users", accessNormal, a.createUser},
		{"GET /api/v1/users/{id}", accessNormal, a.getUser},
		{"PATCH /api/v1/users/{id}", accessNormal, a.updateUser},
		{"DELETE /api/v1/users/{id}", accessNormal, a.deleteUser},
		{"POST /api/v1/users/{id}/password-reset", accessNormal, a.resetPassword},
		{"POST /api/v1/users/{id}/sessions/revoke", accessNormal, a.revokeSessions},
		{"GET /api/v1/departments/{id}/grants", accessNormal, a.listGrants},
		{"POST /api/v1/departments/{id}/grants", accessNormal, a.createGrant},
		{"DELETE /api/v1/grants/{id}", accessNormal, a.deleteGrant},
		{"PUT /api/v1/channels/{id}/owner", accessNormal, a.setChannelOwner},
		{"PUT /api/v1/devices/{id}/owner", accessNormal, a.setDeviceOwner},
		{"PUT /api/v1/regions/{code}/owner", accessNormal, a.setRegionOwner},
		{"GET /api/v1/owners", accessNormal, a.listOwners},
		{"GET /api/v1/audit", accessNormal, a.listAudit},
		{"GET /api/v1/audit/export", accessNormal, a.exportAudit},
		{"GET /api/v1/audit/verify", accessNormal, a.verifyAudit},
		{"GET /api/v1/channels/{id}/record-plan", accessNormal, a.effectiveRecordPlan},
		{"GET /api/v1/record-plans", accessNormal, a.listRecordPlans},
		{"PUT /api/v1/record-plans/{kind}/{target}", accessNormal, a.putRecordPlan},
		{"DELETE /api/v1/record-plans/{kind}/{target}", accessNormal, a.deleteRecordPlan},
		{"GET /api/v1/recorders", accessNormal, a.listRecorders},
		{"GET /api/v1/platforms", accessNormal, a.listPlatforms},
		{"POST /api/v1/platforms", accessNormal, a.createPlatform},
		{"GET /api/v1/platforms/{id}", accessNormal, a.getPlatform},
		{"PATCH /api/v1/platforms/{id}", accessNormal, a.updatePlatform},
		{"DELETE /api/v1/platforms/{id}", accessNormal, a.deletePlatform},
		{"GET /api/v1/platforms/{id}/grants", accessNormal, a.listPlatformGrants},
		{"POST /api/v1/platforms/{id}/grants", accessNormal, a.createPlatformGrant},
		{"GET /api/v1/platforms/{id}/names", accessNormal, a.listPlatformNames},
		{"PUT /api/v1/platforms/{id}/names", accessNormal, a.setPlatformNames},
		{"GET /api/v1/platforms/{id}/groups", accessNormal, a.getPlatformGroups},
		{"PUT /api/v1/platforms/{id}/groups", accessNormal, a.setPlatformGroups},
		{"DELETE /api/v1/platform-grants/{id}", accessNormal, a.deletePlatformGrant},
	}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		mux.Handle(rt.Pattern, a.handle(rt.Handler, rt.Access))
	}
	// Everything else under /api/ is a JSON 404, never the UI's page.
	mux.Handle("/api/", a.handle(a.notFound, accessPublic))
}

// handle wraps h with the input check, authentication, the CSRF check, the
// must-change gate and the JSON error answer.
func (a *API) handle(h handlerFunc, acc access) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r.Body = http.MaxBytesReader(w, r.Body, svcapi.MaxBody)
		// Before anything reads them: a NUL byte or invalid UTF-8 in the path,
		// the query or a header we read is a 400, never a database error.
		if err := input.Request(r); err != nil {
			a.fail(w, r, err)
			return
		}
		// Every audit row of the request (logins included) says from which client.
		r = r.WithContext(auth.WithUserAgent(r.Context(), r.UserAgent()))
		var sess *auth.Session
		if acc != accessPublic {
			s, err := a.authenticate(r, acc)
			if err != nil {
				if s.User.ID != 0 {
					// A logged-in user refused (CSRF, password change pending).
					a.deny(r, &s, r.URL.Path, err)
				}
				a.fail(w, r, err)
				return
			}
			sess = &s
		}
		if err := h(w, r, sess); err != nil {
			a.fail(w, r, err)
		}
	})
}

func (a *API) authenticate(r *http.Request, acc access) (auth.Session, error) {
	if a.Auth == nil {
		return auth.Session{}, auth.ErrUnauthenticated
	}
	sess, err := a.Auth.Authenticate(r)
	if err != nil {
		return sess, err
	}
	if !auth.CheckCSRF(r, sess) {
		return sess, newError(http.StatusForbidden, CodeCSRF, "missing or wrong %s header", auth.CSRFHeader)
	}
	if acc == accessNormal && sess.User.MustChangePassword {
		return sess, newError(http.StatusForbidden, CodePasswordChangeRequired, "password change required")
	}
	return sess, nil
}

// fail writes err as the JSON error answer and logs it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	log := a.logger()
	// The path is logged quoted: it may be what an attacker sent.
	path := strconv.QuoteToASCII(r.URL.Path)
	switch {
	case status >= 500:
		log.Warn("API error", "method", r.Method, "path", path, "remote", a.remote(r), "status", status,
			"code", code, "error", err)
	case status == http.StatusUnauthorized && code == CodeUnauthenticated:
		log.Debug("API refused", "method", r.Method, "path", path, "remote", a.remote(r), "status", status)
	default:
		log.Info("API refused", "method", r.Method, "path", path, "remote", a.remote(r), "status", status,
			"code", code, "error", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sharpeyes"`)
	}
	if after := retryAfter(err, a.now()); after > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(after))
	}
	svcapi.WriteJSON(w, status, ErrorBody{Error: msg, Code: code})
}

// remote is the client's address (see auth.Proxies).
func (a *API) remote(r *http.Request) string { return a.Proxies.ClientAddr(r) }

func (a *API) logger() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

func (a *API) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func badRequest(format string, args ...any) error { return svcapi.BadRequest(format, args...) }

func (a *API) notFound(_ http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	return newError(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path)
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ *auth.Session) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
	return nil
}
