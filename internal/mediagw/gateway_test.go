package mediagw

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

func TestIngestTransports(t *testing.T) {
	g := startGW(t, nil)
	sim := newSim(t)
	cases := []struct {
		name, transport, channel, codec string
		shared                          bool
	}{
		{"udp", mediaapi.TransportUDP, chanH264, "H264", false},
		{"udp-shared", mediaapi.TransportUDP, chanH264, "H264", true},
		{"tcp-passive", mediaapi.TransportTCPPassive, chanH265, "H265", false},
		{"tcp-active", mediaapi.TransportTCPActive, chanH264, "H264", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			path := "live/" + c.name
			ri := startCamera(ctx, t, g, sim, c.channel, path, c.transport, c.shared)
			if ri.IP != "127.0.0.1" || ri.Port == 0 {
				t.Fatalf("receiver %+v", ri)
			}
			st := g.waitStream(path, g.streamWait(), func(s mediaapi.Stream) bool {
				return s.VideoCodec == c.codec && s.Width == 640 && s.Height == 360 && s.FPS > 20
			})
			if st.Ingest == nil || st.Ingest.Lost != 0 || st.Ingest.Packets == 0 || st.AudioCodec != "G711A" {
				t.Fatalf("ingest %+v audio %q", st.Ingest, st.AudioCodec)
			}
			if code := g.call("DELETE", "/internal/v1/receivers/"+ri.ID, nil, nil); code != 204 {
				t.Fatalf("DELETE = %d", code)
			}
			if _, ok := g.stream(path); ok {
				t.Fatal("stream still published after its receiver closed")
			}
		})
	}
}

func TestControlAPIErrors(t *testing.T) {
	g := startGW(t, nil)
	var ri mediaapi.Receiver
	if code := g.call("POST", "/internal/v1/receivers", mediaapi.OpenRequest{Path: "live/a", SSRC: "0100000001", Transport: "udp"}, &ri); code != 201 {
		t.Fatalf("open = %d", code)
	}
	raw := func(method, path, body, token string) int {
		req, _ := http.NewRequest(method, g.api+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 && !bytes.Contains(b, []byte(`"error"`)) {
			t.Errorf("%s %s: error without JSON message: %s", method, path, b)
		}
		return resp.StatusCode
	}
	tok := testServiceToken
	cases := []struct {
		name, method, path, body, token string
		want                            int
	}{
		{"no token", "GET", "/internal/v1/streams", "", "", 401},
		{"wrong token", "GET", "/internal/v1/streams", "", "nope-nope-nope-nope", 401},
		{"bad JSON", "POST", "/internal/v1/receivers", "{", tok, 400},
		{"unknown field", "POST", "/internal/v1/receivers", `{"path":"live/b","transport":"udp","x":1}`, tok, 400},
		{"bad transport", "POST", "/internal/v1/receivers", `{"path":"live/b","transport":"sctp"}`, tok, 400},
		{"bad path", "POST", "/internal/v1/receivers", `{"path":"../etc","transport":"udp"}`, tok, 400},
		{"transcode path", "POST", "/internal/v1/receivers", `{"path":"live/b~h264","transport":"udp"}`, tok, 400},
		{"bad ssrc", "POST", "/internal/v1/receivers", `{"path":"live/b","transport":"udp","ssrc":"99999999999"}`, tok, 400},
		{"shared without ssrc", "POST", "/internal/v1/receivers", `{"path":"live/b","transport":"udp","shared":true}`, tok, 400},
		{"path busy", "POST", "/internal/v1/receivers", `{"path":"live/a","transport":"udp"}`, tok, 409},
		{"too large", "POST", "/internal/v1/receivers", `{"path":"` + strings.Repeat("a", 70<<10) + `"}`, tok, 413},
		{"unknown receiver", "GET", "/internal/v1/receivers/nope", "", tok, 404},
		{"patch unknown", "PATCH", "/internal/v1/receivers/nope", `{"ssrc":"1"}`, tok, 404},
		{"patch nothing", "PATCH", "/internal/v1/receivers/" + ri.ID, `{}`, tok, 400},
		{"patch half bad", "PATCH", "/internal/v1/receivers/" + ri.ID, `{"ssrc":"7","allow_ips":["nope"]}`, tok, 400},
		{"connect udp", "POST", "/internal/v1/receivers/" + ri.ID + "/connect", `{"ip":"127.0.0.1","port":5}`, tok, 400},
		{"delete unknown", "DELETE", "/internal/v1/receivers/nope", "", tok, 404},
		{"unknown stream", "GET", "/internal/v1/streams/live/nope", "", tok, 404},
		{"token without paths", "POST", "/internal/v1/play-tokens", `{}`, tok, 400},
		{"token ttl too long", "POST", "/internal/v1/play-tokens", `{"paths":["live/*"],"ttl":"48h"}`, tok, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := raw(c.method, c.path, c.body, c.token); got != c.want {
				t.Fatalf("%s %s = %d, want %d", c.method, c.path, got, c.want)
			}
		})
	}
	// A PATCH with one bad value applied none.
	if code := g.call("GET", "/internal/v1/receivers/"+ri.ID, nil, &ri); code != 200 || ri.SSRC != "0100000001" {
		t.Fatalf("receiver after a refused PATCH = %d %+v", code, ri)
	}
	// The device answered with another SSRC: the receiver follows.
	var patched mediaapi.Receiver
	if code := g.call("PATCH", "/internal/v1/receivers/"+ri.ID, map[string]string{"ssrc": "0100000002"}, &patched); code != 200 || patched.SSRC != "0100000002" {
		t.Fatalf("patch = %d %+v", code, patched)
	}
	var tokResp struct{ Token string }
	if code := g.call("POST", "/internal/v1/play-tokens", map[string]any{"paths": []string{"live/a"}, "ttl": "1m"}, &tokResp); code != 201 {
		t.Fatalf("play token = %d", code)
	}
	if _, err := g.signer.Verify(tokResp.Token, "live/a", time.Now()); err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	// The OpenAPI document needs no token and lists every route.
	resp, err := http.Get(g.base + "/internal/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, route := range []string{
		"POST /internal/v1/receivers", "GET /internal/v1/receivers", "GET /internal/v1/receivers/{id}",
		"PATCH /internal/v1/receivers/{id}", "POST /internal/v1/receivers/{id}/connect", "DELETE /internal/v1/receivers/{id}",
		"GET /internal/v1/streams", "GET /internal/v1/streams/{path}", "GET /internal/v1/outputs", "GET /internal/v1/webhook",
		"POST /internal/v1/play-tokens", "GET /internal/v1/metrics",
	} {
		method, p, _ := strings.Cut(route, " ")
		if _, ok := doc.Paths[p][strings.ToLower(method)]; !ok {
			t.Errorf("openapi.json does not document %s", route)
		}
	}
}

