package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/export"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vod"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// recorderNode is a recorder node as the console and browsers reach it:
// the real export runner (internal/recorder/export) with its internal API,
// and the real HLS VOD server (internal/recorder/vod, auditing through the
// console's internal API), on a directory store, heartbeating in
// recorder_nodes. It takes no device job (no sipserver), and polls its
// queue only when woken.
type recorderNode struct {
	name   string
	runner *export.Runner
	store  objstore.Store
	srv    *httptest.Server
}

// startRecorder starts recorder node name; publicURL, when set, is the
// node's recorder.public_url.
func (e *env) startRecorder(name, publicURL string) *recorderNode {
	e.t.Helper()
	ctx := context.Background()
	st, err := objstore.New(ctx, objstore.Config{Kind: objstore.KindDir, Dir: e.t.TempDir()})
	if err != nil {
		e.t.Fatal(err)
	}
	n := &recorderNode{name: name, store: st}
	n.runner = &export.Runner{
		DB: exportdb.New(e.st.Store), Store: st, Node: name, Token: serviceToken,
		PollInterval: time.Hour, SweepInterval: time.Hour, Log: quiet,
	}
	if err := n.runner.Initialize(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(n.runner.Close)
	vs := &vod.Server{
		Node: name, Store: st, Index: recordingdb.New(e.st.Store), Signer: e.signer,
		Auditor: &vod.AuditClient{URL: e.srv.URL, Token: serviceToken}, Log: quiet,
	}
	if err := vs.Initialize(); err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	n.runner.Register(mux)
	mux.Handle("/vod/", vs)
	n.srv = httptest.NewServer(mux)
	e.t.Cleanup(n.srv.Close)
	e.heartbeat(name, n.srv.URL)
	if publicURL != "" {
		if _, err := e.st.Pool.Exec(ctx, `UPDATE recorder_nodes SET public_url = $2 WHERE node = $1`, name, publicURL); err != nil {
			e.t.Fatal(err)
		}
	}
	return n
}

// heartbeat records a heartbeat of node at url now.
func (e *env) heartbeat(node, url string) {
	e.t.Helper()
	err := recordingdb.New(e.st.Store).Heartbeat(context.Background(), recordingdb.Beat{
		Node: node, URL: url, Retention: recordingdb.Retention{StandardDays: 30, KeyDays: 90}, Started: true,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// age moves node's last heartbeat back by d.
func (e *env) age(node string, d time.Duration) {
	e.t.Helper()
	if _, err := e.st.Pool.Exec(context.Background(),
		`UPDATE recorder_nodes SET heartbeat_at = heartbeat_at - $2::interval WHERE node = $1`, node, d); err != nil {
		e.t.Fatal(err)
	}
}

// doneExport stores a finished device export of owner's with content as
// its file on node, as the node's runner would have left it, and returns
// its ID. A device job: the node (no sipserver) never claims it.
func (e *env) doneExport(n *recorderNode, owner, channel string, content []byte) string {
	e.t.Helper()
	ctx := context.Background()
	j, err := exportdb.New(e.st.Store).Create(ctx, exportdb.NewJob{
		Owner: owner, ChannelID: channel, Source: recorderapi.SourceDevice,
		Start: day.Add(8 * time.Hour), End: day.Add(9 * time.Hour), Created: time.Now(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := n.store.WritePath(export.Key(j.ID, n.name))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := n.store.Commit(ctx, export.Key(j.ID, n.name)); err != nil {
		e.t.Fatal(err)
	}
	_, err = e.st.Pool.Exec(ctx, `
UPDATE exports SET state = 'done', node = $2, object_key = $3, bytes = $4, progress = 1,
    started_at = now(), finished_at = now(), expires_at = now() + interval '1 day'
WHERE id = $1`, j.ID, n.name, export.Key(j.ID, n.name), len(content))
	if err != nil {
		e.t.Fatal(err)
	}
	return j.ID
}

// grantOnly makes user a member of a new department dept that holds
// exactly rights on device (and owns nothing), through root's API calls.
func (e *env) grantOnly(root *client, user, dept, device string, rights ...string) *client {
	e.t.Helper()
	c := e.member(user, store.RoleOperator, dept, "")
	id := strconv.FormatInt(e.department(dept), 10)
	r := root.do(http.MethodPost, "/api/v1/departments/"+id+"/grants", map[string]any{
		"scope": map[string]any{"kind": "device", "device_id": device}, "rights": rights,
	})
	mustStatus(e.t, "grant", r, http.StatusCreated, "")
	return c
}

// auditRows returns user's rows of action.
func (e *env) auditRows(user, action string) []store.AuditEntry {
	e.t.Helper()
	rows, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: user, Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// platformAnswer is the answer of a platform playback: a timeline's
// fields and where to play it.
type platformAnswer struct {
	timeline
	Path    string    `json:"path"`
	HLS     string    `json:"hls"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Speed   int       `json:"speed"`
	Expires time.Time `json:"expires"`
}

// refusal is a request the API refuses, and how.
type refusal struct {
	what   string
	body   any
	status int
	code   string
}

func platformBody(from, to time.Duration, speed int) map[string]any {
	b := map[string]any{"source": "platform", "start": day.Add(from).Format(time.RFC3339)}
	if to != 0 {
		b["end"] = day.Add(to).Format(time.RFC3339)
	}
	if speed != 0 {
		b["speed"] = speed
	}
	return b
}

func TestPlatformPlayback(t *testing.T) {
	e, olga := operator(t, envOptions{})
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	e.record(channelA1, time.Hour, time.Hour+time.Minute)
	e.record(channelA1, time.Hour+time.Minute, time.Hour+2*time.Minute)
	e.gap(channelA1, "camera_offline", time.Hour+2*time.Minute, 3*time.Hour)
	e.record(channelA1, 3*time.Hour, 3*time.Hour+time.Minute)
	pbPath := "/api/v1/channels/" + channelA1 + "/playback"

	// No recorder node, then only one whose heartbeat is too old.
	mustStatus(t, "no recorder", olga.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 0)),
		http.StatusServiceUnavailable, "recorder_unavailable")
	e.heartbeat("rec-old", "http://old.example:8082")
	e.age("rec-old", time.Minute)
	mustStatus(t, "a stale recorder", olga.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 0)),
		http.StatusServiceUnavailable, "recorder_unavailable")
	if n := len(e.auditRows("olga", "playback")); n != 0 {
		t.Fatalf("%d playback rows for refused playbacks", n)
	}

	e.startRecorder("rec-a", "https://vod.example:8443/")
	r := olga.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 0))
	mustStatus(t, "platform playback", r, http.StatusOK, "")
	var p platformAnswer
	r.json(t, &p)
	if p.Source != "platform" || p.Path != "recording/"+channelA1 || p.Speed != 1 ||
		!p.Start.Equal(day.Add(time.Hour)) || !p.End.Equal(day.Add(4*time.Hour)) {
		t.Fatalf("answer %s", r.Body)
	}
	if len(p.Segments) != 2 || !p.Segments[0].End.Equal(day.Add(time.Hour+2*time.Minute)) || !p.Segments[1].Start.Equal(day.Add(3*time.Hour)) ||
		len(p.Gaps) != 1 || p.Gaps[0].Cause != "camera_offline" {
		t.Errorf("timeline of the answer %s", r.Body)
	}
	u, err := url.Parse(p.HLS)
	if err != nil || u.Scheme+"://"+u.Host != "https://vod.example:8443" || u.Path != "/vod/recording/"+channelA1+"/index.m3u8" {
		t.Fatalf("hls %q: %v", p.HLS, err)
	}
	q := u.Query()
	if s, _ := time.Parse(time.RFC3339Nano, q.Get("start")); !s.Equal(p.Start) {
		t.Errorf("hls start %q", q.Get("start"))
	}
	if s, _ := time.Parse(time.RFC3339Nano, q.Get("end")); !s.Equal(p.End) {
		t.Errorf("hls end %q", q.Get("end"))
	}
	claims, err := e.signer.Verify(q.Get("token"), "recording/"+channelA1, time.Now())
	if err != nil || claims.Subject != "olga" || len(claims.Paths) != 1 || len(claims.Rights) != 1 ||
		claims.Rights[0] != playtoken.RightPlayback {
		t.Fatalf("token %+v: %v", claims, err)
	}
	if _, err := e.signer.Verify(q.Get("token"), "live/"+channelA1, time.Now()); err == nil {
		t.Error("the token opens the live stream")
	}
	// The token lasts the range beyond the usual lifetime: the player
	// fetches segments while it plays.
	if left := time.Until(p.Expires); left < 3*time.Hour || left > 3*time.Hour+6*time.Minute {
		t.Errorf("token expires in %s, want the 3 h range and 5 min", left)
	}
	rows := e.auditRows("olga", "playback")
	if len(rows) != 1 || rows[0].Target != channelA1 || rows[0].Detail["source"] != "platform" ||
		rows[0].Detail["node"] != "rec-a" || rows[0].Detail["start"] != day.Add(time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("audit rows %+v", rows)
	}
	if n := len(e.sip.callsTo("POST /internal/v1/sessions")); n != 0 {
		t.Fatalf("a platform playback made %d sipserver sessions", n)
	}

	// Without public_url the node's URL is the base; the freshest node wins.
	e.startRecorder("rec-b", "")
	r = olga.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 16))
	mustStatus(t, "speed 16", r, http.StatusOK, "")
	r.json(t, &p)
	if p.Speed != 16 || !strings.HasPrefix(p.HLS, "http://127.0.0.1:") {
		t.Errorf("speed 16 on rec-b: %s", r.Body)
	}

	// end defaults to start + 24 h (capped at now).
	r = olga.do(http.MethodPost, pbPath, platformBody(time.Hour, 0, 0))
	mustStatus(t, "no end", r, http.StatusOK, "")
	r.json(t, &p)
	if !p.End.Equal(day.Add(25 * time.Hour)) {
		t.Errorf("default end %v", p.End)
	}
	r = olga.do(http.MethodPost, pbPath, map[string]any{"source": "platform", "start": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	mustStatus(t, "no end, an hour ago", r, http.StatusNotFound, "no_recordings")

	for _, tc := range []refusal{
		{"speed 3", platformBody(time.Hour, 2*time.Hour, 3), http.StatusBadRequest, "bad_request"},
		{"speed 32", platformBody(time.Hour, 2*time.Hour, 32), http.StatusBadRequest, "bad_request"},
		{"speed -1", platformBody(time.Hour, 2*time.Hour, -1), http.StatusBadRequest, "bad_request"},
		{"over 24 h", platformBody(time.Hour, 26*time.Hour, 0), http.StatusBadRequest, "bad_request"},
		{"end before start", platformBody(2*time.Hour, time.Hour, 0), http.StatusBadRequest, "bad_request"},
		{"no start", map[string]any{"source": "platform"}, http.StatusBadRequest, "bad_request"},
		{"unknown source", map[string]any{"source": "cloud", "start": day.Format(time.RFC3339)}, http.StatusBadRequest, "bad_request"},
		{"nothing recorded", platformBody(10*time.Hour, 11*time.Hour, 0), http.StatusNotFound, "no_recordings"},
		{"the gap only", platformBody(2*time.Hour, 150*time.Minute, 0), http.StatusNotFound, "no_recordings"},
	} {
		mustStatus(t, tc.what, olga.do(http.MethodPost, pbPath, tc.body), tc.status, tc.code)
	}

	// Device playback is as it was: a sipserver session.
	r = olga.do(http.MethodPost, pbPath, map[string]any{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"})
	mustStatus(t, "device playback", r, http.StatusOK, "")
	if !strings.Contains(string(r.Body), `"session_id"`) || len(e.sip.callsTo("POST /internal/v1/sessions")) != 1 {
		t.Errorf("device playback %s", r.Body)
	}

	// A user who sees the camera without the playback right: 403; one who
	// does not see it: the 404 of an unknown camera. Neither gets a token
	// nor a playback row.
	viewer := e.grantOnly(root, "vera", "dept-v", deviceA, "live")
	mustStatus(t, "live only", viewer.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 0)), http.StatusForbidden, "forbidden")
	stranger := e.member("stan", store.RoleOperator, "dept-s", "")
	r = stranger.do(http.MethodPost, pbPath, platformBody(time.Hour, 4*time.Hour, 0))
	u2 := stranger.do(http.MethodPost, "/api/v1/channels/"+unknownChannel+"/playback", platformBody(time.Hour, 4*time.Hour, 0))
	mustStatus(t, "unseen", r, http.StatusNotFound, "not_found")
	if strings.ReplaceAll(string(r.Body), channelA1, unknownChannel) != string(u2.Body) {
		t.Errorf("unseen %s, unknown %s", r.Body, u2.Body)
	}
	// Stan's second denial is the unknown camera's.
	for u, denials := range map[string]int{"vera": 1, "stan": 2} {
		if n := len(e.auditRows(u, "playback")); n != 0 || len(e.denied(u)) != denials {
			t.Errorf("%s: %d playback rows, denials %+v", u, n, e.denied(u))
		}
	}
}

// TestPlatformPlaybackOnRecorder checks the console's answer against the
// real recorder: the playlist URL it hands out, token and range included,
// is served by the recorder's VOD server, which audits the viewer through
// the console's internal API.
func TestPlatformPlaybackOnRecorder(t *testing.T) {
	e, olga := operator(t, envOptions{})
	n := e.startRecorder("rec-a", "")
	// A closed segment in the node's own store, after the range's start:
	// the playlist lists it whole, without reading the object.
	var id int64
	err := e.st.Pool.QueryRow(context.Background(), `
INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, retention_days, expires_at, store, node)
VALUES ($1, $2, $3, false, 1000, 'seg-1.mp4', 30, $3::timestamptz + interval '30 days', $4, $5) RETURNING id`,
		channelA1, day.Add(time.Hour), day.Add(time.Hour+time.Minute), n.store.Name(), n.name).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	r := olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback", platformBody(30*time.Minute, 2*time.Hour, 0))
	mustStatus(t, "platform playback", r, http.StatusOK, "")
	var p platformAnswer
	r.json(t, &p)
	resp, err := http.Get(p.HLS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	seg := "seg/" + strconv.FormatInt(id, 10) + ".m4s?token="
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "#EXT-X-PLAYLIST-TYPE:VOD") ||
		!strings.Contains(string(body), seg) {
		t.Fatalf("playlist: %d %s", resp.StatusCode, body)
	}
	opens := e.auditRows("olga", "media_open")
	if len(opens) != 1 || opens[0].Target != "recording/"+channelA1 {
		t.Fatalf("media_open rows %+v", opens)
	}
}

// exportAnswer is an export job as the API shows it.
type exportAnswer struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Owner     string    `json:"owner"`
	ChannelID string    `json:"channel_id"`
	Source    string    `json:"source"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Bytes     int64     `json:"bytes"`
}

type exportList struct {
	Items []exportAnswer `json:"items"`
	Total int            `json:"total"`
}

func exportBody(channel string, from, to time.Duration, source string) map[string]any {
	b := map[string]any{"channel_id": channel, "start": day.Add(from).Format(time.RFC3339), "end": day.Add(to).Format(time.RFC3339)}
	if source != "" {
		b["source"] = source
	}
	return b
}

func TestExports(t *testing.T) {
	tm := newTeam(t, envOptions{})
	// Nobody to run it yet.
	mustStatus(t, "no recorder", tm.olga.do(http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 2*time.Hour, "")),
		http.StatusServiceUnavailable, "recorder_unavailable")
	if n := len(tm.auditRows("olga", "export")); n != 0 {
		t.Fatalf("%d export rows without a recorder", n)
	}
	node := tm.startRecorder("rec-a", "")

	r := tm.olga.do(http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 2*time.Hour, ""))
	mustStatus(t, "create", r, http.StatusAccepted, "")
	var created exportAnswer
	r.json(t, &created)
	if created.Owner != "olga" || created.ChannelID != channelA1 || created.Source != "platform" ||
		!created.Start.Equal(day.Add(time.Hour)) || !created.End.Equal(day.Add(2*time.Hour)) {
		t.Fatalf("created %s", r.Body)
	}
	// The job is the recorder's row, in the table the console reads.
	j, err := exportdb.New(tm.st.Store).Job(t.Context(), created.ID)
	if err != nil || j.Owner != "olga" {
		t.Fatalf("row %+v: %v", j, err)
	}
	rows := tm.auditRows("olga", "export")
	if len(rows) != 1 || rows[0].Target != channelA1 || rows[0].Detail["export_id"] != created.ID ||
		rows[0].Detail["source"] != "platform" || rows[0].Detail["node"] != "rec-a" {
		t.Fatalf("export rows %+v", rows)
	}
	r = tm.olga.do(http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 90*time.Minute, "device"))
	mustStatus(t, "create device", r, http.StatusAccepted, "")

	for _, tc := range []refusal{
		{"over 24 h", exportBody(channelA1, 0, 25*time.Hour, ""), http.StatusBadRequest, "bad_request"},
		{"end before start", exportBody(channelA1, 2*time.Hour, time.Hour, ""), http.StatusBadRequest, "bad_request"},
		{"unknown source", exportBody(channelA1, time.Hour, 2*time.Hour, "cloud"), http.StatusBadRequest, "bad_request"},
		{"unknown field", map[string]any{"channel_id": channelA1, "start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z", "speed": 4}, http.StatusBadRequest, "bad_request"},
		{"unknown channel", exportBody(unknownChannel, time.Hour, 2*time.Hour, ""), http.StatusNotFound, "not_found"},
	} {
		mustStatus(t, tc.what, tm.olga.do(http.MethodPost, "/api/v1/exports", tc.body), tc.status, tc.code)
	}

	// A camera outside the caller's slice is the 404 of an unknown one.
	stan := tm.member("stan", store.RoleOperator, "dept-s", "")
	r = stan.do(http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 2*time.Hour, ""))
	u := stan.do(http.MethodPost, "/api/v1/exports", exportBody(unknownChannel, time.Hour, 2*time.Hour, ""))
	if mustStatus(t, "unseen", r, http.StatusNotFound, "not_found"); strings.ReplaceAll(string(r.Body), channelA1, unknownChannel) != string(u.Body) {
		t.Errorf("unseen %s, unknown %s", r.Body, u.Body)
	}

	// Each sees their own jobs, newest first; the admin everyone's with all=1.
	ivans := tm.doneExport(node, "ivan", channelA1, []byte("ivan's file"))
	var l exportList
	r = tm.olga.do(http.MethodGet, "/api/v1/exports", nil)
	mustStatus(t, "olga's list", r, http.StatusOK, "")
	r.json(t, &l)
	if l.Total != 2 || len(l.Items) != 2 || l.Items[1].ID != created.ID || l.Items[0].Source != "device" {
		t.Fatalf("olga's list %s", r.Body)
	}
	r = tm.ivan.do(http.MethodGet, "/api/v1/exports", nil)
	r.json(t, &l)
	if l.Total != 1 || l.Items[0].ID != ivans || l.Items[0].State != "done" {
		t.Fatalf("ivan's list %s", r.Body)
	}
	mustStatus(t, "ivan lists all", tm.ivan.do(http.MethodGet, "/api/v1/exports?all=1", nil), http.StatusForbidden, "forbidden")
	r = tm.root.do(http.MethodGet, "/api/v1/exports?all=1", nil)
	r.json(t, &l)
	if l.Total != 3 || l.Items[0].ID != ivans {
		t.Fatalf("admin's list %s", r.Body)
	}
	r = tm.root.do(http.MethodGet, "/api/v1/exports?all=1&limit=1", nil)
	r.json(t, &l)
	if l.Total != 1 {
		t.Fatalf("limit 1: %s", r.Body)
	}
	mustStatus(t, "bad limit", tm.root.do(http.MethodGet, "/api/v1/exports?limit=0", nil), http.StatusBadRequest, "bad_request")

	// Another user's job is the 404 of an unknown one, audited as denied.
	r = tm.olga.do(http.MethodGet, "/api/v1/exports/"+ivans, nil)
	unknown := tm.olga.do(http.MethodGet, "/api/v1/exports/0123456789abcdef", nil)
	mustStatus(t, "ivan's job", r, http.StatusNotFound, "not_found")
	if strings.ReplaceAll(string(r.Body), ivans, "0123456789abcdef") != string(unknown.Body) {
		t.Errorf("ivan's job %s, an unknown one %s", r.Body, unknown.Body)
	}
	mustStatus(t, "ivan's file", tm.olga.do(http.MethodGet, "/api/v1/exports/"+ivans+"/file", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "olga deletes ivan's", tm.olga.do(http.MethodDelete, "/api/v1/exports/"+ivans, nil), http.StatusNotFound, "not_found")
	mustStatus(t, "bad id", tm.olga.do(http.MethodGet, "/api/v1/exports/"+channelA1, nil), http.StatusBadRequest, "bad_request")
	// Three for ivan's job, one for the unknown channel above.
	if d := tm.denied("olga"); len(d) != 4 || d[0].Target != ivans || d[2].Target != ivans {
		t.Errorf("olga's denials %+v", d)
	}

	// The owner's job and file: proxied from the node, Range passed through.
	r = tm.ivan.do(http.MethodGet, "/api/v1/exports/"+ivans, nil)
	mustStatus(t, "ivan's own job", r, http.StatusOK, "")
	r = tm.ivan.do(http.MethodGet, "/api/v1/exports/"+ivans+"/file", nil)
	mustStatus(t, "file", r, http.StatusOK, "")
	if string(r.Body) != "ivan's file" || r.Header.Get("Content-Type") != "video/mp4" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), `attachment; filename=`+channelA1+"_") {
		t.Fatalf("file %q %v", r.Body, r.Header)
	}
	tm.ivan.header = http.Header{"Range": {"bytes=2-5"}}
	r = tm.ivan.do(http.MethodGet, "/api/v1/exports/"+ivans+"/file", nil)
	tm.ivan.header = nil
	if r.Status != http.StatusPartialContent || string(r.Body) != "an's" || r.Header.Get("Content-Range") != "bytes 2-5/11" {
		t.Fatalf("range: %d %q %v", r.Status, r.Body, r.Header)
	}
	tm.ivan.header = http.Header{"Range": {"bytes=100-"}}
	r = tm.ivan.do(http.MethodGet, "/api/v1/exports/"+ivans+"/file", nil)
	tm.ivan.header = nil
	mustStatus(t, "range past the end", r, http.StatusRequestedRangeNotSatisfiable, "bad_request")
	if n := len(tm.auditRows("ivan", "export_file")); n != 3 {
		t.Errorf("%d export_file rows, want 3", n)
	}
	// A job without its file yet: 409.
	mustStatus(t, "not done", tm.olga.do(http.MethodGet, "/api/v1/exports/"+created.ID+"/file", nil), http.StatusConflict, "not_ready")

	// A right revoked since: the job and its file are refused (403), while
	// deleting stays the owner's.
	vera := tm.grantOnly(tm.root, "vera", "dept-v", deviceA, "live", "playback", "download")
	veras := tm.doneExport(node, "vera", channelA1, []byte("vera's file"))
	mustStatus(t, "vera's file", vera.do(http.MethodGet, "/api/v1/exports/"+veras+"/file", nil), http.StatusOK, "")
	veraList := func() exportList {
		var l exportList
		r := vera.do(http.MethodGet, "/api/v1/exports", nil)
		mustStatus(t, "vera's list", r, http.StatusOK, "")
		r.json(t, &l)
		return l
	}
	if l := veraList(); l.Total != 1 || l.Items[0].ID != veras {
		t.Fatalf("vera's list %+v, want her export", l)
	}
	var grants struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	tm.root.do(http.MethodGet, "/api/v1/departments/"+strconv.FormatInt(tm.department("dept-v"), 10)+"/grants", nil).json(t, &grants)
	mustStatus(t, "revoke", tm.root.do(http.MethodDelete, "/api/v1/grants/"+strconv.FormatInt(grants.Items[0].ID, 10), nil), http.StatusNoContent, "")
	tm.grantOnly(tm.root, "vic", "dept-v", deviceA, "live", "playback")
	mustStatus(t, "vera's job, revoked", vera.do(http.MethodGet, "/api/v1/exports/"+veras, nil), http.StatusForbidden, "forbidden")
	if l := veraList(); l.Total != 0 {
		t.Fatalf("vera's list after the revoke %+v, want it empty: the grant is checked in SQL", l)
	}
	mustStatus(t, "vera's file, revoked", vera.do(http.MethodGet, "/api/v1/exports/"+veras+"/file", nil), http.StatusForbidden, "forbidden")
	mustStatus(t, "vera exports, revoked", vera.do(http.MethodPost, "/api/v1/exports", exportBody(channelA1, time.Hour, 2*time.Hour, "")),
		http.StatusForbidden, "forbidden")
	if n := len(tm.auditRows("vera", "export_file")); n != 1 {
		t.Errorf("%d export_file rows of vera, want 1", n)
	}
	mustStatus(t, "vera deletes", vera.do(http.MethodDelete, "/api/v1/exports/"+veras, nil), http.StatusNoContent, "")

	// The admin deletes ivan's: forced, audited; the node expired the job.
	mustStatus(t, "admin deletes", tm.root.do(http.MethodDelete, "/api/v1/exports/"+ivans, nil), http.StatusNoContent, "")
	j, err = exportdb.New(tm.st.Store).Job(t.Context(), ivans)
	if err != nil || j.State != recorderapi.StateExpired {
		t.Fatalf("deleted job %+v: %v", j, err)
	}
	del := tm.auditRows("root", "export_delete")
	if len(del) != 1 || del[0].Detail["forced"] != true || del[0].Detail["owner"] != "ivan" || del[0].Detail["export_id"] != ivans {
		t.Fatalf("forced delete rows %+v", del)
	}
	mustStatus(t, "ivan's expired file", tm.ivan.do(http.MethodGet, "/api/v1/exports/"+ivans+"/file", nil), http.StatusConflict, "not_ready")
}

// TestExportNodeGone checks that a job whose node is gone from
// recorder_nodes, or not answering, is the recorder's unavailability
// (503), never a 500.
func TestExportNodeGone(t *testing.T) {
	tm := newTeam(t, envOptions{})
	node := tm.startRecorder("rec-a", "")
	id := tm.doneExport(node, "olga", channelA1, []byte("x"))
	node.srv.Close()
	mustStatus(t, "node down", tm.olga.do(http.MethodGet, "/api/v1/exports/"+id+"/file", nil), http.StatusServiceUnavailable, "recorder_unavailable")
	if _, err := tm.st.Pool.Exec(t.Context(), `DELETE FROM recorder_nodes`); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, "node gone", tm.olga.do(http.MethodDelete, "/api/v1/exports/"+id, nil), http.StatusServiceUnavailable, "recorder_unavailable")
	// The job is still there to read.
	mustStatus(t, "job", tm.olga.do(http.MethodGet, "/api/v1/exports/"+id, nil), http.StatusOK, "")
}
