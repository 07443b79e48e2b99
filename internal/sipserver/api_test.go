package sipserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// validatedAPI serves the harness's API checked against openapi.json: every
// request and answer of the test must be what the document says.
type validatedAPI struct {
	t   *testing.T
	url string
	v   *apitest.Validator
}

func newValidatedAPI(t *testing.T, h *harness) *validatedAPI {
	t.Helper()
	mux := http.NewServeMux()
	(&API{Server: h.srv, Store: h.store, Token: testToken, Log: h.srv.Log}).Register(mux)
	v := apitest.NewValidator(t, openAPI)
	srv := httptest.NewServer(v.Handler(t, mux))
	t.Cleanup(srv.Close)
	return &validatedAPI{t: t, url: srv.URL, v: v}
}

// call makes a request with the token and decodes the answer into out
// (when given); it returns the status and the answer's error code.
func (a *validatedAPI) call(method, path, body string, out any) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	var e svcapi.Error
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
			a.t.Errorf("%s %s: error answer without a code: %s", method, path, b)
		}
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res.StatusCode, e.Code
}

// TestAPIAgainstDocument drives every route of the API with a simulated
// device, through a server that checks each request and answer against
// openapi.json, and checks the codes of the failures; then that every
// documented operation was reached.
func TestAPIAgainstDocument(t *testing.T) {
	h := startServer(t, openStore(t), testConfig())
	api := newValidatedAPI(t, h)
	const id = "34020000001320000901"
	stop := h.runSim(simConfig(1, 2, "udp", id), io.Discard)
	testsupport.Eventually(t, h.settle(), "catalog synchronised", func() bool { return len(h.channels(id)) == 2 })
	testsupport.Eventually(t, h.settle(), "channels online", func() bool {
		var l svcapi.List[sipapi.Channel]
		code, _ := api.call("GET", "/internal/v1/channels?device_id="+id+"&online=true", "", &l)
		return code == 200 && l.Total == 2
	})
	ch := h.channels(id)[0].ID
	dev := "/internal/v1/devices/" + id
	chp := dev + "/channels/" + ch
	start := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().UTC().Format(time.RFC3339)
	unknownDev := "/internal/v1/devices/34020000001320000999"

	type step struct {
		method, path, body string
		status             int
		code               string
	}
	run := func(steps []step) {
		t.Helper()
		for _, s := range steps {
			status, code := api.call(s.method, s.path, s.body, nil)
			if status != s.status || code != s.code {
				t.Errorf("%s %s %s: %d %q, want %d %q", s.method, s.path, s.body, status, code, s.status, s.code)
			}
		}
	}
	run([]step{
		{"GET", "/internal/v1/summary", "", 200, ""},
		{"GET", "/internal/v1/devices?limit=10&q=" + id[:10], "", 200, ""},
		{"GET", "/internal/v1/devices?limit=5000", "", 400, svcapi.CodeBadRequest},
		{"GET", dev, "", 200, ""},
		{"GET", unknownDev, "", 404, svcapi.CodeNotFound},
		{"PATCH", dev, `{"stream_transport":"tcp-passive","source_check":"ip"}`, 200, ""},
		{"PATCH", dev, `{"stream_transport":""}`, 200, ""},
		{"PATCH", dev, `{"source_check":"strict"}`, 200, ""},
		{"PATCH", dev, `{}`, 400, svcapi.CodeBadRequest},
		{"GET", dev + "/status-log?from=2020-01-01T00:00:00Z", "", 200, ""},
		{"POST", dev + "/catalog", "", 200, ""},
		{"GET", dev + "/info", "", 200, ""},
		{"GET", dev + "/status", "", 200, ""},
		{"GET", dev + "/config", "", 200, ""},
		{"PUT", dev + "/heartbeat", `{"interval":60,"count":3}`, 200, ""},
		{"POST", dev + "/control", `{"command":"iframe"}`, 200, ""},
		{"POST", dev + "/control", `{"command":"explode"}`, 400, svcapi.CodeBadRequest},
		{"GET", "/internal/v1/channels?device_id=" + id, "", 200, ""},
		{"GET", chp, "", 200, ""},
		{"PATCH", chp, `{"stream_transport":"udp"}`, 200, ""},
		{"PATCH", chp, `{"stream_transport":"carrier-pigeon"}`, 400, svcapi.CodeBadRequest},
		{"POST", chp + "/ptz", `{"action":"move","directions":["up"],"speed":100}`, 200, ""},
		{"POST", chp + "/ptz", `{"action":"spin"}`, 400, svcapi.CodeBadRequest},
		{"POST", "/internal/v1/ptz-locks", `{"device_id":"` + id + `","channel_id":"` + ch + `","controller":{"id":"user:1","name":"ann","priority":5}}`, 200, ""},
		{"POST", "/internal/v1/ptz-locks", `{"device_id":"` + id + `","channel_id":"` + ch + `","controller":{"id":"user:1","name":"ann","priority":10}}`, 400, svcapi.CodeBadRequest},
		{"POST", "/internal/v1/ptz-locks", `{"device_id":"` + id + `","channel_id":"34020000001310000999","controller":{"id":"user:1","name":"ann","priority":5}}`, 404, svcapi.CodeNotFound},
		{"GET", chp + "/presets", "", 200, ""},
		{"POST", chp + "/control", `{"command":"record_start"}`, 200, ""},
		{"GET", chp + "/records?start=" + start + "&end=" + end, "", 200, ""},
		{"GET", chp + "/records", "", 400, svcapi.CodeBadRequest},
		{"GET", "/internal/v1/alarms?device_id=" + id, "", 200, ""},
		{"GET", "/internal/v1/sessions?state=all", "", 200, ""},
		{"GET", "/internal/v1/sessions?state=maybe", "", 400, svcapi.CodeBadRequest},
		{"GET", "/internal/v1/sessions/nope", "", 404, svcapi.CodeNotFound},
		{"DELETE", "/internal/v1/sessions/nope", "", 404, svcapi.CodeNotFound},
		{"POST", "/internal/v1/sessions/nope/control", `{"action":"pause"}`, 404, svcapi.CodeNotFound},
		{"POST", "/internal/v1/sessions/nope/control", `{"action":"scale","scale":99}`, 400, svcapi.CodeBadRequest},
		// No mediagw node is configured: the stream cannot start.
		{"POST", "/internal/v1/streams/needed", `{"path":"live/` + ch + `"}`, 503, sipapi.CodeMediaUnavailable},
		{"POST", "/internal/v1/streams/needed", `{"path":"nowhere"}`, 400, svcapi.CodeBadRequest},
		{"POST", "/internal/v1/sessions", `{"kind":"playback","channel_id":"` + ch + `","start":"` + start + `","end":"` + end + `","owner":"u"}`, 503, sipapi.CodeMediaUnavailable},
		{"POST", "/internal/v1/streams/idle", `{"path":"live/` + ch + `"}`, 404, svcapi.CodeNotFound},
		{"POST", "/internal/v1/streams/ended", `{"path":"live/` + ch + `","reason":"rtp timeout"}`, 404, svcapi.CodeNotFound},
		{"POST", "/internal/v1/streams/ended", `{"path":"live/` + ch + `","reason":"` + strings.Repeat("x", 65) + `"}`, 400, svcapi.CodeBadRequest},
		{"POST", "/internal/v1/senders/ended", `{"sender":"0123456789abcdef","reason":"stream_ended"}`, 404, svcapi.CodeNotFound},
		{"POST", "/internal/v1/senders/ended", `{"sender":""}`, 400, svcapi.CodeBadRequest},
	})

	// The device goes away: its channels are offline wherever the API
	// shows them, and what needs the device answers device_offline.
	stop()
	testsupport.Eventually(t, h.settle(), "device offline", func() bool { return !h.device(id).Online })
	var c sipapi.Channel
	if code, _ := api.call("GET", chp, "", &c); code != 200 || c.Online {
		t.Errorf("channel of an offline device: %d online=%v", code, c.Online)
	}
	var l svcapi.List[sipapi.Channel]
	if code, _ := api.call("GET", "/internal/v1/channels?device_id="+id, "", &l); code != 200 || l.Total != 2 ||
		slices.ContainsFunc(l.Items, func(c sipapi.Channel) bool { return c.Online }) {
		t.Errorf("channels of an offline device: %d %+v", code, l)
	}
	if code, _ := api.call("GET", "/internal/v1/channels?device_id="+id+"&online=true", "", &l); code != 200 || l.Total != 0 {
		t.Errorf("online channels of an offline device: %d %+v", code, l)
	}
	run([]step{
		{"POST", chp + "/ptz", `{"action":"stop"}`, 409, sipapi.CodeDeviceOffline},
		{"GET", dev + "/info", "", 409, sipapi.CodeDeviceOffline},
		{"POST", unknownDev + "/channels/" + ch + "/ptz", `{"action":"stop"}`, 404, svcapi.CodeNotFound},
	})

	// Every documented operation was checked against a real answer.
	seen := api.v.Exercised()
	for _, op := range api.v.Operations() {
		if op != "GET /internal/v1/openapi.json" && seen[op] == 0 {
			t.Errorf("%s is documented but no test answer was checked against it", op)
		}
	}
}
