package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/probe"
	"github.com/sharpeyes/sharpeyes/internal/ptzlock"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// quiet keeps the tests' output to failures; SHARPEYES_TEST_LOG=1 shows everything.
var quiet = func() *slog.Logger {
	if os.Getenv("SHARPEYES_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.DiscardHandler)
}()

// cheap keeps password hashing fast in tests.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	serviceToken = "service-token-0123456789"
	playSecret   = "play-secret-0123456789-0123456789-0123456789"
	deviceA      = "34020000001320000001"
	deviceB      = "34020000001320000002"
	channelA1    = "34020000001310000001"
	channelA2    = "34020000001310000002"
	channelB1    = "34020000001310000011"
)

// sipCall is one request the sipserver double received.
type sipCall struct {
	Method, Path, Query, Body, Auth string
}

// sipDouble stands in for sipserver's internal API.
type sipDouble struct {
	mu    sync.Mutex
	calls []sipCall
	// answer overrides the default answer of a "METHOD /path" when set.
	answer map[string]func(w http.ResponseWriter, body []byte)
	srv    *httptest.Server
	seq    int
	// sessions are the playback sessions created, by id;
	// created their ids in order.
	sessions map[string]map[string]any
	created  []string
	// locks answer POST /internal/v1/ptz-locks as sipserver's do.
	locks *ptzlock.Locks
}

func newSipDouble(t *testing.T) *sipDouble {
	d := &sipDouble{answer: map[string]func(http.ResponseWriter, []byte){}, sessions: map[string]map[string]any{}}
	d.useLocks(0, time.Now)
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

// useLocks gives the double PTZ locks of idle time idle on the clock now.
func (d *sipDouble) useLocks(idle time.Duration, now func() time.Time) {
	l := &ptzlock.Locks{Idle: idle, Now: now}
	if err := l.Initialize(); err != nil {
		panic(err)
	}
	d.mu.Lock()
	d.locks = l
	d.mu.Unlock()
}

// lockPTZ answers a PTZ lock request as sipserver.Server.LockPTZ does.
func (d *sipDouble) lockPTZ(w http.ResponseWriter, body []byte) {
	var req sipapi.PTZLockRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "code": "bad_request"})
		return
	}
	d.mu.Lock()
	locks := d.locks
	d.mu.Unlock()
	c := req.Controller
	res, err := locks.Acquire(req.DeviceID+"/"+req.ChannelID, ptzlock.User{ID: c.ID, Username: c.Name, Priority: c.Priority})
	var locked *ptzlock.LockedError
	switch {
	case errors.As(err, &locked):
		h := locked.Holder
		writeJSON(w, http.StatusOK, sipapi.PTZLock{
			Holder: sipapi.PTZController{ID: h.ID, Name: h.Username, Priority: h.Priority}, Until: h.Until.UTC(),
		})
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "code": "bad_request"})
	default:
		out := sipapi.PTZLock{Granted: true, Holder: c, Until: res.Holder.Until.UTC()}
		if t := res.TookOver; t != nil {
			out.TookOver = &sipapi.PTZController{ID: t.ID, Name: t.Username, Priority: t.Priority}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (d *sipDouble) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	d.mu.Lock()
	d.calls = append(d.calls, sipCall{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header.Get("Authorization")})
	custom := d.answer[key]
	d.seq++
	seq := d.seq
	d.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+serviceToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong service token"})
		return
	}
	if custom != nil {
		custom(w, body)
		return
	}
	switch {
	case key == "POST "+sipapi.PathPTZLocks:
		d.lockPTZ(w, body)
	case strings.HasSuffix(r.URL.Path, "/ptz"):
		writeJSON(w, http.StatusOK, map[string]string{"ptz_cmd": "A50F010A64648007"})
	case strings.HasSuffix(r.URL.Path, "/records"):
		writeJSON(w, http.StatusOK, map[string]any{"items": []map[string]any{{
			"name": "rec1", "start": "2024-05-01T08:00:00Z",
			"end": "2024-05-01T09:00:00Z", "type": "time", "secrecy": 0,
		}}, "total": 1, "sum_num": 1, "partial": false})
	case key == "POST /internal/v1/streams/needed":
		writeJSON(w, http.StatusOK, map[string]any{"id": "s-live", "kind": "play", "state": "active"})
	case key == "POST /internal/v1/streams/idle":
		w.WriteHeader(http.StatusNoContent)
	case key == "POST /internal/v1/sessions":
		var req struct {
			Kind      string `json:"kind"`
			ChannelID string `json:"channel_id"`
			Owner     string `json:"owner"`
		}
		_ = json.Unmarshal(body, &req)
		id := req.Kind + "-" + string(rune('a'+seq%26)) + strconv.Itoa(seq)
		s := map[string]any{
			"id": id, "kind": req.Kind, "device_id": deviceA, "channel_id": req.ChannelID,
			"path": req.Kind + "/" + id, "state": "active", "active_at": time.Now().UTC().Format(time.RFC3339), "owner": req.Owner,
		}
		d.mu.Lock()
		d.sessions[id] = s
		d.created = append(d.created, id)
		d.mu.Unlock()
		writeJSON(w, http.StatusCreated, s)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/internal/v1/sessions/"):
		id := strings.TrimPrefix(r.URL.Path, "/internal/v1/sessions/")
		d.mu.Lock()
		s, ok := d.sessions[id]
		d.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "session " + id + ": store: not found"})
			return
		}
		writeJSON(w, http.StatusOK, s)
	case r.Method == http.MethodDelete, strings.HasSuffix(r.URL.Path, "/control"):
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no route"})
	}
}

