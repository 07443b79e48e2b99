package gbsim

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

const (
	testServerID = "34020000002000000001"
	testRealm    = "3402000000"
	testPassword = "12345678"
)

// eventTimeout bounds the tests' waits for a device's reaction to an event
// (a REGISTER, a keepalive, an answer). A device gives up on a request after
// Timer F (64×T1); twice that also covers its retry backoff and the short
// keepalive periods the tests configure. It is only reached on failure.
var eventTimeout = 2 * sip.Timer_F

// platform is a minimal GB28181 platform for tests, on sipgo: it challenges
// REGISTER, checks the digest with its own MD5, answers keepalives and
// collects the devices' MANSCDP messages.
type platform struct {
	t       *testing.T
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	addr    string
	network string
	noQop   atomic.Bool
	forget  atomic.Bool // answer keepalives 404, like a platform that restarted
	// checkSource refuses (403) a MESSAGE or NOTIFY from another source
	// than the device registered from, as sipserver does.
	checkSource atomic.Bool

	mu        sync.Mutex
	devices   map[string]string // device ID → source address
	registers []regEvent
	msgs      chan manscdp.Message
	accepted  chan sourced // every MESSAGE answered 200, with its source
	refusals  chan sourced // every request refused for its source
	notifies  chan manscdp.Message
	regs      chan regEvent
}

type regEvent struct {
	deviceID string
	expires  int
	ok       bool
	auth     map[string]string
	source   string
}

// sourced is a device's MANSCDP message and where it came from.
type sourced struct {
	source string
	msg    manscdp.Message
}

func newPlatform(t *testing.T, network string) *platform {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(testServerID), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{
		t: t, ua: ua, srv: srv, cli: cli, network: network,
		devices:  map[string]string{},
		msgs:     make(chan manscdp.Message, 256),
		accepted: make(chan sourced, 256),
		refusals: make(chan sourced, 256),
		notifies: make(chan manscdp.Message, 256),
		regs:     make(chan regEvent, 64),
	}
	srv.OnRegister(p.onRegister)
	srv.OnMessage(p.onMessage)
	srv.OnNotify(p.onNotify)
	// The server's Close leaves listeners it was given open: close them
	// and wait for the serving goroutine.
	var listener io.Closer
	served := make(chan struct{})
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr, listener = pc.LocalAddr().String(), pc
		go func() { defer close(served); _ = srv.ServeUDP(pc) }()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr, listener = ln.Addr().String(), ln
		go func() { defer close(served); _ = srv.ServeTCP(ln) }()
	}
	t.Cleanup(func() {
		srv.Close()
		cli.Close()
		ua.Close()
		listener.Close()
		<-served
	})
	return p
}

// parseAuth splits a Digest credentials header into its parameters.
func parseAuth(h string) map[string]string {
	out := map[string]string{}
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "digest ") {
		h = h[7:]
	}
	for h != "" {
		k, rest, ok := strings.Cut(h, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		rest = strings.TrimSpace(rest)
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				break
			}
			v, rest = rest[1:1+end], rest[2+end:]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		out[k] = strings.TrimSpace(v)
		_, rest, _ = strings.Cut(rest, ",")
		h = strings.TrimSpace(rest)
	}
	return out
}

func md5hex(parts ...string) string {
	s := md5.Sum([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(s[:])
}

const testNonce = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

func (p *platform) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	id := req.From().Address.User
	expires := 3600
	if h := req.GetHeader("Expires"); h != nil {
		expires, _ = strconv.Atoi(h.Value())
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		chal := fmt.Sprintf(`Digest realm="%s",nonce="%s",algorithm=MD5`, testRealm, testNonce)
		if !p.noQop.Load() {
			chal += `,qop="auth"`
		}
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal))
		_ = tx.Respond(res)
		return
	}
	a := parseAuth(h.Value())
	ha1 := md5hex(a["username"], a["realm"], testPassword)
	ha2 := md5hex("REGISTER", a["uri"])
	want := md5hex(ha1, a["nonce"], ha2)
	if a["qop"] != "" {
		want = md5hex(ha1, a["nonce"], a["nc"], a["cnonce"], a["qop"], ha2)
	}
	ev := regEvent{deviceID: id, expires: expires, auth: a, source: req.Source(), ok: a["response"] == want && a["username"] == id && a["uri"] == req.Recipient.String()}
	p.mu.Lock()
	p.registers = append(p.registers, ev)
	if ev.ok {
		p.devices[id] = req.Source()
	}
	p.mu.Unlock()
	select {
	case p.regs <- ev:
	default:
	}
	if !ev.ok {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(sip.NewHeader("Date", time.Now().Format("2006-01-02T15:04:05.000")))
	_ = tx.Respond(res)
}

