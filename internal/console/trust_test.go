package console_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
)

// TestAuditFailsClosed checks that with audit.fail_closed — an API and an
// auth.Service built without a word about the audit log (newEnv) — a video
// access whose audit row cannot be written is refused (503
// audit_unavailable) and leaves nothing behind: no token, no PTZ command,
// no playback session, no export; stops go through. Fail-open
// lets the access through.
func TestAuditFailsClosed(t *testing.T) {
	tm := newTeam(t, envOptions{})
	node := tm.startRecorder("rec-a", "")
	// A finished export of olga's.
	done := tm.doneExport(node, "olga", channelA1, []byte("file"))
	tm.record(channelA1, time.Hour, 2*time.Hour)
	created := len(tm.sip.createdSince(0))
	tm.sip.mu.Lock()
	tm.sip.sessions["playback-own"] = map[string]any{"id": "playback-own", "kind": "playback", "owner": "olga", "state": "active"}
	tm.sip.mu.Unlock()

	tm.breakAudit()
	const refused = "audit_unavailable"
	for _, tc := range []struct {
		what, method, path string
		body               any
	}{
		{"play", http.MethodPost, "/api/v1/channels/" + channelA1 + "/play", nil},
		{"ptz", http.MethodPost, "/api/v1/channels/" + channelA1 + "/ptz", `{"action":"stop"}`},
		{
			"playback", http.MethodPost, "/api/v1/channels/" + channelA1 + "/playback",
			map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"},
		},
		{"control", http.MethodPost, "/api/v1/playback/playback-own/control", `{"action":"pause"}`},
		{"platform playback", http.MethodPost, "/api/v1/channels/" + channelA1 + "/playback", platformBody(time.Hour, 2*time.Hour, 0)},
		{"export", http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 2*time.Hour, "")},
		{"file", http.MethodGet, "/api/v1/exports/" + done + "/file", nil},
	} {
		r := tm.olga.do(tc.method, tc.path, tc.body)
		mustStatus(t, tc.what, r, http.StatusServiceUnavailable, refused)
		if strings.Contains(string(r.Body), "token=") {
			t.Errorf("%s: a refused answer carries a token: %s", tc.what, r.Body)
		}
	}
	if n := len(tm.sip.callsTo("POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz")); n != 0 {
		t.Errorf("an unaudited PTZ command reached sipserver")
	}
	if n := len(tm.sip.callsTo("POST /internal/v1/sessions/playback-own/control")); n != 0 {
		t.Errorf("an unaudited control reached sipserver")
	}
	// The playback session made before the audit failed is ended again,
	// and the export job is deleted again (expired, no file).
	made := tm.sip.createdSince(created)
	if len(made) != 1 {
		t.Fatalf("sessions made after the audit broke: %v, want a playback", made)
	}
	for _, id := range made {
		tm.sip.waitCall(t, "DELETE /internal/v1/sessions/"+id)
	}
	jobs, err := exportdb.New(tm.st.Store).List(t.Context(), exportdb.ListQuery{Owner: "olga", Granted: catalogview.Everything()})
	if err != nil || len(jobs) != 2 || jobs[0].State != recorderapi.StateExpired {
		t.Fatalf("olga's jobs after an unaudited export %+v: %v", jobs, err)
	}
	// Stops are never held up by the audit log.
	mustStatus(t, "stop", tm.root.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/stop", map[string]bool{"force": true}), http.StatusNoContent, "")
	mustStatus(t, "playback stop", tm.olga.do(http.MethodDelete, "/api/v1/playback/playback-own", nil), http.StatusNoContent, "")
	// Nor is a login let in unaudited.
	mustStatus(t, "login", tm.client().do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "ivan", "password": "ivan-password"}),
		http.StatusServiceUnavailable, refused)

	open := newTeam(t, envOptions{failOpen: true})
	open.breakAudit()
	mustStatus(t, "play, fail open", open.olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil), http.StatusOK, "")
	open.client().login("ivan", "ivan-password")
}

