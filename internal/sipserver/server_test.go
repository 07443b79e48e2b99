package sipserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	testPassword = "12345678"
	testToken    = "test-service-token-0123456789"
)

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// testConfig is the SIP configuration of tests: loopback, a free port,
// short timers.
func testConfig() config.SIP {
	var c config.Sipserver
	c.SetDefaults()
	s := c.SIP
	s.Listen = "127.0.0.1:0"
	s.Password = testPassword
	s.FlushInterval = config.Duration(50 * time.Millisecond)
	s.RequestTimeout = config.Duration(5 * time.Second)
	return s
}

type harness struct {
	t     *testing.T
	store *sipdb.DB
	srv   *Server
	api   *httptest.Server
	cfg   config.SIP
	// closeOnce lets a test stop the server before its cleanup does.
	closeOnce sync.Once
}

// openStore opens a fresh database with the current schema.
func openStore(t *testing.T) *sipdb.DB {
	t.Helper()
	return sipdb.New(storetest.Open(t, pgtest.NewDB(t), 10))
}

// startServer starts a Server (and its API) on st.
func startServer(t *testing.T, st *sipdb.DB, cfg config.SIP) *harness {
	t.Helper()
	return startServerWith(t, st, cfg, nil)
}

// startServerWith is startServer with mod applied to the Server first.
func startServerWith(t *testing.T, st *sipdb.DB, cfg config.SIP, mod func(*Server)) *harness {
	t.Helper()
	srv := &Server{Config: cfg, Store: st, Log: testLogger(t), Metrics: prometheus.NewRegistry()}
	if mod != nil {
		mod(srv)
	}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{Server: srv, Store: st, Token: testToken, Log: srv.Log}).Register(mux)
	api := httptest.NewServer(mux)
	h := &harness{t: t, store: st, srv: srv, api: api, cfg: cfg}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.closeOnce.Do(func() {
		h.api.Close()
		h.srv.Close()
	})
}

func (h *harness) sipAddr() string { return h.srv.SIPAddr().String() }

// runSim starts gbsim against the server; the returned stop function
// unregisters the devices and waits for them.
func (h *harness) runSim(cfg gbsim.Config, log io.Writer) (stop func()) {
	h.t.Helper()
	_, stop = h.startSimLog(cfg, log)
	return stop
}

// startSim starts gbsim against the server and returns it; it is stopped
// (its devices unregistered) when the test ends.
func (h *harness) startSim(cfg gbsim.Config) *gbsim.Sim {
	h.t.Helper()
	sim, _ := h.startSimLog(cfg, nil)
	return sim
}

// startMediaSim is startSim with devices that answer INVITEs and send
// their synthetic clip.
func (h *harness) startMediaSim(cfg gbsim.Config) *gbsim.Sim {
	h.t.Helper()
	sim, _ := h.startSimOpts(cfg, nil, true)
	return sim
}

// startSimLog starts gbsim logging to log (nil: the test log), its
// devices refusing INVITEs.
func (h *harness) startSimLog(cfg gbsim.Config, log io.Writer) (*gbsim.Sim, func()) {
	h.t.Helper()
	return h.startSimOpts(cfg, log, false)
}

func (h *harness) startSimOpts(cfg gbsim.Config, log io.Writer, media bool) (*gbsim.Sim, func()) {
	h.t.Helper()
	cfg.Server = h.sipAddr()
	cfg.LocalIP = "127.0.0.1"
	cfg.MediaOff = !media
	cfg.FFmpeg = ""
	cfg.CacheDir = h.t.TempDir()
	var l *slog.Logger
	if log != nil {
		l = slog.New(slog.NewTextHandler(log, nil))
	} else {
		l = testLogger(h.t)
	}
	sim, err := gbsim.New(cfg, l)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	h.t.Cleanup(stop)
	return sim, stop
}

// settle bounds the waits for the server's asynchronous effects (a
// registration stored, a catalog queried and applied, a session ended): each
// is a few SIP transactions, every one bounded by the request timeout, and a
// flush of the state writer.
func (h *harness) settle() time.Duration {
	return 4*h.cfg.RequestTimeout.Std() + h.cfg.FlushInterval.Std()
}

func (h *harness) device(id string) store.Device {
	h.t.Helper()
	d, err := h.store.GetDevice(context.Background(), id)
	if err != nil {
		return store.Device{}
	}
	return d
}

