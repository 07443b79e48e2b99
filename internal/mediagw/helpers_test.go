package mediagw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

const (
	testServiceToken = "test-service-token-0123456789"
	testPlaySecret   = "test-play-token-secret-0123456789abcdef"
	// The first channels of gbsim's first device; with -media mixed the
	// first is H.264 and the second H.265.
	chanH264 = "34020000001310000001"
	chanH265 = "34020000001310000002"
)

// testGW is a mediagw started with Run on free loopback ports.
type testGW struct {
	t    testing.TB
	cfg  *config.Mediagw
	base string // http://127.0.0.1:port
	// api is base behind a proxy that checks every control API request
	// and answer against openapi.json (call and get use it).
	api    string
	rtsp   string // rtsp://127.0.0.1:port
	signer *playtoken.Signer
	audit  *auditSink
	stop   func()
}

// auditSink is the console's side of the audit contract (auditapi): it
// checks the service token and the body, keeps the media opens and answers
// 204, or refuses to store them while failing is set. The tokens of the
// users in revoked are revoked: their media opens are refused (403
// viewer_revoked) and the viewers check lists them.
type auditSink struct {
	srv *httptest.Server

	mu      sync.Mutex
	opens   []auditapi.MediaOpen
	failing int // the status answered instead of 204; 0: store
	revoked map[string]bool
	checks  int
	bad     []string
}

// revoke revokes every token of user.
func (a *auditSink) revoke(user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revoked == nil {
		a.revoked = make(map[string]bool)
	}
	a.revoked[user] = true
}

// serveCheck answers a viewers check; a.mu held.
func (a *auditSink) serveCheck(w http.ResponseWriter, r *http.Request) {
	var c auditapi.ViewersCheck
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Validate() != nil {
		a.bad = append(a.bad, fmt.Sprintf("check %+v: %v %v", c, err, c.Validate()))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	a.checks++
	out := auditapi.ViewersRevoked{Revoked: []auditapi.Viewer{}}
	for _, v := range c.Viewers {
		if a.revoked[v.User] {
			out.Revoked = append(out.Revoked, v)
		}
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
}

func newAuditSink(t testing.TB) *auditSink {
	a := &auditSink{}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *auditSink) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Method == http.MethodPost && r.URL.Path == auditapi.PathViewersCheck &&
		r.Header.Get("Authorization") == "Bearer "+testServiceToken {
		a.serveCheck(w, r)
		return
	}
	var m auditapi.MediaOpen
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&m)
	switch {
	case r.Method != http.MethodPost || r.URL.Path != auditapi.PathMediaOpens:
		a.bad = append(a.bad, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	case r.Header.Get("Authorization") != "Bearer "+testServiceToken:
		a.bad = append(a.bad, "token "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
	case err != nil || m.Validate() != nil:
		a.bad = append(a.bad, fmt.Sprintf("body %+v: %v %v", m, err, m.Validate()))
		w.WriteHeader(http.StatusBadRequest)
	case a.failing != 0:
		w.WriteHeader(a.failing)
	case a.revoked[m.User] && !m.IssuedAt.IsZero():
		a.opens = append(a.opens, m)
		svcapi.WriteJSON(w, http.StatusForbidden, svcapi.Error{Error: "play token revoked", Code: auditapi.CodeRevoked})
	default:
		a.opens = append(a.opens, m)
		w.WriteHeader(http.StatusNoContent)
	}
}

// fail makes the sink answer status instead of storing (0: store again).
func (a *auditSink) fail(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failing = status
}

// stored returns the media opens stored so far, failing the test on any
// request that broke the contract.
func (a *auditSink) stored(t testing.TB) []auditapi.MediaOpen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.bad) > 0 {
		t.Fatalf("audit requests outside the contract: %q", a.bad)
	}
	return append([]auditapi.MediaOpen(nil), a.opens...)
}

// startGW runs mediagw until the test ends. Its ports are picked free, and
// another test binary may take one before mediagw binds it: such a start
// is tried again on new ports.
func startGW(t testing.TB, mod func(*config.Mediagw)) *testGW {
	t.Helper()
	for attempt := 1; ; attempt++ {
		g, err := tryStartGW(t, mod)
		if err == nil {
			return g
		}
		if !testsupport.AddrInUse(err) || attempt == testsupport.PortAttempts {
			t.Fatalf("mediagw stopped: %v", err)
		}
		t.Logf("ports taken in between, again (%d): %v", attempt, err)
	}
}

