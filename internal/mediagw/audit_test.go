package mediagw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

// playCamera makes gbsim's H.264 camera stream to path (UDP, a port of its
// own) until the test ends, and waits until the stream plays.
func playCamera(t *testing.T, g *testGW, path string) mediaapi.Receiver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ri := startCamera(ctx, t, g, newSim(t), chanH264, path, mediaapi.TransportUDP, false)
	g.waitStream(path, 20*time.Second, func(s mediaapi.Stream) bool { return s.VideoCodec == "H264" })
	return ri
}

// whepOffer returns a receive-only SDP offer with its candidates; the peer
// connection is closed when the test ends.
func whepOffer(t *testing.T) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// whepPlay posts an offer and returns the status; a created session is
// deleted at once.
func (g *testGW) whepPlay(t *testing.T, path, token string) int {
	t.Helper()
	resp, err := http.Post(g.base+"/whep/"+path+"?token="+url.QueryEscape(token), "application/sdp",
		strings.NewReader(whepOffer(t)))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusCreated && loc != "" {
		req, _ := http.NewRequest(http.MethodDelete, g.base+loc, nil)
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	}
	return resp.StatusCode
}

// hlsGet fetches a file of path's HLS output and returns the status.
func (g *testGW) hlsGet(t *testing.T, path, file, token string) int {
	t.Helper()
	resp, err := http.Get(g.base + "/hls/" + path + "/" + file + "?token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// rtspPlay runs DESCRIBE, SETUP and, with play, PLAY; it returns the
// status of the last request (200 when all passed).
func (g *testGW) rtspPlay(t *testing.T, path, token string, play bool) int {
	t.Helper()
	u, err := base.ParseURL(g.rtsp + "/" + path + "?token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		return rtspStatus(t, err)
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		return rtspStatus(t, err)
	}
	if !play {
		return http.StatusOK
	}
	if _, err := c.Play(nil); err != nil {
		return rtspStatus(t, err)
	}
	return http.StatusOK
}

func rtspStatus(t *testing.T, err error) int {
	t.Helper()
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) {
		t.Fatalf("rtsp: %v", err)
	}
	return int(bad.Code)
}

// opensOf returns the stored media opens of protocol.
func opensOf(all []auditapi.MediaOpen, protocol string) []auditapi.MediaOpen {
	var out []auditapi.MediaOpen
	for _, m := range all {
		if m.Protocol == protocol {
			out = append(out, m)
		}
	}
	return out
}

// TestAuditMediaOpens: every actual media open is a row at the console
// (user from the token, path, client address, protocol, node) before the
// viewer gets media: one per WHEP session, one per HLS viewer session
// however many requests it makes, one per RTSP PLAY (not per DESCRIBE).
// A row the console does not store refuses the viewer.
func TestAuditMediaOpens(t *testing.T) {
	// An HLS viewer session lasts hls.idle_timeout after its last request:
	// an hour keeps bob's running for the whole test however slow it runs.
	g := startGW(t, func(c *config.Mediagw) { c.HLS.IdleTimeout = config.Duration(time.Hour) })
	const path = "live/audited"
	playCamera(t, g, path)
	tok := func(sub string) string {
		tk, err := g.signer.Issue(playtoken.Claims{
			Subject: sub, Paths: []string{path}, Rights: []string{playtoken.RightLive}, Expires: time.Now().Add(time.Minute).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	before := time.Now().Add(-time.Second)

	if code := g.whepPlay(t, path, tok("alice")); code != http.StatusCreated {
		t.Fatalf("WHEP = %d", code)
	}
	hlsTok := tok("bob")
	for _, file := range []string{"index.m3u8", "index.m3u8"} {
		if code := g.hlsGet(t, path, file, hlsTok); code != http.StatusOK {
			t.Fatalf("HLS %s = %d", file, code)
		}
	}
	if code := g.rtspPlay(t, path, tok("carol"), false); code != http.StatusOK {
		t.Fatalf("RTSP DESCRIBE+SETUP = %d", code)
	}
	if code := g.rtspPlay(t, path, tok("dave"), true); code != http.StatusOK {
		t.Fatalf("RTSP PLAY = %d", code)
	}

	opens := g.audit.stored(t)
	want := map[string]string{auditapi.ProtocolWHEP: "alice", auditapi.ProtocolHLS: "bob", auditapi.ProtocolRTSP: "dave"}
	for proto, user := range want {
		rows := opensOf(opens, proto)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows, want 1: %+v", proto, len(rows), opens)
		}
		m := rows[0]
		if m.User != user || m.Path != path || !strings.HasPrefix(m.Remote, "127.0.0.1:") || m.Node != "127.0.0.1" ||
			m.At.Before(before) || m.At.After(time.Now()) {
			t.Fatalf("%s row %+v", proto, m)
		}
	}
	if len(opens) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(opens), opens)
	}
	// No media, no media open: a path that does not play writes no row.
	nothing, err := g.signer.Issue(playtoken.Claims{
		Subject: "mallory", Paths: []string{"live/*"}, Rights: []string{playtoken.RightLive}, Expires: time.Now().Add(time.Minute).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := g.hlsGet(t, "live/nothing", "index.m3u8", nothing); code != http.StatusNotFound {
		t.Fatalf("HLS of nothing = %d", code)
	}
	if code := g.whepPlay(t, "live/nothing", nothing); code != http.StatusNotFound {
		t.Fatalf("WHEP of nothing = %d", code)
	}
	if code := g.rtspPlay(t, "live/nothing", nothing, true); code != http.StatusNotFound {
		t.Fatalf("RTSP of nothing = %d", code)
	}
	if n := len(g.audit.stored(t)); n != 3 {
		t.Fatalf("%d rows after refused opens, want 3", n)
	}

	// The console does not store rows: every protocol refuses the viewer.
	g.audit.fail(http.StatusInternalServerError)
	if code := g.whepPlay(t, path, tok("eve")); code != http.StatusServiceUnavailable {
		t.Fatalf("WHEP without an audit row = %d", code)
	}
	if code := g.hlsGet(t, path, "index.m3u8", tok("eve")); code != http.StatusServiceUnavailable {
		t.Fatalf("HLS without an audit row = %d", code)
	}
	if code := g.rtspPlay(t, path, tok("eve"), true); code != http.StatusServiceUnavailable {
		t.Fatalf("RTSP PLAY without an audit row = %d", code)
	}
	// A running HLS viewer session is not audited again per request.
	if code := g.hlsGet(t, path, "index.m3u8", hlsTok); code != http.StatusOK {
		t.Fatalf("HLS of a running session = %d", code)
	}
	// Once the console stores again, the refused HLS viewer is admitted.
	g.audit.fail(0)
	if code := g.hlsGet(t, path, "index.m3u8", tok("eve")); code != http.StatusOK {
		t.Fatalf("HLS after the console came back = %d", code)
	}
	if rows := opensOf(g.audit.stored(t), auditapi.ProtocolHLS); len(rows) != 2 || rows[1].User != "eve" {
		t.Fatalf("HLS rows %+v", rows)
	}
	metrics := g.getPublic("/metrics")
	for _, m := range []string{
		`sharpeyes_mediagw_audit_total{outcome="stored"} 4`, `sharpeyes_mediagw_audit_total{outcome="refused"} 3`,
		`sharpeyes_mediagw_audit_total{outcome="admitted"} 0`,
	} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

// TestAuditFailOpenAndAuthOff: with audit.fail_closed false a viewer whose
// row was not stored is admitted (and counted); with auth: off rows are
// still written, with no user.
func TestAuditFailOpenAndAuthOff(t *testing.T) {
	g := startGW(t, func(c *config.Mediagw) {
		c.Audit.FailClosed = false
		c.Auth = config.AuthOff
	})
	const path = "live/open"
	playCamera(t, g, path)

	if code := g.rtspPlay(t, path, "", true); code != http.StatusOK {
		t.Fatalf("RTSP = %d", code)
	}
	rows := g.audit.stored(t)
	if len(rows) != 1 || rows[0].User != "" || rows[0].Protocol != auditapi.ProtocolRTSP {
		t.Fatalf("rows %+v", rows)
	}
	g.audit.fail(http.StatusServiceUnavailable)
	if code := g.whepPlay(t, path, ""); code != http.StatusCreated {
		t.Fatalf("WHEP failing open = %d", code)
	}
	if !strings.Contains(g.getPublic("/metrics"), `sharpeyes_mediagw_audit_total{outcome="admitted"} 1`) {
		t.Error("the admitted failure is not counted")
	}
}

// getPublic returns the body of an unauthenticated GET.
func (g *testGW) getPublic(path string) string {
	g.t.Helper()
	resp, err := http.Get(g.base + path)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestAuditClient: only the contract's 204 counts as stored.
func TestAuditClient(t *testing.T) {
	sink := newAuditSink(t)
	c := &AuditClient{URL: sink.srv.URL, Token: testServiceToken, Timeout: 5 * time.Second}
	m := auditapi.MediaOpen{At: time.Now(), User: "u", Path: "live/1", Protocol: auditapi.ProtocolRTSP, Remote: "192.0.2.1:5000"}
	if err := c.MediaOpen(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusServiceUnavailable} {
		sink.fail(status)
		if err := c.MediaOpen(context.Background(), m); !errors.Is(err, ErrAuditNotStored) {
			t.Fatalf("answer %d: %v", status, err)
		}
	}
	sink.fail(0)
	bad := m
	bad.Protocol = "smoke"
	if err := c.MediaOpen(context.Background(), bad); !errors.Is(err, ErrAuditNotStored) || !errors.Is(err, auditapi.ErrBadProto) {
		t.Fatalf("invalid row: %v", err)
	}
	wrong := &AuditClient{URL: sink.srv.URL, Token: "wrong-token-0123456789"}
	if err := wrong.MediaOpen(context.Background(), m); !errors.Is(err, ErrAuditNotStored) {
		t.Fatalf("wrong token: %v", err)
	}
	sink.mu.Lock()
	sink.bad = nil // the wrong token was on purpose
	sink.mu.Unlock()
	if rows := sink.stored(t); len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	down := &AuditClient{URL: "http://127.0.0.1:1", Token: testServiceToken}
	if err := down.MediaOpen(context.Background(), m); !errors.Is(err, ErrAuditNotStored) {
		t.Fatalf("console down: %v", err)
	}
}

// auditorFunc is an Auditor made of a function.
type auditorFunc func(context.Context, auditapi.MediaOpen) error

func (f auditorFunc) MediaOpen(ctx context.Context, m auditapi.MediaOpen) error { return f(ctx, m) }

// TestOpenedOutcomes: whether a media open is admitted, and how it is
// counted, for each auditor and audit.fail_closed. A gateway without an
// auditor stores nothing, so it refuses unless failing open, and what it
// admits is counted as unaudited, never as stored.
func TestOpenedOutcomes(t *testing.T) {
	stores := auditorFunc(func(context.Context, auditapi.MediaOpen) error { return nil })
	fails := auditorFunc(func(context.Context, auditapi.MediaOpen) error {
		return fmt.Errorf("%w: console answered 500", ErrAuditNotStored)
	})
	for _, tc := range []struct {
		name     string
		audit    Auditor
		failOpen bool
		admitted bool
		outcome  string
	}{
		{"stored", stores, false, true, "stored"},
		{"stored failing open", stores, true, true, "stored"},
		{"not stored", fails, false, false, "refused"},
		{"not stored failing open", fails, true, true, "admitted"},
		{"no auditor", nil, false, false, "refused"},
		{"no auditor failing open", nil, true, true, "unaudited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hub.Hub{}
			if err := h.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			g := &Gateway{Hub: h, Ports: &ingest.PortAllocator{Min: 1024, Max: 1024}, AuthOff: true, Audit: tc.audit, AuditFailOpen: tc.failOpen}
			if err := g.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			err := g.Opened(context.Background(), access.Request{Path: "live/1", Protocol: auditapi.ProtocolRTSP, Remote: "192.0.2.1:5000"})
			if admitted := err == nil; admitted != tc.admitted {
				t.Fatalf("admitted = %v (%v), want %v", admitted, err, tc.admitted)
			}
			if err != nil && (!errors.Is(err, access.ErrUnavailable) || !errors.Is(err, ErrAuditNotStored)) {
				t.Fatalf("refusal %v: want ErrUnavailable (503) and ErrAuditNotStored", err)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(newCollector(g, nil, nil))
			rec := httptest.NewRecorder()
			promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			for _, o := range []string{"stored", "refused", "admitted", "unaudited"} {
				want := 0
				if o == tc.outcome {
					want = 1
				}
				if line := fmt.Sprintf("sharpeyes_mediagw_audit_total{outcome=%q} %d\n", o, want); !strings.Contains(rec.Body.String(), line) {
					t.Errorf("metrics lack %s", strings.TrimSpace(line))
				}
			}
		})
	}
}