// TestBadInput checks that a NUL byte, invalid UTF-8 or an undecodable
// value in a path, query, header or body is a 400 bad_request on every
// route, never a 500, and changes nothing.
func TestBadInput(t *testing.T) {
	tm := newTeam(t, envOptions{})
	b := tm.client()
	b.bearer = tm.token["olga"]
	for _, tc := range []struct {
		what, method, path string
		body               any
	}{
		{"NUL in a channel id", http.MethodPost, "/api/v1/channels/3402%00/play", nil},
		{"invalid UTF-8 in a channel id", http.MethodPost, "/api/v1/channels/%ff%fe/play", nil},
		{"invalid UTF-8 in a PTZ channel", http.MethodPost, "/api/v1/channels/%C3/ptz", `{"action":"stop"}`},
		{"NUL in a session id", http.MethodDelete, "/api/v1/playback/a%00b", nil},
		{"NUL in an export id", http.MethodGet, "/api/v1/exports/%00/file", nil},
		{"NUL in q", http.MethodGet, "/api/v1/devices?q=%00", nil},
		{"invalid UTF-8 in q", http.MethodGet, "/api/v1/channels?q=%ff", nil},
		{"invalid UTF-8 in device_id", http.MethodGet, "/api/v1/channels?device_id=%e9%97", nil},
		{"NUL in civil_code", http.MethodGet, "/api/v1/channels?civil_code=34%00", nil},
		{"bad escape in a query", http.MethodGet, "/api/v1/tree?by=%zz", nil},
		{"NUL in a time", http.MethodGet, "/api/v1/channels/" + channelA1 + "/records?start=2024%00&end=x", nil},
		{"escaped NUL in a body", http.MethodPost, "/api/v1/channels/" + channelA1 + "/playback", `{"start":"2024-05-01T08:00:00Z\u0000","end":"x"}`},
		{"raw invalid UTF-8 in a body", http.MethodPost, "/api/v1/exports", "{\"channel_id\":\"" + channelA1 + "\",\"start\":\"\xff\",\"end\":\"x\"}"},
		{"unpaired surrogate in PTZ", http.MethodPost, "/api/v1/channels/" + channelA1 + "/ptz", `{"action":"\ud800"}`},
		{"NUL in a control", http.MethodPost, "/api/v1/playback/x/control", `{"action":"pa\u0000use"}`},
		{"NUL in a stop", http.MethodPost, "/api/v1/channels/" + channelA1 + "/stop", `{"force":false,"x\u0000":1}`},
		{"NUL in a new password", http.MethodPost, "/api/v1/auth/password", `{"old_password":"olga-password","new_password":"abcdefgh\u0000"}`},
		{"trailing data", http.MethodPost, "/api/v1/channels/" + channelA1 + "/stop", `{} {}`},
	} {
		r := b.do(tc.method, tc.path, tc.body)
		mustStatus(t, tc.what, r, http.StatusBadRequest, "bad_request")
	}
	// Headers the console reads, before authentication.
	for _, h := range []string{"Authorization", auth.CSRFHeader, "Content-Type"} {
		req, _ := http.NewRequest(http.MethodGet, tm.srv.URL+"/api/v1/me", nil)
		req.Header.Set(h, "Bearer \xff\xfe")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("invalid UTF-8 in %s: %d, want 400", h, resp.StatusCode)
		}
	}
	if calls := tm.sip.callsTo("POST /internal/v1/sessions"); len(calls) != 0 {
		t.Errorf("a refused request reached sipserver: %+v", calls)
	}
	// The password did not change.
	tm.client().login("olga", "olga-password")
}

// TestDeniedAttemptsAudited checks that a logged-in user's refused
// attempts are audit rows: an operator's force stop, a cookie POST without
// the CSRF token.
func TestDeniedAttemptsAudited(t *testing.T) {
	tm := newTeam(t, envOptions{})
	mustStatus(t, "operator force stop", tm.olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/stop", map[string]bool{"force": true}),
		http.StatusForbidden, "forbidden")
	csrf := tm.olga.csrf
	tm.olga.csrf = ""
	mustStatus(t, "PTZ without CSRF", tm.olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", `{"action":"stop"}`),
		http.StatusForbidden, "csrf")
	tm.olga.csrf = csrf
	d := tm.denied("olga")
	if len(d) != 2 {
		t.Fatalf("denials %+v", d)
	}
	byRoute := map[string]store.AuditEntry{}
	for _, e := range d {
		byRoute[e.Detail["route"].(string)] = e
	}
	if e := byRoute["POST /api/v1/channels/{id}/stop"]; e.Target != channelA1 || e.Detail["code"] != "forbidden" {
		t.Errorf("force stop denial %+v", e)
	}
	if e := byRoute["POST /api/v1/channels/{id}/ptz"]; e.Detail["code"] != "csrf" || e.Remote != "127.0.0.1" {
		t.Errorf("CSRF denial %+v", e)
	}
}

