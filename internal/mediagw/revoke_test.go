package mediagw

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sharpeyes/sharpeyes/internal/config"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/revocation"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/rtsp"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestAuditClientRevocation: the console's 403 viewer_revoked is
// auditapi.ErrRevoked (not a row that failed to store), and CheckViewers
// returns the console's revoked viewers.
func TestAuditClientRevocation(t *testing.T) {
	sink := newAuditSink(t)
	sink.revoke("alice")
	c := &AuditClient{URL: sink.srv.URL, Token: testServiceToken, Timeout: 5 * time.Second}
	at := time.Unix(1_800_000_000, 0).UTC()
	m := auditapi.MediaOpen{At: at, User: "alice", Path: "live/1", Protocol: auditapi.ProtocolWHEP, IssuedAt: at}
	if err := c.MediaOpen(context.Background(), m); !errors.Is(err, auditapi.ErrRevoked) || errors.Is(err, ErrAuditNotStored) {
		t.Fatalf("revoked open: %v, want ErrRevoked only", err)
	}
	m.User = "bob"
	if err := c.MediaOpen(context.Background(), m); err != nil {
		t.Fatalf("bob's open: %v", err)
	}
	got, err := c.CheckViewers(context.Background(), []auditapi.Viewer{{User: "alice", IssuedAt: at}, {User: "bob", IssuedAt: at}})
	if err != nil || len(got) != 1 || got[0].User != "alice" || !got[0].IssuedAt.Equal(at) {
		t.Fatalf("CheckViewers = %+v %v", got, err)
	}
	if rows := sink.stored(t); len(rows) != 2 {
		t.Fatalf("rows %+v: the refused open is stored too", rows)
	}
	down := &AuditClient{URL: "http://127.0.0.1:1", Token: testServiceToken}
	if _, err := down.CheckViewers(context.Background(), []auditapi.Viewer{{User: "a", IssuedAt: at}}); err == nil {
		t.Fatal("check against no console succeeded")
	}
}

// TestOpenedRevoked: a media open the console refuses as revoked is refused
// (401) whatever audit.fail_closed says, counted as revoked, and the token
// is refused from then on.
func TestOpenedRevoked(t *testing.T) {
	signer, err := playtoken.NewSigner([]byte(testPlaySecret))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := signer.Issue(playtoken.Claims{
		Subject: "alice", Paths: []string{"live/1"}, Rights: []string{playtoken.RightLive},
		Expires: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var asked auditapi.MediaOpen
	revokes := auditorFunc(func(_ context.Context, m auditapi.MediaOpen) error {
		asked = m
		return fmt.Errorf("console: %w", auditapi.ErrRevoked)
	})
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail open %v", failOpen), func(t *testing.T) {
			h := &hub.Hub{}
			if err := h.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			rv := &revocation.Watch{Checker: &AuditClient{URL: "http://127.0.0.1:1"}, Signer: signer, Tick: make(chan time.Time)}
			if err := rv.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer rv.Close()
			g := &Gateway{
				Hub: h, Ports: &ingest.PortAllocator{Min: 1024, Max: 1024}, Signer: signer,
				Audit: revokes, AuditFailOpen: failOpen, Revocation: rv,
			}
			if err := g.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			req := access.Request{Path: "live/1", Token: tok, Protocol: auditapi.ProtocolWHEP, Remote: "192.0.2.1:5000"}
			if err := g.Authorize(req); err != nil {
				t.Fatal(err)
			}
			err := g.Opened(context.Background(), req)
			if !errors.Is(err, access.ErrUnauthorized) || !errors.Is(err, auditapi.ErrRevoked) {
				t.Fatalf("Opened = %v, want ErrUnauthorized", err)
			}
			if asked.User != "alice" || asked.IssuedAt.Unix() != now.Unix() {
				t.Fatalf("media open sent %+v: the user and the token's issue time", asked)
			}
			if err := g.Authorize(req); !errors.Is(err, access.ErrUnauthorized) || !errors.Is(err, revocation.ErrRevoked) {
				t.Fatalf("the revoked token authorized again: %v", err)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(newCollector(g, nil, nil))
			rec := httptest.NewRecorder()
			promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			for _, line := range []string{
				`sharpeyes_mediagw_audit_total{outcome="revoked"} 1`,
				`sharpeyes_mediagw_revocation_viewers_ended_total 0`,
				`sharpeyes_mediagw_revocation_checks_total{result="failed"} 0`,
			} {
				if !strings.Contains(rec.Body.String(), line+"\n") {
					t.Errorf("metrics lack %s", line)
				}
			}
		})
	}
}

// TestRevokedViewersEnd: once the console says a user's token is revoked,
// that user's RTSP session ends within a round (audit.revocation_interval)
// and its console call (audit.timeout), another user's session on the same
// stream plays on, and the revoked token opens nothing more.
func TestRevokedViewersEnd(t *testing.T) {
	interval := config.MinRevocationInterval
	g := startGW(t, func(c *config.Mediagw) { c.Audit.RevocationInterval = interval })
	const path = "live/revoked"
	playCamera(t, g, path)
	tok := func(sub string) string { return g.userToken(sub, path) }
	aliceTok := tok("alice")
	watch := func(token string) *mediatest.RTSPViewer {
		return mediatest.WatchRTSP(t, g.rtsp+"/"+path+"?token="+url.QueryEscape(token))
	}
	alice, bob := watch(aliceTok), watch(tok("bob"))
	testsupport.Eventually(t, 20*time.Second, "both play", func() bool { return alice.Packets() > 0 && bob.Packets() > 0 })

	g.audit.revoke("alice")
	// The session ends at the latest one round after the next (each round
	// one console call), and its connection closes within the RTSP
	// server's write timeout.
	bound := 2*interval.Std() + g.cfg.Audit.Timeout.Std() + rtsp.DefaultTimeout
	select {
	case err := <-alice.Ended:
		t.Logf("alice's session ended: %v", err)
	case <-time.After(bound):
		t.Fatalf("alice's session still plays %s after the revocation", bound)
	}
	select {
	case err := <-bob.Ended:
		t.Fatalf("bob's session ended with alice's: %v", err)
	default:
	}
	n := bob.Packets()
	testsupport.Eventually(t, 10*time.Second, "bob still plays", func() bool { return bob.Packets() > n })
	if code := g.rtspPlay(t, path, aliceTok, false); code != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d, want 401", code)
	}
	if code := g.whepPlay(t, path, tok("alice")); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Fatalf("a new token of alice (refused by the console): %d", code)
	}
}