// callsTo returns the calls of "METHOD /path".
func (d *sipDouble) callsTo(key string) []sipCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []sipCall
	for _, c := range d.calls {
		if c.Method+" "+c.Path == key {
			out = append(out, c)
		}
	}
	return out
}

// createdSince returns the ids of the sessions created after the first n.
func (d *sipDouble) createdSince(n int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.created[n:]...)
}

// waitCall waits for a call to key, within the bound of one call to sipserver.
func (d *sipDouble) waitCall(t *testing.T, key string) sipCall {
	t.Helper()
	testsupport.Eventually(t, console.SipCallTimeout, "sipserver gets "+key, func() bool { return len(d.callsTo(key)) > 0 })
	return d.callsTo(key)[0]
}

// beforeDeadline fires 10 s before the test binary's own deadline (go test
// -timeout), so that a wait bounded by it fails with its own message
// instead of the binary's panic; without a deadline it never fires.
func beforeDeadline(t *testing.T) <-chan time.Time {
	deadline, ok := t.Deadline()
	if !ok {
		return nil
	}
	timer := time.NewTimer(time.Until(deadline) - 10*time.Second)
	t.Cleanup(func() { timer.Stop() })
	return timer.C
}

// env is a console API on a fresh database with a sipserver double.
type env struct {
	t  *testing.T
	st *consoledb.DB
	// devices writes the catalog the tests read, as sipserver would.
	devices *sipdb.DB
	sip     *sipDouble
	api     *console.API
	auth    *auth.Service
	signer  *playtoken.Signer
	srv     *httptest.Server
	events  *console.Events
	options envOptions
}

type envOptions struct {
	// failOpen runs the API with audit.fail_closed off.
	failOpen    bool
	noSigner    bool
	maxFailures int
	storeURL    string
	// pingInterval of the event streams (default an hour: no pings).
	pingInterval time.Duration
	// ipMaxFailures of the login (default 30).
	ipMaxFailures int
	// proxies are the trusted reverse proxies.
	proxies []netip.Prefix
	// now is the API's clock (grants' validity and daily hours); nil: the wall clock.
	now func() time.Time
	// prober probes the channels (nil: the API has none).
	prober *probe.Prober
}

func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	if opts.storeURL == "" {
		opts.storeURL = pgtest.NewDB(t)
	}
	base := storetest.Open(t, opts.storeURL, 6)
	st := consoledb.New(base)
	e := &env{t: t, st: st, devices: sipdb.New(base), sip: newSipDouble(t), options: opts}
	if opts.maxFailures == 0 {
		opts.maxFailures = 5
	}
	// AuditFailOpen is set only for failOpen: the other tests check the
	// components as built without a word about the audit log.
	e.auth = &auth.Service{
		Store: st, SessionTTL: time.Hour, MaxFailures: opts.maxFailures, Lockout: 15 * time.Minute, Params: cheap,
		IPMaxFailures: opts.ipMaxFailures, Log: quiet,
	}
	if opts.failOpen {
		e.auth.AuditFailOpen = true
	}
	if err := e.auth.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.auth.Close)
	if err := e.auth.EnsureAdmin(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	if !opts.noSigner {
		var err error
		if e.signer, err = playtoken.NewSigner([]byte(playSecret)); err != nil {
			t.Fatal(err)
		}
	}
	sip := &sipapi.Client{BaseURL: e.sip.srv.URL, Token: serviceToken, Timeout: console.SipCallTimeout}
	if opts.pingInterval == 0 {
		opts.pingInterval = time.Hour
	}
	e.events = &console.Events{Store: st, PingInterval: opts.pingInterval, Log: quiet}
	if err := e.events.Initialize(); err != nil {
		t.Fatal(err)
	}
	e.api = &console.API{
		Store: st, Auth: e.auth, Sip: sip, Signer: e.signer, PublicURL: "http://media.example:8888",
		RTSPURL: "rtsp://media.example:8554", PlayTokenTTL: 5 * time.Minute, RecorderToken: serviceToken, Events: e.events,
		Proxies: auth.Proxies{Trusted: opts.proxies}, Log: quiet, Now: opts.now,
	}
	if opts.failOpen {
		e.api.AuditFailOpen = true
	}
	if opts.prober != nil {
		if err := opts.prober.Initialize(); err != nil {
			t.Fatal(err)
		}
		e.api.Prober = opts.prober
	}
	if err := e.api.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.api.Register(mux)
	(&console.InternalAPI{Store: st, Token: serviceToken, Log: quiet}).Register(mux)
	e.srv = httptest.NewServer(validated(t, mux))
	// Cleanups run last-in first-out: events end the SSE streams before the server closes.
	t.Cleanup(e.api.Close)
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.events.Close)
	return e
}