// TestMediaOpens checks the internal audit route mediagw calls: a valid
// media open is one audit_log row and 204; anything else is refused
// without a row.
func TestMediaOpens(t *testing.T) {
	e := newEnv(t, envOptions{})
	at := time.Date(2026, 5, 1, 8, 0, 0, 123000000, time.UTC)
	post := func(token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+auditapi.PathMediaOpens, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"at":"2026-05-01T08:00:00.123Z","user":"olga","path":"live/` + channelA1 + `","protocol":"whep","remote":"192.0.2.10:51000","node":"10.0.0.5:8888"}`
	if got := post("", good); got != http.StatusUnauthorized {
		t.Errorf("no token: %d", got)
	}
	if got := post("wrong-token-0123456789", good); got != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", got)
	}
	for _, bad := range []string{
		`{"at":"2026-05-01T08:00:00Z","user":"olga","path":"live/x","protocol":"whep","extra":1}`,
		`{"at":"2026-05-01T08:00:00Z","user":"ol\u0000ga","path":"live/x","protocol":"whep"}`,
		"{\"at\":\"2026-05-01T08:00:00Z\",\"user\":\"\xff\",\"path\":\"live/x\",\"protocol\":\"whep\"}",
		`{"at":"2026-05-01T08:00:00Z","user":"olga","path":"live/x","protocol":"ftp"}`,
		`{"user":"olga","path":"live/x","protocol":"rtsp"}`,
		`{"at":"2026-05-01T08:00:00Z","user":"olga","path":"","protocol":"hls"}`,
		`{"at":"2026-05-01T08:00:00Z","user":"olga","path":"` + strings.Repeat("p", 300) + `","protocol":"hls"}`,
		`not json`,
	} {
		if got := post(serviceToken, bad); got != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, got)
		}
	}
	if got := post(serviceToken, good); got != http.StatusNoContent {
		t.Fatalf("media open: %d", got)
	}
	// The recorder's unit feed is a media open like the players' ones.
	feed := strings.Replace(good, `"protocol":"whep"`, `"protocol":"feed"`, 1)
	if got := post(serviceToken, feed); got != http.StatusNoContent {
		t.Fatalf("media open of the unit feed: %d", got)
	}
	rows, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: auditapi.ActionMediaOpen})
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v %v", rows, err)
	}
	byProto := map[any]store.AuditEntry{}
	for _, r := range rows {
		byProto[r.Detail["protocol"]] = r
	}
	if f, ok := byProto[auditapi.ProtocolFeed]; !ok || f.Target != "live/"+channelA1 || f.Username != "olga" {
		t.Errorf("feed row %+v", f)
	}
	row := byProto[auditapi.ProtocolWHEP]
	if row.Username != "olga" || row.Target != "live/"+channelA1 || row.Remote != "192.0.2.10:51000" || !row.At.Equal(at) ||
		row.Detail["protocol"] != "whep" || row.Detail["node"] != "10.0.0.5:8888" {
		t.Errorf("row %+v", row)
	}
	// The row is not stored: mediagw must hear it and refuse the viewer.
	e.breakAudit()
	if got := post(serviceToken, good); got != http.StatusServiceUnavailable {
		t.Errorf("media open with a broken audit log: %d, want 503", got)
	}
	resp, err := http.Get(e.srv.URL + "/internal/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown internal route: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestClientAddressBehindProxy checks that the audit log shows the client
// behind a trusted proxy, and the peer itself when the same claim comes
// from an untrusted one.
func TestClientAddressBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		remote  string
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "203.0.113.7"},
		{"untrusted peer", nil, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, c := operator(t, envOptions{proxies: tc.proxies})
			c.header = http.Header{"X-Forwarded-For": {"203.0.113.7"}}
			mustStatus(t, "play", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil), http.StatusOK, "")
			rows, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "play"})
			if err != nil || len(rows) != 1 || rows[0].Remote != tc.remote {
				t.Fatalf("audited play %+v %v, want remote %s", rows, err, tc.remote)
			}
		})
	}
}
