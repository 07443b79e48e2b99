package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/console/web"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hls"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/whep"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		contains           string
	}{
		{"root", http.MethodGet, "/", 200, "text/html; charset=utf-8", `<script type="module" src="/js/app.js">`},
		{"index file", http.MethodGet, "/index.html", 200, "text/html; charset=utf-8", `data-testid="login-submit"`},
		{"deep link", http.MethodGet, "/playback", 200, "text/html; charset=utf-8", `data-testid="login-submit"`},
		{"nested deep link", http.MethodGet, "/live/wall/2", 200, "text/html; charset=utf-8", `<script type="module"`},
		{"module", http.MethodGet, "/js/app.js", 200, "text/javascript; charset=utf-8", "import "},
		{"stylesheet", http.MethodGet, "/css/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"icon", http.MethodGet, "/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"head", http.MethodHead, "/js/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"missing asset", http.MethodGet, "/js/nope.js", 404, "", ""},
		{"missing image", http.MethodGet, "/logo.png", 404, "", ""},
		{"directory", http.MethodGet, "/js/", 404, "", ""},
		{"directory no slash", http.MethodGet, "/css", 404, "", ""},
		{"dot dot", http.MethodGet, "/js/../../web.go", 404, "", ""},
		{"api path", http.MethodGet, "/api/v1/unknown", 404, "", ""},
		{"post", http.MethodPost, "/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if strings.Contains(string(body), "<pre>") {
				t.Errorf("looks like a directory listing: %.200s", body)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if res.Header.Get("Cache-Control") == "" || res.Header.Get("ETag") == "" {
				t.Errorf("Cache-Control %q, ETag %q", res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if strings.HasPrefix(tt.contentType, "text/html") && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("page without a script-src CSP: %q", res.Header.Get("Content-Security-Policy"))
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body does not contain %q", tt.contains)
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/js/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("status %d with If-None-Match, want 304", res.StatusCode)
	}
}

// TestModuleImports checks that every relative import of every module names
// an embedded file: a typo there only shows in a browser otherwise.
func TestModuleImports(t *testing.T) {
	root := os.DirFS("static")
	re := regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\s+from\s+)?['"](\.[^'"]+)['"]`)
	n := 0
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			target := path.Join(path.Dir(p), m[1])
			if _, err := fs.Stat(root, target); err != nil {
				t.Errorf("%s imports %s: %v", p, m[1], err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no imports; the pattern is wrong")
	}
}

// fakeAPI is a minimal /api/v1 for the browser test: one user who must
// change the password, a two-channel tree, and media URLs that fail.
type fakeAPI struct {
	mu         sync.Mutex
	loggedIn   bool
	mustChange bool
	// role is the signed-in user's role; empty is admin.
	role string
	// accounts answers the administration routes when set.
	accounts http.Handler
	calls    []string
	ptz      []string
	control  []string
	playback string
	// export is the body of the export asked for; exportPolls counts its status reads.
	export        map[string]any
	exportPolls   int
	exportDeleted bool
	// exportAll is set once the list was asked for with all=1.
	exportAll bool
	// media overrides the play answer per channel ID.
	media map[string]map[string]any
	// recorders are the items GET /recorders answers (none when nil).
	recorders []any
	// push carries payloads (console event types) to the event stream.
	push chan any
	stop chan struct{}
	base string
}

const (
	fakeCSRF    = "csrf-test-token"
	fakeDevice  = "34020000001110000001"
	fakeChannel = "34020000001310000001"
	fakeOffline = "34020000001310000002"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	loggedIn, mustChange, role := f.loggedIn, f.mustChange, f.role
	f.mu.Unlock()
	if role == "" {
		role = "admin"
	}
	if r.URL.Path == "/api/v1/auth/login" {
		var body struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Username != "admin" || body.Password != "admin123" {
			writeJSON(w, 401, map[string]string{"error": "invalid username or password", "code": "unauthenticated"})
			return
		}
		f.mu.Lock()
		f.loggedIn = true
		f.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sharpeyes_session", Value: "s1", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		writeJSON(w, 200, map[string]any{
			"token": "t1", "must_change_password": mustChange, "csrf_token": fakeCSRF,
			"user": map[string]any{"username": "admin", "role": role, "must_change_password": mustChange},
		})
		return
	}
	if !loggedIn {
		writeJSON(w, 401, map[string]string{"error": "not logged in", "code": "unauthenticated"})
		return
	}
	if r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != fakeCSRF {
		writeJSON(w, 403, map[string]string{"error": "bad csrf token", "code": "csrf"})
		return
	}
	if id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/channels/"), "/play"); ok && f.media[id] != nil {
		writeJSON(w, 200, f.media[id])
		return
	}
	switch {
	case r.URL.Path == "/api/v1/me":
		writeJSON(w, 200, map[string]any{
			"user":       map[string]any{"username": "admin", "role": role, "must_change_password": mustChange},
			"csrf_token": fakeCSRF,
		})
	case r.URL.Path == "/api/v1/auth/password":
		var body struct {
			Old string `json:"old_password"`
			New string `json:"new_password"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Old != "admin123" || len(body.New) < 8 {
			writeJSON(w, 400, map[string]string{"error": "bad password", "code": "bad_request"})
			return
		}
		f.mu.Lock()
		f.mustChange = false
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case mustChange:
		writeJSON(w, 403, map[string]string{"error": "password change required", "code": "password_change_required"})
	case r.URL.Path == "/api/v1/tree":
		writeJSON(w, 200, map[string]any{"nodes": []any{map[string]any{
			"id": fakeDevice, "name": "东门 NVR", "kind": "device", "online": true,
			"children": []any{
				map[string]any{"id": fakeChannel, "name": "东门入口", "kind": "channel", "online": true},
				map[string]any{"id": fakeOffline, "name": "停车场", "kind": "channel", "online": false},
			},
		}}})
	case r.URL.Path == "/api/v1/devices":
		writeJSON(w, 200, map[string]any{"items": []any{}, "total": 1})
	case r.URL.Path == "/api/v1/channels":
		writeJSON(w, 200, map[string]any{"items": []any{}, "total": 2})
	case r.URL.Path == "/api/v1/events":
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": ping\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-f.stop:
				return
			case ev := <-f.push:
				// The console's own event types, named by their type as
				// the console names them; validated checks them against
				// the document (an event that does not marshal fails there).
				data, _ := json.Marshal(ev)
				var h console.EventHeader
				_ = json.Unmarshal(data, &h)
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", h.Type, data)
				w.(http.Flusher).Flush()
			}
		}
	case r.URL.Path == "/api/v1/channels/"+fakeChannel+"/playback":
		var body struct{ Start, End string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.playback = body.Start
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{
			"session_id": "pb1", "path": "playback/pb1", "start": body.Start, "end": body.End,
			"whep": f.base + "/media/whep/playback/pb1?token=x", "hls": f.base + "/media/hls/playback/pb1/index.m3u8?token=x",
		})
	case r.URL.Path == "/api/v1/playback/pb1/control":
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.control = append(f.control, strings.TrimSpace(string(b)))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/api/v1/playback/pb1" && r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/api/v1/exports" && r.Method == http.MethodPost:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.export = body
		f.mu.Unlock()
		writeJSON(w, 202, fakeExport(body, "queued", 0))
	case r.URL.Path == "/api/v1/exports":
		f.mu.Lock()
		body, deleted := f.export, f.exportDeleted
		f.exportAll = f.exportAll || r.URL.Query().Get("all") == "1"
		f.mu.Unlock()
		items := []any{}
		if body != nil && !deleted {
			items = append(items, fakeExport(body, "done", 1))
		}
		writeJSON(w, 200, map[string]any{"items": items, "total": len(items)})
	case r.URL.Path == "/api/v1/exports/"+fakeExportID && r.Method == http.MethodDelete:
		f.mu.Lock()
		f.exportDeleted = true
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/api/v1/exports/"+fakeExportID:
		f.mu.Lock()
		f.exportPolls++
		done := f.exportPolls > 1
		body := f.export
		f.mu.Unlock()
		if done {
			writeJSON(w, 200, fakeExport(body, "done", 1))
		} else {
			writeJSON(w, 200, fakeExport(body, "running", 0.5))
		}
	case strings.HasSuffix(r.URL.Path, "/probe") && r.Method == http.MethodPost:
		writeJSON(w, 200, map[string]any{
			"id": 1, "channel_id": fakeChannel, "at": "2026-12-07T08:00:00Z", "trigger": "manual",
			"reachable": true, "first_frame_ms": 420, "codec": "H264", "width": 1920, "height": 1080,
			"verdict": "fault", "faults": []string{"black", "frozen"}, "thumbnail": "/api/v1/channels/" + fakeChannel + "/thumbnail",
		})
	case strings.HasSuffix(r.URL.Path, "/ptz"):
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.ptz = append(f.ptz, strings.TrimSpace(string(b)))
		f.mu.Unlock()
		writeJSON(w, 200, map[string]string{"ptz_cmd": "A50F01"})
	case r.URL.Path == "/api/v1/channels/"+fakeOffline+"/play":
		// Play never waits for the device (mediagw reports a failed start):
		// an error it answers is a channel gone from the catalog meanwhile.
		writeJSON(w, 404, map[string]string{"error": "channel not found", "code": "not_found"})
	case r.URL.Path == "/api/v1/channels/"+fakeChannel+"/play":
		writeJSON(w, 200, map[string]any{
			"path": "live/" + fakeChannel,
			"whep": f.base + "/media/whep/live/" + fakeChannel + "?token=x",
			"hls":  f.base + "/media/hls/live/" + fakeChannel + "/index.m3u8?token=x",
		})
	case r.URL.Path == "/api/v1/channels/"+fakeChannel+"/records":
		day, err := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": "bad start", "code": "bad_request"})
			return
		}
		seg := func(from, to time.Duration) map[string]any {
			return map[string]any{"name": "rec", "type": "time", "start": day.Add(from), "end": day.Add(to)}
		}
		writeJSON(w, 200, map[string]any{"items": []any{seg(time.Hour, 2*time.Hour), seg(8*time.Hour, 9*time.Hour+30*time.Minute)}})
	case strings.HasSuffix(r.URL.Path, "/stop"):
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/api/v1/recorders":
		f.mu.Lock()
		items := append([]any{}, f.recorders...)
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"items": items})
	case f.accounts != nil:
		f.accounts.ServeHTTP(w, r)
	default:
		writeJSON(w, 404, map[string]string{"error": "no route " + r.URL.Path, "code": "not_found"})
	}
}

