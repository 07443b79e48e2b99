package console

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

//go:embed openapi.json
var openAPI []byte

// prewarmTimeout bounds the background stream start of a play call.
const prewarmTimeout = 20 * time.Second

// maxRange bounds the time range of record queries, playback and downloads.
const maxRange = 31 * 24 * time.Hour

// API is the console's public API under /api/v1: login, devices, channels,
// the tree, live play, PTZ, records, playback, downloads and events.
type API struct {
	Store *store.Store
	Auth  *auth.Service
	Sip   *SipserverClient
	// Signer mints play tokens; nil disables play, playback and download (503).
	Signer *playtoken.Signer
	// PublicURL and RTSPURL are the bases of the returned WHEP/HLS and RTSP URLs.
	PublicURL, RTSPURL string
	// PlayTokenTTL is the lifetime of minted play tokens.
	PlayTokenTTL time.Duration
	Downloads    *Downloads
	Events       *Events
	// Proxies says whose X-Forwarded-For and X-Forwarded-Proto are believed.
	Proxies auth.Proxies
	// AuditFailOpen lets a video access (play, playback, its control, PTZ,
	// download, a download's file) go on when its audit row cannot be
	// written (the failure is logged). The zero value refuses it (503
	// audit_unavailable): an API built without configuration fails closed.
	AuditFailOpen bool
	Log           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

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

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	public := func(pattern string, h handlerFunc) { mux.Handle(pattern, a.handle(h, accessPublic)) }
	always := func(pattern string, h handlerFunc) { mux.Handle(pattern, a.handle(h, accessLoggedIn)) }
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, a.handle(h, accessNormal)) }

	public("GET /api/v1/openapi.json", a.openAPI)
	public("POST /api/v1/auth/login", a.login)
	always("POST /api/v1/auth/logout", a.logout)
	always("POST /api/v1/auth/password", a.changePassword)
	always("GET /api/v1/me", a.me)
	route("GET /api/v1/devices", a.listDevices)
	route("GET /api/v1/channels", a.listChannels)
	route("GET /api/v1/tree", a.tree)
	route("POST /api/v1/channels/{id}/play", a.play)
	route("POST /api/v1/channels/{id}/stop", a.stop)
	route("POST /api/v1/channels/{id}/ptz", a.ptz)
	route("GET /api/v1/channels/{id}/records", a.records)
	route("POST /api/v1/channels/{id}/playback", a.playback)
	route("POST /api/v1/playback/{session}/control", a.controlPlayback)
	route("DELETE /api/v1/playback/{session}", a.stopPlayback)
	route("POST /api/v1/channels/{id}/download", a.download)
	route("GET /api/v1/downloads/{id}", a.getDownload)
	route("DELETE /api/v1/downloads/{id}", a.deleteDownload)
	route("GET /api/v1/downloads/{id}/file", a.downloadFile)
	route("GET /api/v1/events", a.events)
	// Everything else under /api/ is a JSON 404, never the UI's page.
	public("/api/", a.notFound)
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

