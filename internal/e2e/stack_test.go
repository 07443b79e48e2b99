package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/mediagw"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/sipserver"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	serviceToken = "e2e-service-token-0123456789"
	playSecret   = "e2e-play-token-secret-0123456789abcdef"
	sipPassword  = "12345678"
)

// logWriter sends service logs to stderr with E2E_LOG set, else nowhere
// (goroutines may log after the test ended, when t.Log would panic).
type logWriter struct{}

func (logWriter) Write(b []byte) (int, error) {
	if os.Getenv("E2E_LOG") != "" {
		return os.Stderr.Write(b)
	}
	return len(b), nil
}

func logger(service string) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", service)
}

// stack is the services of one test on free loopback ports.
type stack struct {
	t      testing.TB
	dbURL  string
	sipCfg *config.Sipserver
	gwCfg  *config.Mediagw
	signer *playtoken.Signer
	sim    *gbsim.Sim
	// sipAddr is sipserver's SIP address (UDP and TCP), known once it
	// started: it listens on any free port number that is free on both.
	sipAddr string

	stopSip, stopGW, stopSim func()
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// newStack prepares the configuration of sipserver and mediagw; mod may
// change either before they start.
func newStack(t testing.TB, mod func(*config.Sipserver, *config.Mediagw)) *stack {
	t.Helper()
	// The schema is applied up front, as by a sipserver that ran before: a
	// test may start the console (a schema reader) ahead of the sipserver.
	s := &stack{t: t, dbURL: storetest.NewDB(t)}
	s.signer, _ = playtoken.NewSigner([]byte(playSecret))

	sc := &config.Sipserver{}
	sc.SetDefaults()
	sc.Database.URL = config.DatabaseURL(s.dbURL)
	sc.HTTP.Listen = addr(peertest.FreePort(t, "tcp"))
	// Any port: one free on UDP and TCP alike is not something a test can
	// reserve, sipserver finds one (startSipserver learns it).
	sc.SIP.Listen = "127.0.0.1:0"
	sc.SIP.Password = sipPassword
	sc.SIP.FlushInterval = config.Duration(50 * time.Millisecond)
	sc.ServiceToken = serviceToken

	gc := &config.Mediagw{}
	gc.SetDefaults()
	gc.HTTP.Listen = addr(peertest.FreePort(t, "tcp"))
	gc.RTSP.Listen = addr(peertest.FreePort(t, "tcp"))
	gc.RTP.UDPListen = addr(peertest.FreePort(t, "udp"))
	gc.WebRTC.ICEUDPListen = addr(peertest.FreePort(t, "udp"))
	gc.WebRTC.ICEHosts = []string{"127.0.0.1"}
	gc.AdvertiseIP = "127.0.0.1"
	// A port range per test binary run, away from make run's and the mediagw tests'.
	lo := 50000 + (os.Getpid()%200)*50
	gc.RTP.PortMin, gc.RTP.PortMax = lo, lo+49
	gc.ServiceToken = serviceToken
	gc.PlayTokenSecret = playSecret
	// Media opens are audited (fail closed): to a sink standing for the
	// console's audit API.
	gc.Audit.ConsoleURL = newAuditSink(t).URL()
	gc.OnDemand.SipserverURL = "http://" + sc.HTTP.Listen
	sc.Sessions.MediagwURL = "http://" + gc.HTTP.Listen
	sc.Sessions.ReconcileInterval = config.Duration(time.Second)
	if mod != nil {
		mod(sc, gc)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := gc.Validate(); err != nil {
		t.Fatal(err)
	}
	s.sipCfg, s.gwCfg = sc, gc
	return s
}

// runService runs fn until the returned stop is called (or the test ends)
// and waits for its /readyz, for at most startup: the service's own bounds
// of its start (startupWait), which only end a broken start.
func runService(t testing.TB, name, base string, startup time.Duration, fn func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("%s did not stop", name)
			}
		})
	}
	t.Cleanup(stop)
	testsupport.Eventually(t, startup, name+" ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("%s stopped: %v", name, err)
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return stop
}

// startupWait bounds a service's start: opening its database (db, nil for
// mediagw, which has none) waits up to database.connect_timeout (a schema
// reader waits that long for the owner), and the first /readyz answers
// within the HTTP server's own limit for a request.
func startupWait(db *config.Database, h config.HTTP) time.Duration {
	d := h.ReadHeaderTimeout.Std()
	if db != nil {
		d += db.ConnectTimeout.Std()
	}
	return d
}