func (f *fakeAPI) controls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.control...)
}

func (f *fakeAPI) ptzBodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ptz...)
}

func (f *fakeAPI) called(call string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c == call {
			return true
		}
	}
	return false
}

// fakeExportID is the ID of the export the fake API makes.
const fakeExportID = "0123456789abcdef"

// fakeExport is the fake's export job for the request body in state.
func fakeExport(body map[string]any, state string, progress float64) map[string]any {
	job := map[string]any{
		"id": fakeExportID, "state": state, "progress": progress, "bytes": int(progress * 1000),
		"channel_id": body["channel_id"], "source": body["source"], "start": body["start"], "end": body["end"],
		"created_at": fakeCreated, "owner": "admin",
	}
	if state == "done" {
		job["finished_at"] = fakeCreated
		job["expires_at"] = "2030-01-02T08:00:00Z"
	}
	return job
}

// uiWait bounds a wait for the page (the browser's work after an action).
const uiWait = 20 * time.Second

// validated checks every request to the fake and every answer it gives
// against the console's OpenAPI document, so that the UI is tested against
// what the real API answers and the two cannot drift apart.
func validated(t *testing.T, fake http.Handler) http.Handler {
	doc, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return apitest.NewValidator(t, doc).Handler(t, fake)
}

// TestUIInBrowser loads the UI in headless Chromium against the fake API.
func TestUIInBrowser(t *testing.T) {
	api := &fakeAPI{mustChange: true, push: make(chan any, 4), stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/api/", validated(t, api))
	mux.HandleFunc("/media/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, 503, map[string]string{"error": "stream did not start in time", "code": "unavailable"})
	})
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	api.base = srv.URL
	defer srv.Close()
	defer close(api.stop)

	ctx := browsertest.New(t)
	problems := watchProblems(ctx)
	// Bounds for a broken build on a busy machine, not expectations.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pg := &page{t: t, ctx: ctx}
	poll, run := pg.poll, pg.run

	run("open the page", chromedp.Navigate(srv.URL+"/"))
	poll("login form shown", vis("login-submit"))
	poll("login form in Chinese", text("login-submit")+` === '登录' && document.documentElement.lang === 'zh-CN'`)

	run("switch to English", chromedp.Click(q("lang-toggle"), chromedp.ByQuery))
	poll("login form in English", text("login-submit")+` === 'Sign in'`)

	run("log in with a wrong password",
		chromedp.SendKeys(q("login-username"), "admin", chromedp.ByQuery),
		chromedp.SendKeys(q("login-password"), "wrong", chromedp.ByQuery),
		chromedp.Click(q("login-submit"), chromedp.ByQuery))
	poll("wrong password reported", text("login-error")+` === 'Wrong username or password'`)

	run("log in", chromedp.SendKeys(q("login-password"), "admin123", chromedp.ByQuery), chromedp.Click(q("login-submit"), chromedp.ByQuery))
	poll("forced password change", vis("pw-submit"))

	run("too short a password",
		chromedp.SendKeys(q("pw-old"), "admin123", chromedp.ByQuery),
		chromedp.SendKeys(q("pw-new"), "short", chromedp.ByQuery),
		chromedp.SendKeys(q("pw-repeat"), "short", chromedp.ByQuery),
		chromedp.Click(q("pw-submit"), chromedp.ByQuery))
	poll("rule shown", text("pw-error")+`.includes('8')`)
	run("change the password",
		chromedp.Evaluate(`for (const id of ['pw-new', 'pw-repeat']) document.getElementById(id).value = ''`, nil),
		chromedp.SendKeys(q("pw-new"), "N3w-passw0rd", chromedp.ByQuery),
		chromedp.SendKeys(q("pw-repeat"), "N3w-passw0rd", chromedp.ByQuery),
		chromedp.Click(q("pw-submit"), chromedp.ByQuery))

	poll("tree shows the channels", vis("tree-channel-"+fakeChannel)+" && "+vis("tree-channel-"+fakeOffline))
	poll("tree in English", text("tree-by-device")+` === 'By device'`)

	// The device goes offline: the event carries its channels' effective
	// state, which the tree shows without asking the API (whose tree still
	// says online), and back.
	channelOffline := func(id string) string {
		return fmt.Sprintf(`document.querySelector(%q).classList.contains('offline')`, q("tree-channel-"+id))
	}
	at := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	deviceEvent := func(online bool) console.DeviceStatusEvent {
		return console.DeviceStatusEvent{
			EventHeader: console.EventHeader{V: console.EventVersion, Type: console.TypeDeviceStatus},
			DeviceID:    fakeDevice, Online: online, Cause: "test", At: at,
			Channels: []console.ChannelState{{ID: fakeChannel, Online: online}, {ID: fakeOffline, Online: false}},
		}
	}
	api.push <- deviceEvent(false)
	poll("channel offline with its device", channelOffline(fakeChannel))
	// A later version, which the document does not describe (the
	// validator lets it pass) and the UI must ignore.
	later := deviceEvent(true)
	later.V = console.EventVersion + 1
	later.Channels = []console.ChannelState{{ID: fakeChannel, Online: true}}
	api.push <- later
	api.push <- console.ChannelStatusEvent{
		EventHeader: console.EventHeader{V: console.EventVersion, Type: console.TypeChannelStatus},
		DeviceID:    fakeDevice, ChannelID: fakeOffline, Online: true, Cause: "test", At: at,
	}
	// Events apply in order: once the channel event shows, the v2 one was ignored.
	poll("the other version's event ignored", "!"+channelOffline(fakeOffline)+" && "+channelOffline(fakeChannel))
	api.push <- deviceEvent(true)
	poll("channel online with its device", "!"+channelOffline(fakeChannel)+" && "+channelOffline(fakeOffline))
	poll("status bar counts", text("stat-channels")+` === '0 / 2' || `+text("stat-channels")+` === '2 / 2'`)
	poll("four panes", `window.sharpeyesDebug.panes().length === 4`)

	// Double-click plays into the selected pane; the media fails, and the
	// pane must say why and offer a retry.
	run("open a channel", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector(%q).dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`, q("tree-channel-"+fakeChannel)), nil))
	poll("pane shows the server's error", text("pane-state-0")+`.includes('stream did not start in time')`+
		` && window.sharpeyesDebug.panes()[0].state === 'error'`+
		` && window.sharpeyesDebug.panes()[0].channel === '`+fakeChannel+`'`)
	poll("retry offered", vis("pane-retry-0"))
	if !api.called("POST /api/v1/channels/" + fakeChannel + "/play") {
		t.Error("play was not called (or its CSRF header was wrong)")
	}

	// A check of the pane's camera tells its faults in words.
	run("probe", chromedp.Click(q("pane-probe-0"), chromedp.ByQuery))
	testsupport.Eventually(t, uiWait, "probe called", func() bool { return api.called("POST /api/v1/channels/" + fakeChannel + "/probe") })
	poll("probe verdict", `[...document.querySelectorAll('.toast-text')].some((e) => e.textContent.includes('black, frozen (H264 1920×1080)'))`)

	// PTZ: a click is a move then a stop, in that order.
	run("open PTZ", chromedp.Click(q("ptz-toggle-0"), chromedp.ByQuery))
	poll("PTZ panel", vis("ptz-left")+" && "+vis("ptz-zoom-in"))
	run("PTZ left", chromedp.Click(q("ptz-left"), chromedp.ByQuery))
	wantPTZ := []string{`{"action":"move","directions":["left"],"speed":128}`, `{"action":"stop"}`}
	testsupport.Eventually(t, uiWait, "two PTZ calls", func() bool { return len(api.ptzBodies()) >= 2 })
	if got := api.ptzBodies(); fmt.Sprint(got) != fmt.Sprint(wantPTZ) {
		t.Errorf("PTZ bodies %q, want %q", got, wantPTZ)
	}

	// HTML5 drag and drop of the offline channel onto pane 1: the API's error shows.
	run("drag a channel", chromedp.Evaluate(fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		const src = document.querySelector(%q), dst = document.querySelector(%q);
		src.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		dst.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
		dst.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
	})()`, q("tree-channel-"+fakeOffline), q("pane-1")), nil))
	poll("dropped pane shows the API error", text("pane-state-1")+` === 'channel not found'`+
		` && window.sharpeyesDebug.panes()[1].channel === '`+fakeOffline+`'`)

	// A tour of both channels fills the first two panes.
	run("close panes", chromedp.Click(q("wall-close-all"), chromedp.ByQuery))
	run("select tour channels", chromedp.Click(q("tour-select"), chromedp.ByQuery))
	poll("checkboxes", vis("tree-check-"+fakeChannel))
	run("tick channels", chromedp.Click(q("tree-check-"+fakeChannel), chromedp.ByQuery),
		chromedp.Click(q("tree-check-"+fakeOffline), chromedp.ByQuery),
		chromedp.Click(q("tour-start"), chromedp.ByQuery))
	poll("tour fills the wall", `(() => { const p = window.sharpeyesDebug.panes();
		return p[0].channel === '`+fakeChannel+`' && p[1].channel === '`+fakeOffline+`' && p[2].channel === null; })()`)
	run("stop the tour", chromedp.Click(q("tour-stop"), chromedp.ByQuery))
	poll("tour stopped", vis("tour-start"))

	run("layout 9", chromedp.Click(q("layout-9"), chromedp.ByQuery))
	poll("nine panes", `window.sharpeyesDebug.panes().length === 9`)
	run("close the pane", chromedp.Click(q("pane-close-0"), chromedp.ByQuery))
	poll("pane idle", `window.sharpeyesDebug.panes()[0].state === 'idle'`)
	if err := browsertest.Poll(ctx, "true", time.Second); err != nil {
		t.Fatal(err)
	}
	if !api.called("POST /api/v1/channels/" + fakeChannel + "/stop") {
		t.Error("stop was not called")
	}

	run("open playback", chromedp.Click(q("nav-playback"), chromedp.ByQuery))
	poll("playback page", vis("playback-timeline")+` && location.pathname === '/playback'`)
	poll("playback tree", vis("tree-channel-"+fakeChannel)+fmt.Sprintf(` && !!document.querySelector('#view-playback %s')`, q("tree-channel-"+fakeChannel)))
	run("pick a channel for playback", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector('#view-playback %s').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`,
		q("tree-channel-"+fakeChannel)), nil))
	poll("timeline shows the recordings", `document.querySelectorAll('#view-playback .tl-seg').length === 2`+
		` && window.sharpeyesDebug.playback().records === 2`)

	// Click at 01:30 (inside the first recording): a session from there on.
	clickAt := func(hours float64) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`(() => {
			const tl = document.querySelector(%q), r = tl.getBoundingClientRect();
			tl.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + r.width * %f / 24, clientY: r.top + 5}));
		})()`, q("playback-timeline"), hours), nil)
	}
	run("click the timeline", clickAt(1.5))
	poll("playback session", `window.sharpeyesDebug.playback().session === 'pb1'`)
	api.mu.Lock()
	started := api.playback
	api.mu.Unlock()
	if !strings.Contains(started, "T01:") {
		t.Errorf("playback started at %q, want about 01:30", started)
	}
	poll("pause enabled", fmt.Sprintf(`!document.querySelector(%q).disabled`, q("playback-pause")))
	run("pause", chromedp.Click(q("playback-pause"), chromedp.ByQuery))
	poll("paused", `window.sharpeyesDebug.playback().paused === true`)
	run("speed 2", chromedp.Evaluate(fmt.Sprintf(
		`(() => { const s = document.querySelector(%q); s.value = '2'; s.dispatchEvent(new Event('change')); })()`, q("playback-speed")), nil))
	poll("scale 2", `window.sharpeyesDebug.playback().scale === 2`)
	run("seek", clickAt(1.75))
	testsupport.Eventually(t, uiWait, "three playback controls", func() bool { return len(api.controls()) >= 3 })
	if c := api.controls(); len(c) != 3 || c[0] != `{"action":"pause"}` || c[1] != `{"action":"scale","scale":2}` ||
		!strings.HasPrefix(c[2], `{"action":"seek","position":`) {
		t.Errorf("control bodies %q", c)
	} else {
		var seek struct{ Position float64 }
		_ = json.Unmarshal([]byte(c[2]), &seek)
		// clientX is whole pixels: a pixel is minutes of a 24 h timeline.
		if seek.Position < 500 || seek.Position > 1300 {
			t.Errorf("seek to %v s from the session start, want about 900", seek.Position)
		}
	}

	// Export ±5 min around the click, from the device (the timeline's source).
	pg.click("export", "export-start")
	pg.poll("export file link", vis("export-link")+
		fmt.Sprintf(` && document.querySelector(%q).getAttribute('href') === '/api/v1/exports/%s/file'`, q("export-link"), fakeExportID))
	api.mu.Lock()
	exp := api.export
	api.mu.Unlock()
	if exp["channel_id"] != fakeChannel || exp["source"] != "device" ||
		!strings.Contains(fmt.Sprint(exp["start"]), "T01:") || !strings.Contains(fmt.Sprint(exp["end"]), "T01:") {
		t.Errorf("export asked for %v", exp)
	}
	pg.click("my exports", "export-list-toggle")
	// Named as the tree names the channel, not by its ID alone.
	pg.poll("the export listed", vis("export-row-"+fakeExportID)+` && `+text("export-row-"+fakeExportID)+`.includes('Done')`+
		` && `+text("export-row-"+fakeExportID)+`.includes('东门入口')`+` && `+vis("export-file-"+fakeExportID))
	pg.click("everyone's exports (an admin)", "export-all")
	testsupport.Eventually(t, uiWait, "the list with all=1", func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.exportAll
	})
	pg.click("delete the export", "export-delete-"+fakeExportID)
	pg.poll("export gone", `!document.querySelector(`+fmt.Sprintf("%q", q("export-row-"+fakeExportID))+`)`)
	// A drag over the timeline selects the export's range (and plays nothing).
	pg.run("drag 08:00–09:00", chromedp.Evaluate(fmt.Sprintf(`(() => {
		const tl = document.querySelector(%q), r = tl.getBoundingClientRect(), x = (h) => r.left + r.width * h / 24;
		tl.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, button: 0, buttons: 1, clientX: x(8), clientY: r.top + 5}));
		tl.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, buttons: 1, clientX: x(9), clientY: r.top + 5}));
		tl.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, button: 0, clientX: x(9), clientY: r.top + 5}));
		tl.dispatchEvent(new MouseEvent('click', {bubbles: true, button: 0, clientX: x(9), clientY: r.top + 5}));
	})()`, q("playback-timeline")), nil))
	pg.poll("the range selected", vis("playback-selection")+
		fmt.Sprintf(` && /T0(7:5|8:0)/.test(document.querySelector(%q).value) && /T0(8:5|9:0)/.test(document.querySelector(%q).value)`,
			q("export-from"), q("export-to"))+
		` && window.sharpeyesDebug.playback().session === 'pb1'`)
	api.mu.Lock()
	started = api.playback
	api.mu.Unlock()
	if !strings.Contains(started, "T01:") {
		t.Errorf("the drag started a playback at %q", started)
	}

	// A reload keeps the session (cookie), the layout and the language.
	run("reload", chromedp.Reload())
	poll("still logged in on the deep link", vis("playback-timeline"))
	run("back to live", chromedp.Click(q("nav-live"), chromedp.ByQuery))
	poll("layout kept", `window.sharpeyesDebug.panes().length === 9 && `+text("nav-live")+` === 'Live view'`)

	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
}

// TestPlayersInBrowser plays a real stream through mediagw's WHEP and HLS
// servers in the wall: one pane over WebRTC, one where WHEP fails and HLS
// takes over.
func TestPlayersInBrowser(t *testing.T) {
	h := mediatest.NewHub(t, &hub.Hub{})
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	mediatest.Publish(t, h, "live/"+fakeChannel, clip, true)
	src := &access.HubSource{Hub: h}
	whepSrv := &whep.Server{Source: src, ICEUDPAddress: "127.0.0.1:0", ICEHosts: []string{"127.0.0.1"}, Log: mediatest.Log(t)}
	if err := whepSrv.Initialize(); err != nil {
		t.Fatal(err)
	}
	hlsSrv := &hls.Server{Source: src, Log: mediatest.Log(t)}
	if err := hlsSrv.Initialize(); err != nil {
		t.Fatal(err)
	}

	api := &fakeAPI{loggedIn: true, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/api/", validated(t, api))
	mux.Handle("/whep/", whepSrv)
	mux.Handle("/hls/", hlsSrv)
	mux.HandleFunc("/broken/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 503, map[string]string{"error": "webrtc unavailable", "code": "unavailable"})
	})
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(api.stop)
		hlsSrv.Close()
		whepSrv.Close()
		srv.Close()
	})
	api.media = map[string]map[string]any{
		fakeChannel: {"whep": srv.URL + "/whep/live/" + fakeChannel, "hls": srv.URL + "/hls/live/" + fakeChannel + "/index.m3u8"},
		fakeOffline: {"whep": srv.URL + "/broken/whep", "hls": srv.URL + "/hls/live/" + fakeChannel + "/index.m3u8"},
	}

	ctx := browsertest.New(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	dblclick := func(id string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`document.querySelector('[data-testid="tree-channel-%s"]')`+
			`.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`, id), nil)
	}
	debug := func() string {
		var s string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify(window.sharpeyesDebug.panes())`, &s))
		return s
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/live")); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Poll(ctx, `!!document.querySelector('[data-testid="tree-channel-`+fakeOffline+`"]')`, 10*time.Second); err != nil {
		t.Fatalf("tree: %v", err)
	}
	if err := chromedp.Run(ctx, dblclick(fakeChannel), dblclick(fakeOffline)); err != nil {
		t.Fatal(err)
	}
	playing := func(i int, tech string) string {
		return fmt.Sprintf(`(() => { const p = window.sharpeyesDebug.panes()[%d];
			const v = document.querySelector('[data-testid="pane-%d"] video');
			return p.state === 'playing' && p.tech === '%s' && v.videoWidth === 320 && v.currentTime > 0.5; })()`, i, i, tech)
	}
	if err := browsertest.Poll(ctx, playing(0, "webrtc"), 15*time.Second); err != nil {
		t.Fatalf("pane 0 did not play over WebRTC: %v; panes %s", err, debug())
	}
	if err := browsertest.Poll(ctx, playing(1, "hls"), 25*time.Second); err != nil {
		t.Fatalf("pane 1 did not fall back to HLS: %v; panes %s", err, debug())
	}
	if err := browsertest.Poll(ctx, `document.querySelector('[data-testid="pane-state-0"]').textContent === '播放中'`, time.Second); err != nil {
		t.Fatalf("pane 0 state text: %v", err)
	}

	// Closing the WebRTC pane ends its WHEP session.
	if err := chromedp.Run(ctx, chromedp.Click(`[data-testid="pane-close-0"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, uiWait, "the WHEP session ends", func() bool { return len(whepSrv.Sessions()) == 0 })
	if ss := whepSrv.Sessions(); len(ss) != 0 {
		t.Errorf("WHEP sessions after close: %+v", ss)
	}
}