// userJSON is a user as the API shows it.
type userJSON struct {
	Username           string `json:"username"`
	Role               string `json:"role"`
	MustChangePassword bool   `json:"must_change_password"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{Username: u.Username, Role: u.Role, MustChangePassword: u.MustChangePassword}
}

func (a *API) login(w http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	// Only a JSON body: a cross-site HTML form cannot send one without CORS,
	// so no other site can log a browser in (login CSRF).
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, CodeBadRequest, "Content-Type must be application/json")
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	raw, err := input.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if a.Auth == nil {
		return auth.ErrInvalidCredentials
	}
	// DecodeJSON fills in even when it refuses the text, so that a refused
	// username is audited; every refused body is a failed login of the
	// address, and one from a blocked address is answered like its other
	// logins (429).
	err = input.DecodeJSON(raw, &in)
	if err == nil && (in.Username == "" || in.Password == "") {
		err = badRequest("username and password are required")
	}
	if err != nil {
		// A blocked address gets its 429 whatever it sends, and no audit row.
		if rerr := a.Auth.RefuseLogin(r.Context(), in.Username, a.remote(r), "refused body: "+err.Error()); rerr != nil {
			return rerr
		}
		return err
	}
	// Over-long usernames and passwords go the whole way too: they fail like
	// an unknown user or a wrong password (a password over
	// auth.MaxPasswordLen is refused without hashing, whoever the user).
	res, err := a.Auth.Login(r.Context(), in.Username, in.Password, a.remote(r))
	if err != nil {
		return err
	}
	auth.SetCookie(w, a.Proxies.Secure(r), res.Token, res.Session.ExpiresAt)
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"token":                res.Token,
		"must_change_password": res.Session.User.MustChangePassword,
		"csrf_token":           res.Session.CSRFToken,
		"expires":              res.Session.ExpiresAt.UTC().Format(time.RFC3339),
		"user":                 toUserJSON(res.Session.User),
	})
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.Auth.Logout(r.Context(), *sess, a.remote(r)); err != nil {
		return err
	}
	auth.ClearCookie(w, a.Proxies.Secure(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.OldPassword == "" || in.NewPassword == "" {
		return badRequest("old_password and new_password are required")
	}
	if err := a.Auth.ChangePassword(r.Context(), *sess, in.OldPassword, in.NewPassword, a.remote(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, _ *http.Request, sess *auth.Session) error {
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"user":       toUserJSON(sess.User),
		"csrf_token": sess.CSRFToken,
		"expires":    sess.ExpiresAt.UTC().Format(time.RFC3339),
	})
	return nil
}

// listResponse is the shape of every list.
type listResponse[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// writeList answers items, each as toJSON shows it, and the total.
func writeList[S, T any](w http.ResponseWriter, items []S, total int, toJSON func(S) T) {
	out := listResponse[T]{Items: make([]T, 0, len(items)), Total: total}
	for _, it := range items {
		out.Items = append(out.Items, toJSON(it))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
}

// page reads limit, offset, online and q.
func page(r *http.Request) (limit, offset int, online *bool, q string, err error) {
	query := r.URL.Query()
	if v := query.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, nil, "", badRequest("limit must be 1–1000, got %q", v)
		}
	}
	if v := query.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, nil, "", badRequest("offset must be ≥ 0, got %q", v)
		}
	}
	if v := query.Get("online"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, 0, nil, "", badRequest("online must be true or false, got %q", v)
		}
		online = &b
	}
	q = query.Get("q")
	if len(q) > 200 {
		return 0, 0, nil, "", badRequest("q is too long")
	}
	return limit, offset, online, q, nil
}

// deviceJSON is a device as the API shows it.
type deviceJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Online        bool       `json:"online"`
	Manufacturer  string     `json:"manufacturer"`
	Model         string     `json:"model"`
	Firmware      string     `json:"firmware"`
	Transport     string     `json:"transport"`
	RemoteAddr    string     `json:"remote_addr"`
	GBVersion     string     `json:"gb_version"`
	ChannelCount  int        `json:"channel_count"`
	RegisteredAt  *time.Time `json:"registered_at,omitempty"`
	LastKeepalive *time.Time `json:"last_keepalive,omitempty"`
}

func toDeviceJSON(d store.Device) deviceJSON {
	return deviceJSON{
		ID: d.ID, Name: d.Name, Online: d.Online, Manufacturer: d.Manufacturer, Model: d.Model,
		Firmware: d.Firmware, Transport: d.Transport, RemoteAddr: d.RemoteAddr, GBVersion: d.GBVersion,
		ChannelCount: d.ChannelCount, RegisteredAt: d.RegisteredAt, LastKeepalive: d.LastKeepaliveAt,
	}
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	limit, offset, online, q, err := page(r)
	if err != nil {
		return err
	}
	devs, total, err := a.Store.ListDevices(r.Context(), store.DeviceFilter{Online: online, Text: q, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writeList(w, devs, total, toDeviceJSON)
	return nil
}

// channelJSON is a channel as the API shows it.
type channelJSON struct {
	ID              string   `json:"id"`
	DeviceID        string   `json:"device_id"`
	Name            string   `json:"name"`
	Online          bool     `json:"online"`
	Status          string   `json:"status"`
	PTZType         int      `json:"ptz_type"`
	CivilCode       string   `json:"civil_code"`
	ParentID        string   `json:"parent_id"`
	BusinessGroupID string   `json:"business_group_id,omitempty"`
	Address         string   `json:"address"`
	Manufacturer    string   `json:"manufacturer"`
	Model           string   `json:"model"`
	Parental        bool     `json:"parental"`
	Longitude       *float64 `json:"longitude,omitempty"`
	Latitude        *float64 `json:"latitude,omitempty"`
}

func toChannelJSON(c store.Channel) channelJSON {
	return channelJSON{
		ID: c.ID, DeviceID: c.DeviceID, Name: c.Name, Online: c.Online, Status: c.Status, PTZType: c.PTZType,
		CivilCode: c.CivilCode, ParentID: c.ParentID, BusinessGroupID: c.BusinessGroupID, Address: c.Address,
		Manufacturer: c.Manufacturer, Model: c.Model, Parental: c.Parental, Longitude: c.Longitude, Latitude: c.Latitude,
	}
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	limit, offset, online, q, err := page(r)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	chs, total, err := a.Store.ListChannels(r.Context(), store.ChannelFilter{
		DeviceID:  query.Get("device_id"),
		CivilCode: query.Get("civil_code"), Online: online, Text: q, Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	writeList(w, chs, total, toChannelJSON)
	return nil
}

// findChannel returns the channel of the {id} path parameter (404 when unknown).
func (a *API) findChannel(r *http.Request) (store.Channel, error) {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		return store.Channel{}, badRequest("bad channel id %q", id)
	}
	return a.Store.FindChannel(r.Context(), id)
}

// playJSON is the answer of play and playback: where the stream is and how long the token lasts.
type playJSON struct {
	SessionID string     `json:"session_id,omitempty"`
	Path      string     `json:"path"`
	WHEP      string     `json:"whep"`
	HLS       string     `json:"hls"`
	RTSP      string     `json:"rtsp"`
	Expires   string     `json:"expires"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"`
}