func (p *platform) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	msg, err := manscdp.Decode(req.Body())
	if msg == nil {
		p.t.Errorf("platform: bad MANSCDP from device: %v\n%s", err, req.Body())
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	if _, ok := msg.(*manscdp.Keepalive); ok && p.forget.Load() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 404, "Not Found", nil))
		return
	}
	if p.foreign(req, msg) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	select {
	case p.msgs <- msg:
	default:
	}
	select {
	case p.accepted <- sourced{req.Source(), msg}:
	default:
	}
}

// foreign reports (and records) a request of a device from another source
// than its registration's, when the platform checks sources.
func (p *platform) foreign(req *sip.Request, msg manscdp.Message) bool {
	if !p.checkSource.Load() {
		return false
	}
	p.mu.Lock()
	registered := p.devices[req.From().Address.User]
	p.mu.Unlock()
	if registered == req.Source() {
		return false
	}
	select {
	case p.refusals <- sourced{req.Source(), msg}:
	default:
	}
	return true
}

func (p *platform) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	msg, _ := manscdp.Decode(req.Body())
	if p.foreign(req, msg) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	if msg != nil {
		p.notifies <- msg
	}
}

// waitReg waits for a successful REGISTER with the given expiry class
// (expires > 0 or == 0).
func (p *platform) waitReg(t *testing.T, unregister bool) regEvent {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case ev := <-p.regs:
			if ev.ok && (ev.expires == 0) == unregister {
				return ev
			}
		case <-timeout:
			t.Fatalf("no REGISTER (unregister=%v)", unregister)
		}
	}
}

// waitMsg returns the next MANSCDP message for which keep returns true.
func waitMsg[T manscdp.Message](t *testing.T, ch chan manscdp.Message, keep func(T) bool) T {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case m := <-ch:
			if v, ok := m.(T); ok && (keep == nil || keep(v)) {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("no %T", zero)
			return zero
		}
	}
}

// request sends a platform → device request and returns the final response.
func (p *platform) request(t *testing.T, method sip.RequestMethod, target string, body []byte, contentType string, hdrs ...sip.Header) *sip.Response {
	t.Helper()
	p.mu.Lock()
	addr := p.devices[p.firstDevice()]
	p.mu.Unlock()
	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: target, Host: host, Port: pn})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: testServerID, Host: testRealm}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: target, Host: testRealm}})
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	req.SetTransport(strings.ToUpper(p.network))
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s to device: %v", method, err)
	}
	return res
}

func (p *platform) firstDevice() string {
	for id := range p.devices {
		return id
	}
	return ""
}

// query sends a MANSCDP MESSAGE to the device and expects 200.
func (p *platform) query(t *testing.T, target string, msg manscdp.Message) {
	t.Helper()
	body, err := manscdp.Encode(msg, manscdp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.request(t, sip.MESSAGE, target, body, "Application/MANSCDP+xml"); res.StatusCode != 200 {
		t.Fatalf("MESSAGE %s: %d", msg.Head().CmdType, res.StatusCode)
	}
}

// startSim runs a simulator against p until the test ends and returns it
// with a function that stops it and waits for the unregistration.
func startSim(t *testing.T, p *platform, mod func(*Config)) (*Sim, func()) {
	t.Helper()
	s := newSim(t, p, mod)
	return s, runSim(t, s)
}

// newSim prepares a simulator for p (synthetic media, 5 channels, fast
// registration expiry); mod changes its configuration. The test's cleanup
// closes it.
func newSim(t *testing.T, p *platform, mod func(*Config)) *Sim {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server = p.addr
	cfg.Transport = p.network
	cfg.LocalIP = "127.0.0.1"
	cfg.Channels = 5
	cfg.Expires = 60
	cfg.FFmpeg = "/nonexistent/ffmpeg" // synthetic source: fast and deterministic
	cfg.CacheDir = t.TempDir()
	if mod != nil {
		mod(&cfg)
	}
	lv := slog.LevelWarn
	if os.Getenv("GBSIM_TEST_LOG") != "" {
		lv = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: lv}))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// runSim runs s until the test ends and returns a function that stops it
// and waits until Run returned (every device unregistered, every goroutine
// of the simulator ended).
func runSim(t *testing.T, s *Sim) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var _ io.Writer = testWriter{}