func TestRTPTimeoutTellsSipserverAndWebhook(t *testing.T) {
	sim := newSim(t)
	sip := newSipserverDouble(t, sim, mediaapi.TransportUDP)
	const secret = "webhook-secret-0123456789"
	var mu sync.Mutex
	var events []Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if r.Header.Get("X-Sharpeyes-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("webhook signature %q does not match", r.Header.Get("X-Sharpeyes-Signature"))
		}
		var e Event
		_ = json.Unmarshal(body, &e)
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	defer hook.Close()
	g := startGW(t, func(c *config.Mediagw) {
		c.RTP.Timeout = config.Duration(time.Second)
		c.OnDemand.SipserverURL = sip.srv.URL
		c.Webhook.URL = hook.URL
		c.Webhook.Secret = secret
	})
	sip.setGateway(g.base)
	ctx, cancel := context.WithCancel(context.Background())
	startCamera(ctx, t, g, sim, chanH264, "live/"+chanH264, mediaapi.TransportUDP, false)
	g.waitStream("live/"+chanH264, g.streamWait(), func(s mediaapi.Stream) bool { return s.Width == 640 })
	cancel() // the camera stops sending
	testsupport.Eventually(t, g.streamWait(), "sipserver told the stream ended", func() bool { return sip.called("ended live/" + chanH264) })
	if _, ok := g.stream("live/" + chanH264); ok {
		t.Fatal("timed out stream still published")
	}
	// The hook has an event as soon as the request reaches it, and the
	// webhook counts it delivered once the answer is back: both are waited
	// for, as long as the webhook may try (webhookAttempts of
	// webhook.timeout).
	var wh struct {
		Webhook mediaapi.WebhookStats `json:"webhook"`
	}
	delivered := false
	defer func() {
		if !delivered { // Eventually failed the test: what there was
			mu.Lock()
			defer mu.Unlock()
			t.Logf("webhook events %+v, stats %+v", events, wh.Webhook)
		}
	}()
	testsupport.Eventually(t, webhookAttempts*g.cfg.Webhook.Timeout.Std(), "stream.ready and stream.closed delivered", func() bool {
		mu.Lock()
		var ready, closed bool
		for _, e := range events {
			ready = ready || (e.Type == "stream.ready" && e.Width == 640 && e.VideoCodec == "H264")
			closed = closed || (e.Type == "stream.closed" && e.Reason == "rtp_timeout")
		}
		mu.Unlock()
		g.call("GET", "/internal/v1/webhook", nil, &wh)
		return ready && closed && wh.Webhook.Delivered >= 2
	})
	delivered = true
	if !wh.Webhook.Signed {
		t.Fatalf("webhook stats %+v", wh.Webhook)
	}
}