func (h *harness) statusLog(id string) []store.StatusChange {
	h.t.Helper()
	log, err := h.store.StatusLog(context.Background(), id, time.Now().Add(-48*time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		h.t.Fatal(err)
	}
	return log
}

// deviceLog returns the causes of a device's own transitions, e.g. "+register".
func (h *harness) deviceLog(id string) []string {
	var out []string
	for _, c := range h.statusLog(id) {
		if c.ChannelID == "" {
			sign := "-"
			if c.Online {
				sign = "+"
			}
			out = append(out, sign+c.Cause)
		}
	}
	return out
}

func (h *harness) channels(deviceID string) []store.Channel {
	h.t.Helper()
	chs, _, err := h.store.ListChannels(context.Background(), store.ChannelFilter{DeviceID: deviceID})
	if err != nil {
		h.t.Fatal(err)
	}
	return chs
}

// call makes an internal API request and decodes the JSON answer into out.
func (h *harness) call(method, path, body string, out any) int {
	h.t.Helper()
	req, err := http.NewRequest(method, h.api.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

func simConfig(devices, channels int, transport, firstID string) gbsim.Config {
	c := gbsim.DefaultConfig()
	c.Devices, c.Channels, c.Transport, c.DeviceIDStart = devices, channels, transport, firstID
	c.Keepalive = 300 * time.Millisecond
	return c
}

func TestRegisterCatalogUnregister(t *testing.T) {
	h := startServer(t, openStore(t), testConfig())
	for _, tc := range []struct {
		transport string
		first     string
		devices   int
	}{
		{"udp", "34020000001320000001", 2},
		{"tcp", "34020000001320000101", 1},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			var simLog apitest.SyncBuffer
			stop := h.runSim(simConfig(tc.devices, 4, tc.transport, tc.first), &simLog)
			id := tc.first
			testsupport.Eventually(t, h.settle(), "registration stored", func() bool { d := h.device(id); return d.Online && d.Transport == tc.transport })
			testsupport.Eventually(t, h.settle(), "catalog synchronised", func() bool { return len(h.channels(id)) == 4 })
			chs := h.channels(id)
			if chs[0].Name == "" || chs[0].CivilCode == "" {
				t.Fatalf("channel fields missing: %+v", chs[0])
			}
			testsupport.Eventually(t, h.settle(), "channels online", func() bool {
				for _, c := range h.channels(id) {
					if !c.Online {
						return false
					}
				}
				return true
			})
			testsupport.Eventually(t, h.settle(), "device info stored", func() bool { return h.device(id).Manufacturer != "" })
			testsupport.Eventually(t, h.settle(), "keepalives seen", func() bool { return h.srv.metricsKeepalives() >= 2 })

			// The internal API shows the live state.
			var dev sipapi.Device
			if code := h.call("GET", "/internal/v1/devices/"+id, "", &dev); code != 200 || !dev.Online || !dev.Registered {
				t.Fatalf("GET device: %d %+v", code, dev)
			}
			var list svcapi.List[sipapi.Channel]
			if code := h.call("GET", "/internal/v1/channels?device_id="+id+"&online=true", "", &list); code != 200 || list.Total != 4 {
				t.Fatalf("GET channels: %d %+v", code, list)
			}
			testsupport.Eventually(t, h.settle(), "catalog subscription", func() bool { return h.srv.devices.get(id).snapshot().SubscribedUntil.After(time.Now()) })

			// PTZ reaches the camera.
			ch := list.Items[0].ID
			if code := h.call("POST", "/internal/v1/devices/"+id+"/channels/"+ch+"/ptz", `{"action":"move","directions":["up","left"],"speed":100}`, nil); code != 200 {
				t.Fatalf("PTZ: %d", code)
			}
			testsupport.Eventually(t, h.settle(), "PTZ applied by the camera", func() bool { return strings.Contains(simLog.String(), "channel_id="+ch+" cmd=") })

			// Records and presets are queried live.
			var recs struct {
				Items []struct{ Start, End time.Time }
				Total int
			}
			start := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
			end := time.Now().UTC().Format(time.RFC3339)
			if code := h.call("GET", "/internal/v1/devices/"+id+"/channels/"+ch+"/records?start="+start+"&end="+end, "", &recs); code != 200 || recs.Total == 0 {
				t.Fatalf("records: %d %+v", code, recs)
			}
			if code := h.call("GET", "/internal/v1/devices/"+id+"/channels/"+ch+"/presets", "", nil); code != 200 {
				t.Fatalf("presets: %d", code)
			}

			stop()
			testsupport.Eventually(t, h.settle(), "unregistration stored", func() bool { return !h.device(id).Online })
			if got := h.deviceLog(id); strings.Join(got, ",") != "+register,-unregister" {
				t.Fatalf("status log %v", got)
			}
		})
	}
}

func (s *Server) metricsKeepalives() int { return int(testutil.ToFloat64(s.metrics.keepalives)) }

func TestWrongPasswordBlocks(t *testing.T) {
	cfg := testConfig()
	cfg.AuthFailures = 2
	h := startServer(t, openStore(t), cfg)
	sc := simConfig(1, 1, "udp", "34020000001320000201")
	sc.Password = "wrong-password"
	h.runSim(sc, nil)
	testsupport.Eventually(t, h.settle(), "the pair blocked", func() bool {
		return h.srv.failures.blocked("127.0.0.1", "34020000001320000201", time.Now())
	})
	if d := h.srv.devices.get("34020000001320000201"); d != nil && d.snapshot().Registered {
		t.Fatal("registered with a wrong password")
	}
	// Another device from the same IP is not blocked.
	h.runSim(simConfig(1, 1, "udp", "34020000001320000202"), nil)
	testsupport.Eventually(t, h.settle(), "the other device registered", func() bool { return h.device("34020000001320000202").Online })
}

// testClock is an injected clock that moves only when the test says.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// TestKeepaliveTimeout: a silent device goes offline after interval ×
// count, logged one interval after its last sign of life; a device that
// keeps sending keepalives does not. The server's clock is injected, so the
// result does not depend on how busy the machine is.
func TestKeepaliveTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.HeartbeatInterval = config.Duration(time.Second)
	cfg.HeartbeatCount = 2
	clock := &testClock{now: time.Now().Truncate(time.Millisecond)}
	t0 := clock.Now()
	h := startServerWith(t, openStore(t), cfg, func(s *Server) { s.Now = clock.Now })
	sc := simConfig(2, 1, "udp", "34020000001320000301")
	sc.Faults.NoKeepalive = 1 // the first device never sends a keepalive
	h.runSim(sc, nil)
	silent, alive := "34020000001320000301", "34020000001320000302"
	testsupport.Eventually(t, h.settle(), "both registered", func() bool { return h.device(silent).Online && h.device(alive).Online })

	// 1.5 s later the live device has sent a keepalive (stamped now), the
	// silent one has not: neither is overdue yet (deadline 2 s).
	at := clock.Add(1500 * time.Millisecond)
	testsupport.Eventually(t, h.settle(), "a keepalive stamped after the clock moved", func() bool {
		return !h.srv.devices.get(alive).snapshot().LastKeepalive.Before(at)
	})
	h.srv.sweep(clock.Now())
	// At 2.5 s the silent device is overdue, the live one is not (3.5 s).
	h.srv.sweep(clock.Add(time.Second))
	testsupport.Eventually(t, h.settle(), "silent device offline", func() bool {
		return strings.Join(h.deviceLog(silent), ",") == "+register,-keepalive_timeout"
	})
	var log []store.StatusChange
	for _, c := range h.statusLog(silent) {
		if c.ChannelID == "" {
			log = append(log, c)
		}
	}
	if !log[0].At.Equal(t0) || !log[1].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("transitions at %s and %s; want registration at %s and offline one interval later", log[0].At, log[1].At, t0)
	}
	if !h.srv.devices.get(alive).snapshot().Online {
		t.Fatal("device with keepalives went offline")
	}
	if got := h.deviceLog(alive); strings.Join(got, ",") != "+register" {
		t.Fatalf("device with keepalives: status log %v (false offline)", got)
	}
}