// mint issues a play token for exactly path with right and builds the URLs.
func (a *API) mint(path, right, subject string) (playJSON, error) {
	if a.Signer == nil {
		return playJSON{}, ErrPlayDisabled
	}
	now := a.now()
	exp := now.Add(a.PlayTokenTTL)
	tok, err := a.Signer.Issue(playtoken.Claims{
		Subject: subject, Paths: []string{path}, Rights: []string{right},
		Expires: exp.Unix(), IssuedAt: now.Unix(),
	})
	if err != nil {
		return playJSON{}, err
	}
	q := "?token=" + url.QueryEscape(tok)
	escaped := escapePath(path)
	base := strings.TrimRight(a.PublicURL, "/")
	return playJSON{
		Path:    path,
		WHEP:    base + "/whep/" + escaped + q,
		HLS:     base + "/hls/" + escaped + "/index.m3u8" + q,
		RTSP:    strings.TrimRight(a.RTSPURL, "/") + "/" + escaped + q,
		Expires: exp.UTC().Format(time.RFC3339),
	}, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// LivePath is the mediagw path of a channel's live stream.
func LivePath(channelID string) string { return "live/" + channelID }

func (a *API) play(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	path := LivePath(ch.ID)
	// Audited before the token exists: no unaudited access (fail closed).
	if err := a.audit(r, sess, "play", ch.ID, map[string]any{"path": path, "device_id": ch.DeviceID}); err != nil {
		return err
	}
	out, err := a.mint(path, playtoken.RightLive, sess.User.Username)
	if err != nil {
		return err
	}
	a.prewarm(path)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// prewarm asks sipserver for the stream in the background, so that the
// device is already being invited while the browser sets up WebRTC; mediagw
// would ask too once the WHEP request arrives. Errors are only logged: the
// viewer sees them from mediagw.
func (a *API) prewarm(path string) {
	if a.Sip == nil || a.bgCtx == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// Started under the lock Close takes first: no goroutine after Close's Wait.
	if a.closed || a.warming[path] {
		return
	}
	a.warming[path] = true
	a.wg.Go(func() {
		defer func() {
			a.mu.Lock()
			delete(a.warming, path)
			a.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(a.bgCtx, prewarmTimeout)
		defer cancel()
		if err := a.Sip.StreamNeeded(ctx, path); err != nil && a.bgCtx.Err() == nil {
			a.logger().Info("stream pre-start failed", "path", path, "error", err)
		}
	})
}

func (a *API) stop(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in struct {
		Force bool `json:"force"`
	}
	if err := input.ReadJSON(r.Body, &in, true); err != nil {
		return err
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	path := LivePath(ch.ID)
	if in.Force && sess.User.Role != store.RoleAdmin {
		err := fmt.Errorf("force stop: %w", ErrForbidden)
		a.deny(r, sess, ch.ID, err)
		return err
	}
	// A stop is never held up by the audit log: it ends access.
	a.note(r, sess, "stop", ch.ID, map[string]any{"path": path, "force": in.Force})
	if in.Force {
		// Ends the shared session for every viewer now; without force the
		// stream ends by itself when mediagw sees no viewer.
		if err := a.Sip.StreamIdle(r.Context(), path); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) ptz(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	raw, err := input.ReadAll(r.Body)
	if err != nil {
		return err
	}
	// The body goes to sipserver as it is: its text is checked here.
	if err := input.CheckJSON(raw); err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		return badRequest("body must be a JSON object like {\"action\":\"move\",\"directions\":[\"left\"],\"speed\":128}")
	}
	var action string
	if err := json.Unmarshal(body["action"], &action); err != nil || action == "" {
		return badRequest("action is required")
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	if err := a.audit(r, sess, "ptz", ch.ID, map[string]any{"action": action}); err != nil {
		return err
	}
	out, err := a.Sip.PTZ(r.Context(), ch.DeviceID, ch.ID, raw)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		out = json.RawMessage("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

// parseTime accepts RFC 3339, or a local time without zone (2006-01-02T15:04:05).
func parseTime(key, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, badRequest("%s is required", key)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", v, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest("%s: want RFC 3339 (2006-01-02T15:04:05Z07:00), got %q", key, v)
}

func checkRange(start, end time.Time) error {
	if !end.After(start) {
		return badRequest("end must be after start")
	}
	if end.Sub(start) > maxRange {
		return badRequest("the range must be at most %s", maxRange)
	}
	return nil
}

func (a *API) records(w http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	q := r.URL.Query()
	start, err := parseTime("start", q.Get("start"))
	if err != nil {
		return err
	}
	end, err := parseTime("end", q.Get("end"))
	if err != nil {
		return err
	}
	if err := checkRange(start, end); err != nil {
		return err
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	recs, err := a.Sip.Records(r.Context(), ch.DeviceID, ch.ID, start, end)
	if err != nil {
		return err
	}
	if recs.Items == nil {
		recs.Items = []Record{}
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"items": recs.Items, "total": len(recs.Items), "partial": recs.Partial})
	return nil
}

// rangeBody is the body of playback and download.
type rangeBody struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Speed int    `json:"speed"`
}

func (b rangeBody) parse() (start, end time.Time, err error) {
	if start, err = parseTime("start", b.Start); err != nil {
		return start, end, err
	}
	if end, err = parseTime("end", b.End); err != nil {
		return start, end, err
	}
	return start, end, checkRange(start, end)
}

func (a *API) playback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	var in rangeBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	start, end, err := in.parse()
	if err != nil {
		return err
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	s, err := a.Sip.CreateSession(r.Context(), SessionRequest{
		Kind: KindPlayback, ChannelID: ch.ID, Start: start, End: end, Owner: sess.User.Username,
	})
	if err != nil {
		return err
	}
	err = a.audit(r, sess, "playback", ch.ID, map[string]any{
		"session_id": s.ID, "path": s.Path,
		"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339),
	})
	if err == nil {
		var out playJSON
		if out, err = a.mint(s.Path, playtoken.RightPlayback, sess.User.Username); err == nil {
			out.SessionID, out.Start, out.End = s.ID, &start, &end
			svcapi.WriteJSON(w, http.StatusOK, out)
			return nil
		}
	}
	// Nobody will watch it: the device stops sending now.
	a.Sip.endSession(r.Context(), s.ID, a.logger())
	return err
}

func (a *API) controlPlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in ControlRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	switch in.Action {
	case "pause", "resume":
	case "seek":
		if in.Position == nil || *in.Position < 0 {
			return badRequest("seek needs position ≥ 0 (seconds from the range start)")
		}
	case "scale":
		if in.Scale == nil || *in.Scale < 0.25 || *in.Scale > 8 {
			return badRequest("scale needs scale between 0.25 and 8")
		}
	default:
		return badRequest("action must be pause, resume, seek or scale, got %q", in.Action)
	}
	s, _, err := a.ownSession(r, sess, KindPlayback, false)
	if err != nil {
		return err
	}
	detail := map[string]any{"action": in.Action}
	if in.Position != nil {
		detail["position"] = *in.Position
	}
	if in.Scale != nil {
		detail["scale"] = *in.Scale
	}
	if err := a.audit(r, sess, "playback_control", s.ID, detail); err != nil {
		return err
	}
	if err := a.Sip.ControlSession(r.Context(), s.ID, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) stopPlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// An admin may force-stop anyone's playback; the row says so.
	s, forced, err := a.ownSession(r, sess, KindPlayback, true)
	if err != nil {
		return err
	}
	if err := a.Sip.DeleteSession(r.Context(), s.ID); err != nil {
		return err
	}
	detail := map[string]any{"channel_id": s.ChannelID}
	if forced {
		detail["forced"], detail["owner"] = true, s.Owner
	}
	a.note(r, sess, "playback_stop", s.ID, detail)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) download(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	if a.Downloads == nil {
		return newError(http.StatusServiceUnavailable, CodePlayDisabled, "downloads are disabled")
	}
	var in rangeBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	start, end, err := in.parse()
	if err != nil {
		return err
	}
	switch in.Speed {
	case 0:
		in.Speed = 1
	case 1, 2, 4, 8:
	default:
		return badRequest("speed must be 1, 2, 4 or 8, got %d", in.Speed)
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	// The row is written once sipserver made the session and before ffmpeg reads it.
	st, err := a.Downloads.Start(r.Context(), sess.User.Username, ch, start, end, in.Speed, func(st DownloadStatus) error {
		return a.audit(r, sess, "download", ch.ID, map[string]any{
			"download_id": st.ID, "session_id": st.SessionID,
			"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339), "speed": in.Speed,
		})
	})
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusAccepted, map[string]any{"id": st.ID, "state": st.State})
	return nil
}

func (a *API) getDownload(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, _, err := a.ownDownload(r, sess, false)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, st)
	return nil
}

// deleteDownload stops a running download or removes a finished one's file:
// its owner, or an admin (forced, audited).
func (a *API) deleteDownload(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, forced, err := a.ownDownload(r, sess, true)
	if err != nil {
		return err
	}
	if err := a.Downloads.Remove(st.ID); err != nil {
		return err
	}
	detail := map[string]any{"download_id": st.ID, "session_id": st.SessionID, "state": st.State}
	if forced {
		detail["forced"], detail["owner"] = true, st.User
	}
	a.note(r, sess, "download_delete", st.ChannelID, detail)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) downloadFile(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, _, err := a.ownDownload(r, sess, false)
	if err != nil {
		return err
	}
	if st.State != DownloadDone {
		return fmt.Errorf("download %s is %s: %w", st.ID, st.State, ErrDownloadNotReady)
	}
	f, info, err := a.Downloads.Open(st.ID)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := a.audit(r, sess, "download_file", st.ChannelID, map[string]any{"download_id": st.ID, "bytes": info.Size()}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": st.FileName()}))
	http.ServeContent(w, r, "", info.ModTime(), f)
	return nil
}
