// Package browsertest starts headless Chromium for end-to-end tests and
// drives it with chromedp.
package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// New starts a headless Chromium for the test and returns a chromedp context
// bound to its first tab. The browser is stopped when the test ends. It
// skips the test (fails it under CI) when chromium is missing.
func New(t testing.TB) context.Context {
	t.Helper()
	bin := testsupport.Tool(t, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// Start the browser now, so that a broken install fails here, clearly.
	// The first Run must get ctx itself: chromedp ties the browser's life to
	// it, so a derived timeout context would close the browser on return.
	timer := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Run(ctx)
	timer.Stop()
	if err != nil {
		cancel()
		acancel()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		// Close the browser gracefully first: killed, it may still be
		// writing its profile when the test removes the directory.
		_ = chromedp.Cancel(ctx)
		cancel()
		acancel()
	})
	return ctx
}

// AwaitPromise is a chromedp.Evaluate option: wait for a promise result.
func AwaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams {
	return p.WithAwaitPromise(true)
}

// Poll evaluates the JavaScript expression js (a promise is awaited) every
// 200 ms until it returns true or timeout passes; it returns the last error
// or false result.
func Poll(ctx context.Context, js string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		var ok bool
		err := chromedp.Run(ctx, chromedp.Evaluate(js, &ok, AwaitPromise))
		if err == nil && ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return lastErr
			}
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
