package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
)

// watchProblems collects the page's exceptions, console errors and failed
// loads other than API and media calls (whose failures tests provoke).
func watchProblems(ctx context.Context) func() []string {
	var (
		mu       sync.Mutex
		problems []string
	)
	chromedp.ListenTarget(ctx, func(ev any) {
		var p string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				p += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p = "console.error: " + strings.Join(args, " ")
			}
		case *cdplog.EventEntryAdded:
			e2 := e.Entry
			if e2.Level == cdplog.LevelError && !strings.Contains(e2.URL, "/api/v1/") && !strings.Contains(e2.URL, "/media/") {
				p = fmt.Sprintf("log %s: %s %s", e2.Source, e2.Text, e2.URL)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// page drives one browser tab in a test.
type page struct {
	t   *testing.T
	ctx context.Context
}

// poll waits until js is true, failing the test with the page's text.
func (p *page) poll(what, js string) {
	p.t.Helper()
	if err := browsertest.Poll(p.ctx, js, uiWait); err != nil {
		var html, pb string
		_ = chromedp.Run(p.ctx, chromedp.Evaluate(`document.body.innerText.slice(0, 2000)`, &html),
			chromedp.Evaluate(`JSON.stringify(window.sharpeyesDebug?.playback?.() ?? null)`, &pb))
		p.t.Fatalf("%s: %v\nplayback: %s\npage text:\n%s", what, err, pb, html)
	}
}

// run runs actions, failing the test on an error.
func (p *page) run(what string, actions ...chromedp.Action) {
	p.t.Helper()
	if err := chromedp.Run(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// click waits for the element with data-testid id to show and clicks it
// from script: a toast over it must not swallow the click.
func (p *page) click(what, id string) {
	p.t.Helper()
	p.poll(what+": "+id+" shown", vis(id))
	p.run(what, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click()`, q(id)), nil))
}

// fill replaces the value of the input or select with data-testid id and
// fires its input and change events.
func (p *page) fill(id, value string) {
	p.t.Helper()
	p.run("fill "+id, chromedp.Evaluate(fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));
	})()`, q(id), value), nil))
}

// shot saves a screenshot of the page as name.png in the directory
// SHARPEYES_UI_SHOTS names (for documentation); without it, nothing.
func (p *page) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("SHARPEYES_UI_SHOTS")
	if dir == "" {
		return
	}
	var png []byte
	p.run("screenshot "+name, chromedp.EmulateViewport(1440, 860), chromedp.CaptureScreenshot(&png))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// q is the selector of data-testid id.
func q(id string) string { return fmt.Sprintf(`[data-testid="%s"]`, id) }

// vis is JS true when the element with data-testid id is shown.
func vis(id string) string {
	return fmt.Sprintf(`((s) => { const e = document.querySelector(s); return !!e && e.offsetParent !== null; })(%q)`, q(id))
}

// text is the JS text of the element with data-testid id.
func text(id string) string { return fmt.Sprintf(`document.querySelector(%q).textContent`, q(id)) }
