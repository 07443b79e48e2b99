package leakcheck_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestFindNamesAGoroutineLeftRunning: a goroutine blocked when Find runs is
// reported with its function; once it ended, nothing is.
func TestFindNamesAGoroutineLeftRunning(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	go blockedUntil(release, done)
	err := leakcheck.Find()
	close(release)
	<-done
	if err == nil || !strings.Contains(err.Error(), "blockedUntil") {
		t.Fatalf("Find with a blocked goroutine = %v, want it named", err)
	}
	if err := leakcheck.Find(); err != nil {
		t.Fatalf("Find after it ended: %v", err)
	}
}

func blockedUntil(release <-chan struct{}, done chan<- struct{}) {
	<-release
	close(done)
}

// TestFindClosesIdleHTTPConnections: a keep-alive connection left in the
// default pool after a complete exchange is not a leak; one whose response
// body is still open is.
func TestFindClosesIdleHTTPConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Start()
	// Closed last (cleanups run in reverse): the server's own goroutines
	// end with it, and the test checks the client side before that.
	t.Cleanup(srv.Close)

	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	open := res.Body
	if err := leakcheck.Find(); err == nil || !strings.Contains(err.Error(), "persistConn") {
		t.Fatalf("Find with an unread response body = %v, want the connection reported", err)
	}
	_, _ = io.Copy(io.Discard, open)
	open.Close()
	if err := findClientSide(); err != nil {
		t.Fatalf("Find with only an idle pooled connection: %v", err)
	}
}

// findClientSide is Find minus the test server's goroutines.
func findClientSide() error {
	err := leakcheck.Find()
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "persistConn") {
		return err
	}
	return nil
}