// Bad input on the media ports: garbage datagrams on the shared and a
// dedicated port, a camera whose PSM lies about its codec and one that sends
// no PSM. The good streams play on, the faulty ones are read correctly, and
// the garbage is counted, not fatal.
func TestBadInput(t *testing.T) {
	g := startGW(t, nil)
	good := newSim(t)
	lying := newSim(t, func(c *gbsim.Config) { c.Faults.LyingPSM = true })
	noPSM := newSim(t, func(c *gbsim.Config) { c.Faults.NoPSM = true; c.Faults.PacketLoss = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shared := startCamera(ctx, t, g, good, chanH264, "live/good-shared", mediaapi.TransportUDP, true)
	own := startCamera(ctx, t, g, good, chanH264, "live/good-own", mediaapi.TransportUDP, false)
	startCamera(ctx, t, g, lying, chanH265, "live/lying-psm", mediaapi.TransportUDP, false)
	startCamera(ctx, t, g, noPSM, chanH264, "live/no-psm-lossy", mediaapi.TransportTCPPassive, false)

	garbage := [][]byte{
		{},
		{0x80},
		[]byte("not RTP at all"), bytes.Repeat([]byte{0xff}, 1400),
		// RTP of the right SSRC but a PS payload of noise, from a socket
		// that is not the camera's: dropped as a foreign source.
		append([]byte{0x80, 0x60, 0, 1, 0, 0, 0, 1, 0x05, 0xf5, 0xe1, 0x01}, bytes.Repeat([]byte{0x00, 0x00, 0x01, 0xba}, 50)...),
	}
	// The cameras' first packets latch their sources before the garbage.
	for _, path := range []string{"live/good-shared", "live/good-own"} {
		g.waitStream(path, g.streamWait(), func(s mediaapi.Stream) bool { return s.Ingest != nil && s.Ingest.Source != "" })
	}
	for _, port := range []int{shared.Port, own.Port} {
		c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			for _, b := range garbage {
				_, _ = c.Write(b)
			}
		}
		c.Close()
	}
	want := map[string]string{"live/good-shared": "H264", "live/good-own": "H264", "live/lying-psm": "H265", "live/no-psm-lossy": "H264"}
	for path, codec := range want {
		st := g.waitStream(path, g.streamWait(), func(s mediaapi.Stream) bool {
			return s.VideoCodec == codec && s.Width == 640 && s.Height == 360 && s.FPS > 15
		})
		t.Logf("%s: %s %dx%d %.1f fps, ingest %+v", path, st.VideoCodec, st.Width, st.Height, st.FPS, *st.Ingest)
	}
	// The garbage is read from the sockets after the streams above may
	// have been found playing: wait until it is all counted, then check
	// that nothing else was. The camera's packets queue behind it, and
	// a receiver that reads none of them for rtp.timeout ends its stream.
	for _, path := range []string{"live/good-shared", "live/good-own"} {
		st := g.waitStream(path, g.cfg.RTP.Timeout.Std(), func(s mediaapi.Stream) bool {
			return s.Ingest != nil && s.Ingest.ForeignSource >= 20 && (path != "live/good-own" || s.Ingest.Invalid >= 80)
		})
		if st.Ingest.ForeignSource != 20 || st.Ingest.SourceMoves != 0 {
			t.Fatalf("%s: the foreign right-SSRC packets not counted (or not only them): %+v", path, st.Ingest)
		}
		if path == "live/good-own" && st.Ingest.Invalid != 80 {
			t.Fatalf("%s: garbage on the dedicated port counted %d times, want 80: %+v", path, st.Ingest.Invalid, st.Ingest)
		}
	}
	// The public metrics have totals and name no path: which channels are
	// watched is for holders of the service token.
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{
		`sharpeyes_mediagw_udp_mux_dropped_total{reason="invalid"}`, "sharpeyes_mediagw_ingest_invalid_total 80",
		"sharpeyes_mediagw_ingest_foreign_source_total 40", `sharpeyes_mediagw_audit_total{outcome="refused"} 0`,
	} {
		if !strings.Contains(string(body), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if strings.Contains(string(body), "path=") || strings.Contains(string(body), "live/") {
		t.Errorf("public metrics name paths:\n%s", body)
	}
	resp, err = http.Get(g.base + "/internal/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("per-path metrics without the service token = %d", resp.StatusCode)
	}
	perPath := g.get("/internal/v1/metrics")
	for _, m := range []string{
		`sharpeyes_mediagw_stream_ingest_invalid_total{path="live/good-own"} 80`,
		`sharpeyes_mediagw_stream_video_fps{path="live/lying-psm"}`,
		`sharpeyes_mediagw_stream_ingest_foreign_source_total{path="live/good-own"} 20`,
	} {
		if !strings.Contains(perPath, m) {
			t.Errorf("per-path metrics lack %s", m)
		}
	}
}

// countingSipserver starts the camera in-process the way sipserver would,
// counting the calls.
type countingSipserver struct {
	g      *Gateway
	sim    *gbsim.Sim
	ctx    context.Context
	mu     sync.Mutex
	needed int
}

func (c *countingSipserver) StreamNeeded(ctx context.Context, path string) error {
	c.mu.Lock()
	c.needed++
	c.mu.Unlock()
	time.Sleep(100 * time.Millisecond) // the INVITE round trip
	ri, err := c.g.Open(mediaapi.OpenRequest{Path: path, SSRC: "100000001", Transport: mediaapi.TransportUDP})
	if err != nil {
		return err
	}
	offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: "34020000002000000001", IP: ri.IP, Port: ri.Port}, sdp.SSRC(100000001))
	if err != nil {
		return err
	}
	_, err = c.sim.Answer(c.ctx, strings.TrimPrefix(path, "live/"), offer.Marshal())
	return err
}

func (c *countingSipserver) StreamIdle(context.Context, string) error          { return nil }
func (c *countingSipserver) StreamEnded(context.Context, string, string) error { return nil }
func (c *countingSipserver) SenderEnded(context.Context, string, string) error { return nil }

// Many viewers asking for the same stream at once make one stream-needed
// call, and all of them get a reader starting on a keyframe.
func TestOnDemandOneCallForManyViewers(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	g := &Gateway{
		Hub: h, Ports: &ingest.PortAllocator{Min: 46000, Max: 46099}, ListenIP: "127.0.0.1", AuthOff: true,
		OnDemandWait: 15 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sip := &countingSipserver{g: g, sim: newSim(t), ctx: ctx}
	g.Signalling = sip
	if err := g.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	const viewers = 6
	errs := make(chan error, viewers)
	for i := range viewers {
		go func() {
			r, err := g.Read(ctx, access.Request{Path: "live/" + chanH264, Protocol: "test", Remote: strconv.Itoa(i)})
			if err == nil {
				var u hub.Unit
				if u, err = r.Next(ctx); err == nil && !u.Keyframe && u.Codec.IsVideo() {
					err = fmt.Errorf("first unit is not a keyframe")
				}
				r.Close()
			}
			errs <- err
		}()
	}
	for range viewers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	sip.mu.Lock()
	needed := sip.needed
	sip.mu.Unlock()
	if needed != 1 {
		t.Fatalf("%d stream-needed calls for %d viewers, want 1", needed, viewers)
	}
	// A path outside the contract never reaches sipserver.
	if _, err := g.Read(ctx, access.Request{Path: "live/x/../y", Protocol: "test"}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("bad path: %v", err)
	}
}