// validated checks every request to a documented route, and its answer,
// against the console's OpenAPI documents (the public one under /api/, the
// internal one under /internal/). The catch-alls' JSON 404s are not
// documented routes and pass unchecked.
func validated(t *testing.T, mux *http.ServeMux) http.Handler {
	public := apitest.NewValidator(t, console.OpenAPI).Handler(t, mux)
	internal := apitest.NewValidator(t, console.InternalOpenAPI).Handler(t, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch _, pattern := mux.Handler(r); {
		case pattern == "/api/" || pattern == "/internal/" || pattern == "":
			mux.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/internal/"):
			internal.ServeHTTP(w, r)
		default:
			public.ServeHTTP(w, r)
		}
	})
}

// addUser creates a user who needs no password change.
func (e *env) addUser(name, password, role string) {
	e.t.Helper()
	h, err := auth.HashPassword(password, cheap)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.CreateUser(context.Background(), store.User{Username: name, PasswordHash: h, Role: role}); err != nil {
		e.t.Fatal(err)
	}
	if role != store.RoleAdmin {
		e.joinStaff(name)
	}
}

// seed stores two devices with channels; deviceA and channelA1 online.
func (e *env) seed() {
	e.t.Helper()
	ctx := context.Background()
	for _, d := range []store.Device{
		{ID: deviceA, Name: "Gate", Manufacturer: "Hikvision", Model: "DS-2CD"},
		{ID: deviceB, Name: "Yard", Manufacturer: "Dahua", Model: "IPC"},
	} {
		if err := e.devices.UpsertDevice(ctx, d); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.devices.SyncCatalog(ctx, deviceA, []store.Channel{
		{ID: "340201", Name: "Xuanwu District", Parental: true},
		{ID: channelA1, Name: "Gate east", CivilCode: "34020101", PTZType: 1},
		{ID: channelA2, Name: "Gate west", CivilCode: "34020100"},
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.devices.SyncCatalog(ctx, deviceB, []store.Channel{{ID: channelB1, Name: "Yard"}}); err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	if _, err := e.devices.ApplyStatusChanges(ctx, []store.StatusChange{
		{DeviceID: deviceA, Online: true, Cause: "register", At: now},
		{DeviceID: deviceA, ChannelID: channelA1, Online: true, Cause: "catalog", At: now},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// client talks to the API like the browser (cookie jar) or a script (Bearer).
type client struct {
	t      *testing.T
	base   string
	hc     *http.Client
	bearer string
	csrf   string
	// header is added to every request (X-Forwarded-For behind a trusted proxy).
	header http.Header
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.srv.URL, hc: &http.Client{Jar: jar}}
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// code returns the "code" of an error answer.
func (r response) code() string {
	var e console.ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e.Code
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.csrf != "" {
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// loginResponse is the login answer.
type loginResponse struct {
	Token              string `json:"token"`
	MustChangePassword bool   `json:"must_change_password"`
	CSRFToken          string `json:"csrf_token"`
	User               struct {
		Username string `json:"username"`
		Role     string `json:"role"`
	} `json:"user"`
}

// login logs in with the cookie (and keeps the CSRF token); it fails the test unless it gets 200.
func (c *client) login(user, password string) loginResponse {
	c.t.Helper()
	r := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": password})
	if r.Status != http.StatusOK {
		c.t.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	var out loginResponse
	r.json(c.t, &out)
	c.csrf = out.CSRFToken
	return out
}

// mustStatus fails the test unless r has status (and, when code is set, that error code).
func mustStatus(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.code() != code) {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
}

// breakAudit makes every audit_log insert fail, as a full disk or a revoked
// grant would.
func (e *env) breakAudit() {
	e.t.Helper()
	_, err := e.st.Pool.Exec(context.Background(), `
CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is read-only in this test'; END $$;
CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();`)
	if err != nil {
		e.t.Fatal(err)
	}
}

// actions counts the audit rows by action, of user when set.
func (e *env) actions(user string) map[string]int {
	e.t.Helper()
	entries, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: user, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, en := range entries {
		out[en.Action]++
	}
	return out
}
