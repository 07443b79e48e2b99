package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserLoadsPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>x</title><script>window.ready = 1 + 1 === 2;</script>`)
	}))
	defer srv.Close()
	ctx := New(t)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if err := Poll(ctx, `window.ready === true`, 10*time.Second); err != nil {
		t.Fatalf("page did not run its script: %v", err)
	}
	if err := Poll(ctx, `false`, 500*time.Millisecond); err == nil {
		t.Fatal("Poll of false succeeded")
	}
}