func TestRestartKeepsState(t *testing.T) {
	st := openStore(t)
	cfg := testConfig()
	h := startServer(t, st, cfg)
	h.runSim(simConfig(1, 2, "udp", "34020000001320000401"), nil)
	id := "34020000001320000401"
	testsupport.Eventually(t, h.settle(), "registered", func() bool { return h.device(id).Online })
	testsupport.Eventually(t, h.settle(), "catalog", func() bool { return len(h.channels(id)) == 2 })
	h.close()

	// Same port, as a restarted service would have.
	cfg.Listen = h.sipAddr()
	h2 := startServer(t, st, cfg)
	if d := h2.srv.devices.get(id); d == nil || !d.snapshot().Online || !d.snapshot().Registered {
		t.Fatal("device not restored online")
	}
	// The device keeps sending keepalives to the same port, the new process
	// takes them, and the device stays online.
	testsupport.Eventually(t, h2.settle(), "keepalives at the restarted server", func() bool {
		return h2.srv.metricsKeepalives() >= 2
	})
	if !h2.device(id).Online {
		t.Fatal("device went offline across the restart")
	}
	if got := h2.deviceLog(id); strings.Join(got, ",") != "+register" {
		t.Fatalf("restart changed the status log: %v", got)
	}
}

func TestRestoreExpiredGoesOffline(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	if err := st.UpdateRegistrations(ctx, []store.Registration{{
		DeviceID: "34020000001320000501", Transport: "udp",
		RemoteAddr: "127.0.0.1:5999", RegisteredAt: past.Add(-time.Hour), ExpiresAt: past,
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: "34020000001320000501", Online: true, Cause: "register", At: past.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	h := startServer(t, st, testConfig())
	testsupport.Eventually(t, h.settle(), "expired device offline", func() bool { return !h.device("34020000001320000501").Online })
	log := h.statusLog("34020000001320000501")
	if last := log[len(log)-1]; last.Cause != "expired" || !last.At.Equal(past.Truncate(time.Microsecond)) {
		t.Fatalf("last transition %+v; want expired at %s", last, past)
	}
}

// sipExchange sends one UDP datagram to the server and returns the answer's status line.
func sipExchange(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return "no answer: " + err.Error()
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

func message(id, local, body string) string {
	return fmt.Sprintf("MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%d\r\n"+
		"From: <sip:%s@3402000000>;tag=abc\r\nTo: <sip:34020000002000000001@3402000000>\r\n"+
		"Call-ID: %d@test\r\nCSeq: 20 MESSAGE\r\nMax-Forwards: 70\r\n"+
		"Content-Type: Application/MANSCDP+xml\r\nContent-Length: %d\r\n\r\n%s",
		local, time.Now().UnixNano(), id, time.Now().UnixNano(), len(body), body)
}

func TestBadInput(t *testing.T) {
	h := startServer(t, openStore(t), testConfig())
	id := "34020000001320000601"
	dev := newRawDevice(t, "udp", h.sipAddr(), "127.0.0.1", id)
	dev.register(testPassword)
	addr := h.sipAddr()
	// From any source: refused before the sender matters.
	tests := []struct {
		name, msg, want string
	}{
		{"keepalive from an unknown device", message("34020000001320009999", "127.0.0.1:5999",
			`<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>34020000001320009999</DeviceID><Status>OK</Status></Notify>`), "SIP/2.0 404"},
		{"malformed XML", message(id, "127.0.0.1:5999", `<Notify><CmdType>Alarm</CmdType><SN>x</SN>`), "SIP/2.0 400"},
		{"truncated body", strings.Replace(message(id, "127.0.0.1:5999", "<Notify/>"), "Content-Length: 9", "Content-Length: 90", 1), "SIP/2.0 400"},
		{"oversized", message(id, "127.0.0.1:5999", "<Notify>"+strings.Repeat("A", 40<<10)+"</Notify>"), "SIP/2.0 413"},
		{"keepalive from another source", message(id, "127.0.0.1:5999",
			`<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType><SN>3</SN><DeviceID>`+id+`</DeviceID><Status>OK</Status></Notify>`), "SIP/2.0 403"},
	}
	for _, tt := range tests {
		if got := sipExchange(t, addr, tt.msg); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q, want %s", tt.name, got, tt.want)
		}
	}
	// From the device's registered source.
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{
			"keepalive that only Decode reads (CDATA)",
			`<?xml version="1.0"?><Notify><CmdType><![CDATA[Keepalive]]></CmdType><SN>3</SN><DeviceID>` + id + `</DeviceID><Status>OK</Status></Notify>`, 200,
		},
		{"unknown CmdType", `<?xml version="1.0"?><Notify><CmdType>Teleport</CmdType><SN>7</SN><DeviceID>` + id + `</DeviceID></Notify>`, 200},
	} {
		if got := dev.message(tt.body); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
	// Garbage without the headers a response needs is dropped and counted.
	if got := sipExchange(t, addr, "GARBAGE\r\n\r\n"); !strings.HasPrefix(got, "no answer") {
		t.Errorf("garbage answered %q", got)
	}
	if n := testutil.ToFloat64(h.srv.metrics.dropped.WithLabelValues("malformed")); n < 2 {
		t.Errorf("dropped malformed = %v", n)
	}
	// The registered device is unaffected.
	if code := dev.message(keepaliveBody(id)); code != 200 {
		t.Fatalf("keepalive after the bad input: %d", code)
	}
	if snap := h.srv.devices.get(id).snapshot(); !snap.Online || snap.RemoteAddr != dev.local() {
		t.Fatalf("device state after bad input: %+v", snap)
	}
}

func TestAPIAuthAndErrors(t *testing.T) {
	h := startServer(t, openStore(t), testConfig())
	res, err := http.Get(h.api.URL + "/internal/v1/devices")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %d", res.StatusCode)
	}
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/internal/v1/devices?limit=5000", "", 400},
		{"GET", "/internal/v1/devices/34020000001320000001", "", 404},
		{"POST", "/internal/v1/devices/34020000001320000001/channels/34020000001310000001/ptz", `{"action":"spin"}`, 400},
		{"POST", "/internal/v1/devices/34020000001320000001/channels/34020000001310000001/ptz", `{"action":"move"`, 400},
		{"POST", "/internal/v1/devices/34020000001320000001/channels/34020000001310000001/ptz", `{"action":"stop"}`, 404},
		{"GET", "/internal/v1/devices/34020000001320000001/channels/34020000001310000001/records", "", 400},
		{"GET", "/internal/v1/summary", "", 200},
	}
	for _, tt := range tests {
		if got := h.call(tt.method, tt.path, tt.body, nil); got != tt.want {
			t.Errorf("%s %s %s: %d, want %d", tt.method, tt.path, tt.body, got, tt.want)
		}
	}
}

func TestNotifyAlarmAndSerialQueries(t *testing.T) {
	cfg := testConfig()
	cfg.OneRequestPerDevice = true
	h := startServer(t, openStore(t), cfg)
	sc := simConfig(1, 2, "udp", "34020000001320000701")
	sc.CatalogChurn = 300 * time.Millisecond
	sc.Faults.AlarmInterval = 300 * time.Millisecond
	h.runSim(sc, nil)
	id := "34020000001320000701"
	testsupport.Eventually(t, h.settle(), "catalog", func() bool { return len(h.channels(id)) == 2 })
	// Catalog NOTIFYs (ON/OFF churn) are logged as channel transitions.
	testsupport.Eventually(t, h.settle(), "a channel switched off by NOTIFY", func() bool {
		for _, c := range h.statusLog(id) {
			if c.ChannelID != "" && !c.Online && c.Cause == "notify_off" {
				return true
			}
		}
		return false
	})
	// Alarms are stored and visible through the API.
	var alarms svcapi.List[struct {
		DeviceID  string `json:"device_id"`
		ChannelID string `json:"channel_id"`
	}]
	testsupport.Eventually(t, h.settle(), "alarm stored", func() bool {
		return h.call("GET", "/internal/v1/alarms?device_id="+id, "", &alarms) == 200 && alarms.Total > 0
	})
	if alarms.Items[0].DeviceID != id || alarms.Items[0].ChannelID == "" {
		t.Fatalf("alarm %+v", alarms.Items[0])
	}
	// With one request per device, concurrent queries queue and all succeed.
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, err := h.srv.QueryDeviceInfo(context.Background(), id); errs <- err }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAutoRegisterOff(t *testing.T) {
	cfg := testConfig()
	cfg.AutoRegister = false
	h := startServer(t, openStore(t), cfg)
	h.runSim(simConfig(1, 1, "udp", "34020000001320000801"), nil)
	testsupport.Eventually(t, h.settle(), "refusals counted", func() bool {
		return testutil.ToFloat64(h.srv.metrics.registers.WithLabelValues("forbidden")) >= 1
	})
	if h.srv.devices.get("34020000001320000801") != nil {
		t.Fatal("unknown device created with auto_register off")
	}
}
