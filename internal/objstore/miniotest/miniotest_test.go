package miniotest_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// live asks the server's liveness probe.
func live(s *miniotest.Server) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+s.Endpoint+"/minio/health/live", http.NoBody)
	if err != nil {
		return false
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestStartStopRestart(t *testing.T) {
	a, b := miniotest.Start(t), miniotest.Start(t)
	if a.Endpoint == b.Endpoint || a.Dir == b.Dir {
		t.Fatalf("two servers share %s / %s", a.Endpoint, a.Dir)
	}
	a.Bucket(t, "kept")
	if !live(a) {
		t.Fatal("not live after Start")
	}
	endpoint := a.Endpoint
	a.Stop()
	a.Stop() // a second Stop does nothing
	if live(a) {
		t.Fatal("live after Stop")
	}
	a.Restart()
	if a.Endpoint != endpoint || !live(a) {
		t.Fatalf("after Restart: endpoint %s (was %s), live %v", a.Endpoint, endpoint, live(a))
	}
	// The data survived: the bucket exists, so creating it again fails.
	tb := &failRecorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); a.Bucket(tb, "kept") }()
	<-done
	if !tb.failed {
		t.Fatal("bucket created again after Restart: the data directory was lost")
	}
}

// failRecorder notes a Fatal instead of failing the test.
type failRecorder struct {
	testing.TB
	failed bool
}

func (r *failRecorder) Helper() {}

func (r *failRecorder) Fatalf(string, ...any) {
	r.failed = true
	runtime.Goexit()
}

// TestVersionMatchesInstallScript keeps the version named in skip messages
// the one scripts/install-deps.sh installs.
func TestVersionMatchesInstallScript(t *testing.T) {
	b, err := os.ReadFile("../../../scripts/install-deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	if want := "minio_version=" + miniotest.Version + "\n"; !strings.Contains(string(b), want) {
		t.Fatalf("scripts/install-deps.sh does not set %q", strings.TrimSpace(want))
	}
}