// tryStartGW starts mediagw once; an error is Run's, returned before ready.
func tryStartGW(t testing.TB, mod func(*config.Mediagw)) (*testGW, error) {
	t.Helper()
	cfg := &config.Mediagw{}
	cfg.SetDefaults()
	httpPort := peertest.FreePort(t, "tcp")
	rtspPort := peertest.FreePort(t, "tcp")
	cfg.HTTP.Listen = "127.0.0.1:" + strconv.Itoa(httpPort)
	cfg.RTSP.Listen = "127.0.0.1:" + strconv.Itoa(rtspPort)
	cfg.RTP.UDPListen = "127.0.0.1:" + strconv.Itoa(peertest.FreePort(t, "udp"))
	cfg.WebRTC.ICEUDPListen = "127.0.0.1:" + strconv.Itoa(peertest.FreePort(t, "udp"))
	cfg.WebRTC.ICEHosts = []string{"127.0.0.1"}
	cfg.AdvertiseIP = "127.0.0.1"
	// A port range of its own per test binary run, away from make run's.
	lo := 40000 + (os.Getpid()%200)*50
	cfg.RTP.PortMin, cfg.RTP.PortMax = lo, lo+49
	cfg.ServiceToken = testServiceToken
	cfg.PlayTokenSecret = testPlaySecret
	cfg.OnDemand.SipserverURL = ""
	audit := newAuditSink(t)
	cfg.Audit.ConsoleURL = audit.srv.URL
	if mod != nil {
		mod(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lv := slog.LevelInfo
	if os.Getenv("MEDIAGW_TEST_LOG") == "" {
		lv = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: lv}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log) }()
	g := &testGW{t: t, cfg: cfg, base: "http://" + cfg.HTTP.Listen, rtsp: "rtsp://" + cfg.RTSP.Listen, audit: audit}
	g.signer, _ = playtoken.NewSigner([]byte(testPlaySecret))
	g.api = validatingProxy(t, g.base)
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("mediagw Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("mediagw did not stop")
			}
		})
	}
	// Run waits on no peer before it is ready: the bound, the HTTP server's
	// own limit for a request to arrive, only ends a broken start.
	var runErr error
	testsupport.Eventually(t, cfg.HTTP.ReadHeaderTimeout.Std(), "mediagw ready", func() bool {
		select {
		case err := <-done:
			runErr = err
			if runErr == nil {
				runErr = errors.New("mediagw Run returned before it was ready")
			}
			return true
		default:
		}
		resp, err := http.Get(g.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if runErr != nil {
		cancel()
		return nil, runErr
	}
	t.Cleanup(g.stop)
	return g, nil
}

// streamWait bounds the waits for media at a path and the gateway's
// reaction to it (a stream up with its codec and size, its counters moving,
// a stream gone): a receiver that gets no packet for rtp.timeout closes, so
// media not there by then never comes, and once it flows the gateway gives
// a stream on_demand.wait to come up (what a viewer waits for it). It is
// only reached on failure.
func (g *testGW) streamWait() time.Duration {
	return g.cfg.RTP.Timeout.Std() + g.cfg.OnDemand.Wait.Std()
}

// idleWait bounds the wait for sipserver to be told a stream nobody
// watches is idle: the last output lets go of it within hls.idle_timeout
// (the longest-lived output) and transcode.linger, the stream is idle
// on_demand.idle_timeout later, and the call is a request like any other.
func (g *testGW) idleWait() time.Duration {
	return g.cfg.HLS.IdleTimeout.Std() + g.cfg.Transcode.Linger.Std() + g.cfg.OnDemand.IdleTimeout.Std() + g.streamWait()
}

// call makes a control API request and decodes the JSON answer into out.
func (g *testGW) call(method, path string, body any, out any) int {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+testServiceToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// get returns the body of a control API GET with the service token.
func (g *testGW) get(path string) string {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+testServiceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		g.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// userToken issues a console user's play token (revocable: it has an
// issue time) for paths, valid for an hour.
func (g *testGW) userToken(sub string, paths ...string) string {
	g.t.Helper()
	now := time.Now()
	tk, err := g.signer.Issue(playtoken.Claims{
		Subject: sub, Paths: paths, Rights: []string{playtoken.RightLive},
		IssuedAt: now.Unix(), Expires: now.Add(time.Hour).Unix(),
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return tk
}

// token issues a play token for path.
func (g *testGW) token(path string) string {
	tok, err := g.signer.Issue(playtoken.Claims{
		Subject: "test", Paths: []string{path}, Rights: []string{playtoken.RightLive},
		Expires: time.Now().Add(time.Minute).Unix(),
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return tok
}

// stream fetches a stream's info; ok is false on 404.
func (g *testGW) stream(path string) (mediaapi.Stream, bool) {
	var st mediaapi.Stream
	code := g.call("GET", "/internal/v1/streams/"+path, nil, &st)
	return st, code == 200
}

// waitStream waits until the stream of path satisfies cond, at most
// timeout (streamWait unless the test knows a tighter bound).
func (g *testGW) waitStream(path string, timeout time.Duration, cond func(mediaapi.Stream) bool) mediaapi.Stream {
	g.t.Helper()
	var st mediaapi.Stream
	var ok, met bool
	defer func() {
		if !met { // Eventually failed the test: what was there last
			g.t.Logf("stream %s last seen (published %v): %+v", path, ok, st)
		}
	}()
	testsupport.Eventually(g.t, timeout, "stream "+path+" to match", func() bool {
		st, ok = g.stream(path)
		return ok && cond(st)
	})
	met = true
	return st
}

// waitGone waits until nothing is published at path any more.
func (g *testGW) waitGone(path string, timeout time.Duration) {
	g.t.Helper()
	testsupport.Eventually(g.t, timeout, path+" unpublished", func() bool { _, ok := g.stream(path); return !ok })
}

// newSim prepares a gbsim device (not registered anywhere: Answer drives
// it) with mixed H.264/H.265 channels of real 640x360 video.
func newSim(t testing.TB, mods ...func(*gbsim.Config)) *gbsim.Sim {
	t.Helper()
	cfg := mediatest.SimConfig(t)
	for _, m := range mods {
		m(&cfg)
	}
	sim, err := gbsim.New(cfg, slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	// Answer runs without Run, so nothing else closes it: a clip still being
	// made or a stream still sending would outlive the test.
	t.Cleanup(sim.Close)
	return sim
}

// startCamera opens a receiver for path and makes the simulated channel
// stream to it with transport, as sipserver and a device would after an
// INVITE. It returns the receiver.
func startCamera(ctx context.Context, t testing.TB, g *testGW, sim *gbsim.Sim, channel, path, transport string, shared bool) mediaapi.Receiver {
	t.Helper()
	ri, err := openCamera(ctx, g.base, sim, channel, path, transport, shared)
	if err != nil {
		t.Fatal(err)
	}
	return ri
}

// openCamera is startCamera without a test, for the on-demand handler.
func openCamera(ctx context.Context, base string, sim *gbsim.Sim, channel, path, transport string, shared bool) (mediaapi.Receiver, error) {
	const ssrc = 100000001
	var ri mediaapi.Receiver
	if err := apiCall(base, "POST", "/internal/v1/receivers",
		mediaapi.OpenRequest{Path: path, SSRC: strconv.Itoa(ssrc), Transport: transport, Shared: shared}, &ri, 201); err != nil {
		return ri, err
	}
	answer, err := answerCamera(ctx, sim, channel, ri.IP, ri.Port, ssrc, transport)
	if err != nil {
		return ri, err
	}
	if transport == mediaapi.TransportTCPActive {
		ans, err := sdp.Parse(answer)
		if ans == nil {
			return ri, fmt.Errorf("answer: %w", err)
		}
		if err := apiCall(base, "POST", "/internal/v1/receivers/"+ri.ID+"/connect",
			map[string]any{"ip": ans.Connection.Address, "port": ans.Medias[0].Port}, &ri, 200); err != nil {
			return ri, err
		}
	}
	return ri, nil
}

// answerCamera offers the simulated channel a session sending to ip:port
// and returns the device's SDP answer; the camera streams until ctx ends.
func answerCamera(ctx context.Context, sim *gbsim.Sim, channel, ip string, port int, ssrc uint32, transport string) ([]byte, error) {
	opt := sdp.TransportUDP
	switch transport {
	case mediaapi.TransportTCPPassive:
		opt = sdp.TransportTCPPassive
	case mediaapi.TransportTCPActive:
		opt = sdp.TransportTCPActive
	}
	offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: "34020000002000000001", IP: ip, Port: port}, sdp.SSRC(ssrc), sdp.WithTransport(opt))
	if err != nil {
		return nil, err
	}
	return sim.Answer(ctx, channel, offer.Marshal())
}

func apiCall(base, method, path string, body, out any, want int) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testServiceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, rb)
	}
	if out != nil && len(rb) > 0 {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// sipserverDouble answers mediagw's calls the way sipserver does, with a
// gbsim device behind it: "needed" opens a receiver and starts the camera,
// "idle" closes the receiver (sipserver would send BYE), "ended" is noted.
type sipserverDouble struct {
	srv       *httptest.Server
	sim       *gbsim.Sim
	transport string

	mu      sync.Mutex
	gwBase  string // set once mediagw runs; read by the handler
	calls   []string
	cancels map[string]context.CancelFunc
	recv    map[string]string
}

func newSipserverDouble(t testing.TB, sim *gbsim.Sim, transport string) *sipserverDouble {
	d := &sipserverDouble{sim: sim, transport: transport, cancels: map[string]context.CancelFunc{}, recv: map[string]string{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(func() {
		d.srv.Close()
		d.mu.Lock()
		for _, c := range d.cancels {
			c()
		}
		d.mu.Unlock()
	})
	return d
}

func (d *sipserverDouble) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testServiceToken {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		return
	}
	d.mu.Lock()
	gwBase := d.gwBase
	d.mu.Unlock()
	var body struct{ Path, Reason string }
	_ = json.NewDecoder(r.Body).Decode(&body)
	what := strings.TrimPrefix(r.URL.Path, "/internal/v1/streams/")
	d.mu.Lock()
	d.calls = append(d.calls, what+" "+body.Path)
	d.mu.Unlock()
	channel := strings.TrimPrefix(body.Path, "live/")
	switch what {
	case "needed":
		if channel != chanH264 && channel != chanH265 {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":"unknown channel"}`))
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		ri, err := openCamera(ctx, gwBase, d.sim, channel, body.Path, d.transport, false)
		if err != nil {
			cancel()
			http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusBadGateway)
			return
		}
		d.mu.Lock()
		d.cancels[body.Path] = cancel
		d.recv[body.Path] = ri.ID
		d.mu.Unlock()
	case "idle":
		d.mu.Lock()
		id, cancel := d.recv[body.Path], d.cancels[body.Path]
		delete(d.recv, body.Path)
		delete(d.cancels, body.Path)
		d.mu.Unlock()
		if cancel != nil {
			cancel() // BYE: the camera stops
			_ = apiCall(gwBase, "DELETE", "/internal/v1/receivers/"+id, nil, nil, 204)
		}
	}
	w.WriteHeader(200)
}

// setGateway tells the double where mediagw's control API is.
func (d *sipserverDouble) setGateway(base string) {
	d.mu.Lock()
	d.gwBase = base
	d.mu.Unlock()
}

func (d *sipserverDouble) called(call string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.calls {
		if c == call {
			return true
		}
	}
	return false
}

// testLogWriter sends logs to stderr with MEDIAGW_TEST_LOG set, else
// nowhere: goroutines of gbsim and mediagw may log after the test ended,
// when t.Log would panic.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(b []byte) (int, error) {
	if os.Getenv("MEDIAGW_TEST_LOG") != "" {
		return os.Stderr.Write(b)
	}
	return len(b), nil
}

// validatingProxy serves base's control API through apitest's validator of
// openapi.json: each real request and answer of the tests is checked
// against the document (the route table tells it that the stream path of
// GET /internal/v1/streams/{path...} spans segments). Requests outside the
// control API pass through.
func validatingProxy(t testing.TB, base string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	checked := apitest.NewValidator(t, openAPI, svcapi.Patterns((&API{}).routes())...).Handler(t, proxy)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/internal/v1/") {
			proxy.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
