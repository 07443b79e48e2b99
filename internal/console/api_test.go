package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// operator returns a logged-in operator's client on a seeded env.
func operator(t *testing.T, opts envOptions) (*env, *client) {
	t.Helper()
	e := newEnv(t, opts)
	e.seed()
	e.addUser("olga", "olga-password", store.RoleOperator)
	c := e.client()
	c.login("olga", "olga-password")
	return e, c
}

func TestDevicesAndChannels(t *testing.T) {
	_, c := operator(t, envOptions{})
	var devs struct {
		Items []struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			Online       bool   `json:"online"`
			Manufacturer string `json:"manufacturer"`
			ChannelCount int    `json:"channel_count"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r := c.do(http.MethodGet, "/api/v1/devices", nil)
	mustStatus(t, "devices", r, http.StatusOK, "")
	r.json(t, &devs)
	if devs.Total != 2 || devs.Items[0].ID != deviceA || !devs.Items[0].Online || devs.Items[0].ChannelCount != 3 ||
		devs.Items[0].Manufacturer != "Hikvision" {
		t.Fatalf("devices %s", r.Body)
	}
	c.do(http.MethodGet, "/api/v1/devices?online=false", nil).json(t, &devs)
	if devs.Total != 1 || devs.Items[0].ID != deviceB {
		t.Errorf("offline devices %+v", devs)
	}
	c.do(http.MethodGet, "/api/v1/devices?q=dahua", nil).json(t, &devs)
	if devs.Total != 1 || devs.Items[0].ID != deviceB {
		t.Errorf("search %+v", devs)
	}
	for _, bad := range []string{"limit=0", "limit=x", "offset=-1", "online=maybe"} {
		mustStatus(t, bad, c.do(http.MethodGet, "/api/v1/devices?"+bad, nil), http.StatusBadRequest, "bad_request")
	}

	var chs struct {
		Items []struct {
			ID        string `json:"id"`
			DeviceID  string `json:"device_id"`
			Online    bool   `json:"online"`
			PTZType   int    `json:"ptz_type"`
			CivilCode string `json:"civil_code"`
		} `json:"items"`
		Total int `json:"total"`
	}
	c.do(http.MethodGet, "/api/v1/channels?device_id="+deviceA+"&online=true", nil).json(t, &chs)
	if chs.Total != 1 || chs.Items[0].ID != channelA1 || chs.Items[0].PTZType != 1 || chs.Items[0].CivilCode != "34020101" {
		t.Errorf("online channels of A %+v", chs)
	}
	c.do(http.MethodGet, "/api/v1/channels?q=yard&limit=10", nil).json(t, &chs)
	if chs.Total != 1 || chs.Items[0].DeviceID != deviceB {
		t.Errorf("channel search %+v", chs)
	}
}

func TestTree(t *testing.T) {
	_, c := operator(t, envOptions{})
	var tree struct {
		Nodes []*console.Node `json:"nodes"`
	}
	c.do(http.MethodGet, "/api/v1/tree", nil).json(t, &tree)
	if len(tree.Nodes) != 2 || tree.Nodes[0].ID != deviceA || tree.Nodes[0].Kind != "device" || !tree.Nodes[0].Online {
		t.Fatalf("device tree %+v", tree.Nodes)
	}
	a := tree.Nodes[0]
	// The civil-code entry 340201 is not a video channel.
	if len(a.Children) != 2 || a.Children[0].ID != channelA1 || a.Children[0].Kind != "channel" || !a.Children[0].Online ||
		a.ChannelCount != 2 || a.OnlineCount != 1 {
		t.Fatalf("device A %+v", a)
	}

	c.do(http.MethodGet, "/api/v1/tree?by=region", nil).json(t, &tree)
	// 34 → 3402 → 340201 (named from the catalog) → 34020101 → channel A1; A2 (34020100) sits at 340201;
	// B1 has no civil code.
	if len(tree.Nodes) != 2 || tree.Nodes[0].ID != "34" || tree.Nodes[1].ID != "unassigned" {
		t.Fatalf("region roots %+v", tree.Nodes)
	}
	// Regions are named by their administrative divisions (GB/T 2260),
	// with the code beside the name.
	if p, c := tree.Nodes[0], tree.Nodes[0].Children[0]; p.Name != "安徽省" || p.Code != "34" || c.Name != "芜湖市" || c.Code != "3402" ||
		tree.Nodes[1].Code != "" {
		t.Fatalf("region names %+v / %+v", p, c)
	}
	d := tree.Nodes[0].Children[0].Children[0]
	if d.ID != "340201" || d.Name != "Xuanwu District" || d.ChannelCount != 2 || d.OnlineCount != 1 || !d.Online {
		t.Fatalf("district %+v", d)
	}
	if len(d.Children) != 2 || d.Children[0].ID != "34020101" || d.Children[0].Children[0].ID != channelA1 || d.Children[1].ID != channelA2 {
		t.Fatalf("district children %+v", d.Children)
	}
	if u := tree.Nodes[1]; len(u.Children) != 1 || u.Children[0].ID != channelB1 || u.Online {
		t.Fatalf("unassigned %+v", u)
	}
	mustStatus(t, "bad by", c.do(http.MethodGet, "/api/v1/tree?by=owner", nil), http.StatusBadRequest, "bad_request")
}

func TestCivilLevels(t *testing.T) {
	for _, tc := range []struct {
		code string
		want []string
	}{
		{"", nil},
		{"34", []string{"34"}},
		{"340201", []string{"34", "3402", "340201"}},
		{"34020000", []string{"34", "3402"}},
		{"34000000", []string{"34"}},
		{"3402010199", []string{"34", "3402", "340201", "34020101"}},
	} {
		nodes := console.RegionTree([]store.Channel{{ID: channelA1, CivilCode: tc.code}})
		var got []string
		for n := nodes[0]; n.Kind == console.NodeRegion; n = n.Children[0] {
			got = append(got, n.ID)
		}
		if tc.want == nil {
			tc.want = []string{"unassigned"}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("civil code %q: levels %v, want %v", tc.code, got, tc.want)
		}
	}
}

// playAnswer is the answer of play and playback.
type playAnswer struct {
	SessionID string `json:"session_id"`
	Path      string `json:"path"`
	WHEP      string `json:"whep"`
	HLS       string `json:"hls"`
	RTSP      string `json:"rtsp"`
	Expires   string `json:"expires"`
}

// tokenOf returns the verified claims of a play URL's token.
func tokenOf(t *testing.T, signer *playtoken.Signer, raw string) playtoken.Claims {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := signer.Parse(u.Query().Get("token"), time.Now())
	if err != nil {
		t.Fatalf("token of %s: %v", raw, err)
	}
	return c
}

func TestPlay(t *testing.T) {
	e, c := operator(t, envOptions{})
	r := c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil)
	mustStatus(t, "play", r, http.StatusOK, "")
	var p playAnswer
	r.json(t, &p)
	path := "live/" + channelA1
	if p.Path != path || !strings.HasPrefix(p.WHEP, "http://media.example:8888/whep/"+path+"?token=") ||
		!strings.HasPrefix(p.HLS, "http://media.example:8888/hls/"+path+"/index.m3u8?token=") ||
		!strings.HasPrefix(p.RTSP, "rtsp://media.example:8554/"+path+"?token=") {
		t.Fatalf("play answer %+v", p)
	}
	exp, err := time.Parse(time.RFC3339, p.Expires)
	if err != nil || exp.Before(time.Now().Add(4*time.Minute)) || exp.After(time.Now().Add(6*time.Minute)) {
		t.Errorf("expires %q", p.Expires)
	}
	claims := tokenOf(t, e.signer, p.WHEP)
	if claims.Subject != "olga" || len(claims.Paths) != 1 || claims.Paths[0] != path || len(claims.Rights) != 1 || claims.Rights[0] != "live" {
		t.Errorf("claims %+v", claims)
	}
	if _, err := e.signer.Verify(strings.SplitN(p.WHEP, "token=", 2)[1], "live/"+channelA2, time.Now()); err == nil {
		t.Error("the token opens another channel")
	}
	// The stream is pre-started in the background.
	call := e.sip.waitCall(t, "POST /internal/v1/streams/needed")
	if !strings.Contains(call.Body, `"path":"`+path+`"`) || call.Auth != "Bearer "+serviceToken {
		t.Errorf("pre-start call %+v", call)
	}
	entries, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "play"})
	if err != nil || len(entries) != 1 || entries[0].Username != "olga" || entries[0].Target != channelA1 || entries[0].Remote != "127.0.0.1" {
		t.Fatalf("audit %+v %v", entries, err)
	}

	mustStatus(t, "unknown channel", c.do(http.MethodPost, "/api/v1/channels/34020000001310009999/play", nil), http.StatusNotFound, "not_found")
	// A pre-start failure is only logged: play still answers.
	e.sip.answer["POST /internal/v1/streams/needed"] = func(w http.ResponseWriter, _ []byte) {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "device offline"})
	}
	mustStatus(t, "play offline", c.do(http.MethodPost, "/api/v1/channels/"+channelB1+"/play", nil), http.StatusOK, "")
}

func TestPlayDisabledWithoutSecret(t *testing.T) {
	_, c := operator(t, envOptions{noSigner: true})
	mustStatus(t, "play", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil), http.StatusServiceUnavailable, "play_disabled")
	mustStatus(t, "playback", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback",
		map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"}), http.StatusServiceUnavailable, "play_disabled")
}

func TestStop(t *testing.T) {
	e, c := operator(t, envOptions{})
	mustStatus(t, "stop", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/stop", nil), http.StatusNoContent, "")
	mustStatus(t, "operator force", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/stop", map[string]bool{"force": true}),
		http.StatusForbidden, "forbidden")
	if len(e.sip.callsTo("POST /internal/v1/streams/idle")) != 0 {
		t.Fatal("a stop without force ended the shared session")
	}
	e.addUser("root", "root-password", store.RoleAdmin)
	a := e.client()
	a.login("root", "root-password")
	mustStatus(t, "admin force", a.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/stop", map[string]bool{"force": true}),
		http.StatusNoContent, "")
	if calls := e.sip.callsTo("POST /internal/v1/streams/idle"); len(calls) != 1 || !strings.Contains(calls[0].Body, "live/"+channelA1) {
		t.Fatalf("idle calls %+v", calls)
	}
	entries, _, _ := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "stop"})
	if len(entries) != 2 {
		t.Errorf("audited stops: %d", len(entries))
	}
}

func TestPTZ(t *testing.T) {
	e, c := operator(t, envOptions{})
	body := `{"action":"move","directions":["left"],"speed":128}`
	r := c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", body)
	mustStatus(t, "ptz", r, http.StatusOK, "")
	if !strings.Contains(string(r.Body), "A50F010A64648007") {
		t.Errorf("ptz answer %s", r.Body)
	}
	calls := e.sip.callsTo("POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz")
	if len(calls) != 1 || calls[0].Body != body {
		t.Fatalf("forwarded %+v", calls)
	}
	for _, bad := range []string{`[]`, `{"speed":1}`, `not json`, `{"action":""}`} {
		mustStatus(t, "ptz "+bad, c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", bad), http.StatusBadRequest, "bad_request")
	}
	mustStatus(t, "ptz unknown channel", c.do(http.MethodPost, "/api/v1/channels/x/ptz", `{"action":"stop"}`), http.StatusNotFound, "not_found")
}

func TestSipserverErrorsMapped(t *testing.T) {
	e, c := operator(t, envOptions{})
	ptzKey := "POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz"
	// The codes decide, never the text: a conflict that says "offline" is
	// a conflict. An answer without a code has its status's code.
	for _, tc := range []struct {
		status    int
		code, msg string
		want      int
		wantCode  string
	}{
		{http.StatusNotFound, "not_found", "unknown channel", http.StatusNotFound, "not_found"},
		{http.StatusConflict, "device_offline", "device 3402 is not registered", http.StatusConflict, "offline"},
		{http.StatusConflict, "device_busy", "486 Busy Here", http.StatusConflict, "busy"},
		{http.StatusConflict, "conflict", "session offline or busy", http.StatusConflict, "conflict"},
		{http.StatusBadGateway, "device_refused", "device refused: 488", http.StatusBadGateway, "device_refused"},
		{http.StatusGatewayTimeout, "timeout", "no answer", http.StatusGatewayTimeout, "timeout"},
		{http.StatusBadRequest, "bad_request", "bad speed", http.StatusBadRequest, "bad_request"},
		{http.StatusServiceUnavailable, "unavailable", "internal API disabled", http.StatusServiceUnavailable, "sipserver_unavailable"},
		{http.StatusServiceUnavailable, "media_unavailable", "no media node", http.StatusServiceUnavailable, "sipserver_unavailable"},
		{http.StatusInternalServerError, "internal", "boom", http.StatusBadGateway, "sipserver_error"},
		{http.StatusBadGateway, "", "an older peer's refusal", http.StatusBadGateway, "device_refused"},
		{http.StatusUnauthorized, "unauthorized", "bad service token", http.StatusServiceUnavailable, "sipserver_unavailable"},
		{http.StatusForbidden, "", "a proxy's refusal", http.StatusServiceUnavailable, "sipserver_unavailable"},
	} {
		e.sip.answer[ptzKey] = func(w http.ResponseWriter, _ []byte) {
			writeJSON(w, tc.status, map[string]string{"error": tc.msg, "code": tc.code})
		}
		r := c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", `{"action":"stop"}`)
		mustStatus(t, tc.msg, r, tc.want, tc.wantCode)
		// sipserver's message, prefixed only where the console says whose
		// trouble it is; never the client's "<status> <message>" rendering.
		var body struct{ Error string }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s: %v", tc.msg, err)
		}
		if msg, _ := strings.CutPrefix(strings.TrimPrefix(body.Error, "sipserver refused the console: "), "sipserver: "); msg != tc.msg {
			t.Errorf("%s: error = %q, want sipserver's message", tc.msg, body.Error)
		}
	}
	// sipserver down.
	e.sip.srv.Close()
	r := c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", `{"action":"stop"}`)
	mustStatus(t, "sipserver down", r, http.StatusServiceUnavailable, "sipserver_unavailable")
	// The transport error names sipserver's internal address: only the log may.
	if u := strings.TrimPrefix(e.sip.srv.URL, "http://"); strings.Contains(string(r.Body), u) {
		t.Errorf("sipserver down: the answer leaks the internal address: %s", r.Body)
	}
}

func TestRecords(t *testing.T) {
	e, c := operator(t, envOptions{})
	r := c.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/records?start=2024-05-01T00:00:00Z&end=2024-05-02T00:00:00Z", nil)
	mustStatus(t, "records", r, http.StatusOK, "")
	var recs struct {
		Items []struct {
			Name  string    `json:"name"`
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
			Type  string    `json:"type"`
		} `json:"items"`
		Partial bool `json:"partial"`
	}
	r.json(t, &recs)
	if len(recs.Items) != 1 || recs.Items[0].Name != "rec1" || recs.Items[0].Type != "time" || recs.Items[0].End.Sub(recs.Items[0].Start) != time.Hour {
		t.Fatalf("records %s", r.Body)
	}
	calls := e.sip.callsTo("GET /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/records")
	q, _ := url.ParseQuery(calls[0].Query)
	if q.Get("start") != "2024-05-01T00:00:00Z" || q.Get("end") != "2024-05-02T00:00:00Z" {
		t.Errorf("forwarded query %q", calls[0].Query)
	}
	for _, bad := range []string{
		"", "start=2024-05-01T00:00:00Z", "start=yesterday&end=2024-05-02T00:00:00Z",
		"start=2024-05-02T00:00:00Z&end=2024-05-01T00:00:00Z", "start=2024-01-01T00:00:00Z&end=2024-05-01T00:00:00Z",
	} {
		mustStatus(t, "records "+bad, c.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/records?"+bad, nil), http.StatusBadRequest, "bad_request")
	}
}

func TestPlayback(t *testing.T) {
	e, c := operator(t, envOptions{})
	r := c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback",
		map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"})
	mustStatus(t, "playback", r, http.StatusOK, "")
	var p playAnswer
	r.json(t, &p)
	if p.SessionID == "" || p.Path != "playback/"+p.SessionID || !strings.Contains(p.WHEP, "/whep/playback/"+p.SessionID+"?token=") {
		t.Fatalf("playback answer %s", r.Body)
	}
	if cl := tokenOf(t, e.signer, p.HLS); cl.Rights[0] != "playback" || cl.Paths[0] != p.Path {
		t.Errorf("claims %+v", cl)
	}
	var req sipapi.SessionRequest
	if err := json.Unmarshal([]byte(e.sip.callsTo("POST /internal/v1/sessions")[0].Body), &req); err != nil ||
		req.Kind != "playback" || req.ChannelID != channelA1 || req.End.Sub(req.Start) != time.Hour {
		t.Fatalf("session request %+v %v", req, err)
	}

	ctl := "/api/v1/playback/" + p.SessionID + "/control"
	for _, ok := range []string{`{"action":"pause"}`, `{"action":"resume"}`, `{"action":"seek","position":120}`, `{"action":"scale","scale":2}`} {
		mustStatus(t, ok, c.do(http.MethodPost, ctl, ok), http.StatusNoContent, "")
	}
	if calls := e.sip.callsTo("POST /internal/v1/sessions/" + p.SessionID + "/control"); len(calls) != 4 || calls[2].Body != `{"action":"seek","position":120}` {
		t.Fatalf("control calls %+v", calls)
	}
	for _, bad := range []string{`{"action":"rewind"}`, `{"action":"seek"}`, `{"action":"seek","position":-1}`, `{"action":"scale","scale":16}`} {
		mustStatus(t, bad, c.do(http.MethodPost, ctl, bad), http.StatusBadRequest, "bad_request")
	}
	// A download session is not a playback session.
	mustStatus(t, "control of a download", c.do(http.MethodPost, "/api/v1/playback/download-x/control", `{"action":"pause"}`),
		http.StatusNotFound, "not_found")
	mustStatus(t, "bad id", c.do(http.MethodPost, "/api/v1/playback/a%2Fb/control", `{"action":"pause"}`), http.StatusBadRequest, "bad_request")
	mustStatus(t, "stop", c.do(http.MethodDelete, "/api/v1/playback/"+p.SessionID, nil), http.StatusNoContent, "")
	if len(e.sip.callsTo("DELETE /internal/v1/sessions/"+p.SessionID)) != 1 {
		t.Fatal("no DELETE at sipserver")
	}
	for _, bad := range []map[string]string{{"start": "2024-05-01T09:00:00Z", "end": "2024-05-01T08:00:00Z"}, {"start": "x", "end": "y"}, {}} {
		mustStatus(t, "bad range", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback", bad), http.StatusBadRequest, "bad_request")
	}
	actions := map[string]int{}
	entries, _, _ := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "olga"})
	for _, en := range entries {
		actions[en.Action]++
	}
	if actions["playback"] != 1 || actions["playback_control"] != 4 || actions["playback_stop"] != 1 {
		t.Errorf("audit %v", actions)
	}
}