func (s *stack) sipBase() string { return "http://" + s.sipCfg.HTTP.Listen }
func (s *stack) gwBase() string  { return "http://" + s.gwCfg.HTTP.Listen }

// startSipserver starts sipserver; a restart keeps the SIP port of the
// first start, as a restarted service would, so devices find it again.
func (s *stack) startSipserver() {
	s.t.Helper()
	if s.sipAddr != "" {
		s.sipCfg.SIP.Listen = s.sipAddr // the previous run has stopped
	}
	s.stopSip = runService(s.t, "sipserver", s.sipBase(), startupWait(&s.sipCfg.Database, s.sipCfg.HTTP), func(ctx context.Context) error {
		return sipserver.Run(ctx, s.sipCfg, logger("sipserver"))
	})
	if s.sipAddr == "" {
		var sum struct {
			SIP struct{ Addr string } `json:"sip"`
		}
		if code := s.sip("GET", "/internal/v1/summary", nil, &sum); code != http.StatusOK || sum.SIP.Addr == "" {
			s.t.Fatalf("sipserver summary: %d %+v", code, sum)
		}
		s.sipAddr = sum.SIP.Addr
	}
}

func (s *stack) startMediagw() {
	s.t.Helper()
	s.stopGW = runService(s.t, "mediagw", s.gwBase(), startupWait(nil, s.gwCfg.HTTP), func(ctx context.Context) error {
		return mediagw.Run(ctx, s.gwCfg, logger("mediagw"))
	})
}

// startSim runs gbsim cameras against sipserver and waits until all are
// registered and their catalogs stored.
func (s *stack) startSim(mod func(*gbsim.Config)) {
	s.t.Helper()
	cfg := mediatest.SimConfig(s.t)
	cfg.Server = s.sipAddr
	cfg.Password = sipPassword
	cfg.Devices, cfg.Channels = 1, 2
	if mod != nil {
		mod(&cfg)
	}
	sim, err := gbsim.New(cfg, logger("gbsim"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.sim = sim
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.Run(ctx); close(done) }()
	// Stopping unregisters every simulated device, as devices switched off
	// in an orderly way do.
	var once sync.Once
	s.stopSim = func() { once.Do(func() { cancel(); <-done }) }
	s.t.Cleanup(s.stopSim)
	want := cfg.Devices * cfg.Channels
	testsupport.Eventually(s.t, 60*time.Second, "cameras registered with their catalogs", func() bool {
		var out struct{ Total int }
		return sim.Stats().Registered == int64(cfg.Devices) &&
			s.sip("GET", "/internal/v1/channels?online=true", nil, &out) == http.StatusOK && out.Total == want
	})
}

// call makes a JSON request with the service token.
func call(t testing.TB, method, url string, body, out any) int {
	t.Helper()
	return callAs(t, serviceToken, method, url, body, out)
}

// callAs makes a JSON request with a bearer token.
func callAs(t testing.TB, token, method, url string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func (s *stack) sip(method, path string, body, out any) int {
	return call(s.t, method, s.sipBase()+path, body, out)
}

func (s *stack) gw(method, path string, body, out any) int {
	return call(s.t, method, s.gwBase()+path, body, out)
}

// stream is what mediagw reports about a path.
type stream struct {
	Path       string  `json:"path"`
	VideoCodec string  `json:"video_codec"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Units      uint64  `json:"units"`
	FPS        float64 `json:"fps"`
	Receiver   string  `json:"receiver"`
}

func (s *stack) stream(path string) (stream, bool) {
	var st stream
	code := s.gw("GET", "/internal/v1/streams/"+path, nil, &st)
	return st, code == http.StatusOK
}

type session struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Path      string `json:"path"`
	State     string `json:"state"`
	Transport string `json:"transport"`
	SSRC      string `json:"ssrc"`
	Receiver  string `json:"receiver"`
	EndReason string `json:"end_reason"`
	Error     string `json:"error"`
}

func (s *stack) sessions(query string) []session {
	var out struct{ Items []session }
	if code := s.sip("GET", "/internal/v1/sessions"+query, nil, &out); code != http.StatusOK {
		s.t.Fatalf("list sessions: %d", code)
	}
	return out.Items
}

// token mints a play token for path.
func (s *stack) token(path, right string) string {
	tok, err := s.signer.Issue(playtoken.Claims{
		Subject: "e2e", Paths: []string{path}, Rights: []string{right},
		IssuedAt: time.Now().Unix(), Expires: time.Now().Add(10 * time.Minute).Unix(),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func channelID(n int) string { return fmt.Sprintf("3402000000131%07d", n) }
