package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/console/web"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// fakeRecordings answers the platform timeline and the record plans, and
// passes everything else to the administration double.
type fakeRecordings struct {
	next  http.Handler
	mu    sync.Mutex
	plans []map[string]any
	// calls are "METHOD path body" of the plan writes.
	calls []string
}

func (f *fakeRecordings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	switch {
	case path == "/channels/"+fakeChannel+"/recordings":
		day, err := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": "bad start", "code": "bad_request"})
			return
		}
		span := func(from, to time.Duration) map[string]any {
			return map[string]any{"start": day.Add(from), "end": day.Add(to)}
		}
		gap := span(2*time.Hour, 3*time.Hour)
		gap["cause"] = "camera_offline"
		// Two seconds: narrower than a pixel on the day's bar.
		blip := span(10*time.Hour, 10*time.Hour+2*time.Second)
		blip["cause"] = "stream_error"
		writeJSON(w, 200, map[string]any{
			"source": "platform", "segments": []any{span(time.Hour, 2*time.Hour), span(3*time.Hour, 4*time.Hour)},
			"gaps": []any{gap, blip},
		})
	case path == "/channels/"+fakeChannel+"/record-plan":
		writeJSON(w, 200, map[string]any{
			"channel_id": fakeChannel, "mode": "schedule", "schedule": []any{map[string]any{"days": []int{1}, "start": "08:00", "end": "18:00"}},
			"retention_days": 45, "source": "device", "source_target": fakeDevice, "retention_source": "builtin", "retention_target": "",
			"retention_limit_seconds": 7200, "retention_from": "recorder",
		})
	case path == "/record-plans":
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, 200, map[string]any{
			"items": append([]map[string]any{}, f.plans...), "total": len(f.plans),
			"retention": map[string]any{"standard_days": 14, "key_days": 60, "limit_seconds": 7200, "from": "recorder"},
		})
	case strings.HasPrefix(path, "/record-plans/"):
		kind, target, _ := strings.Cut(strings.TrimPrefix(path, "/record-plans/"), "/")
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		b, _ := json.Marshal(body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, r.Method+" "+path+" "+string(b))
		kept := f.plans[:0]
		for _, p := range f.plans {
			if p["kind"] != kind || p["target"] != target {
				kept = append(kept, p)
			}
		}
		f.plans = kept
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		p := map[string]any{
			"kind": kind, "target": target, "mode": body["mode"], "schedule": body["schedule"],
			"retention_days": body["retention_days"], "updated_at": fakeCreated, "updated_by": "admin",
		}
		f.plans = append(f.plans, p)
		writeJSON(w, 200, p)
	default:
		f.next.ServeHTTP(w, r)
	}
}

func (f *fakeRecordings) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// TestTimelineInBrowser shows the platform's recordings and gaps and the
// channel's effective record plan (with the recorders' cap) on the playback
// page, zooms the timeline from 24 h to 1 min and back by its buttons and
// the mouse wheel, moves it by its span, shows a 2-second gap on the day's
// bar, and edits a record plan as an admin.
func TestTimelineInBrowser(t *testing.T) {
	rec := &fakeRecordings{next: newFakeAccounts()}
	api := &fakeAPI{loggedIn: true, role: "admin", accounts: rec, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/api/", validated(t, api))
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	api.base = srv.URL
	t.Cleanup(func() {
		close(api.stop)
		srv.Close()
	})
	ctx := browsertest.New(t)
	problems := watchProblems(ctx)
	// Bounds for a broken build on a busy machine, not expectations.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pg := &page{t: t, ctx: ctx}
	pg.run("open the page", chromedp.Navigate(srv.URL+"/playback"))
	pg.poll("playback page", vis("playback-timeline"))
	pg.poll("playback tree", fmt.Sprintf(`!!document.querySelector('#view-playback %s')`, q("tree-channel-"+fakeChannel)))
	pg.run("pick a channel", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector('#view-playback %s').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`,
		q("tree-channel-"+fakeChannel)), nil))
	pg.poll("platform spans and the gap", `window.sharpeyesDebug.playback().source === 'platform'`+
		` && document.querySelectorAll('#view-playback .tl-seg').length === 2`+
		` && document.querySelectorAll('#view-playback .tl-gap.cause-camera_offline').length === 1`+
		` && `+text("playback-info")+`.includes('平台录像')`+
		` && `+text("playback-plan")+` === '录像计划：按时段录像（设备计划），保存 45 天（上限 2 小时）'`)
	if api.called("GET /api/v1/channels/" + fakeChannel + "/records") {
		t.Error("the device was asked although the platform had recordings")
	}
	// hoverAt moves the mouse over the bar px pixels right of the time
	// hours into the visible window's 24 h (the day's bar).
	hoverAt := func(hours, px float64) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`(() => {
			const tl = document.querySelector(%q), r = tl.getBoundingClientRect();
			tl.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + r.width * %f / 24 + %f, clientY: r.top + 28}));
		})()`, q("playback-timeline"), hours, px), nil)
	}
	pg.run("hover the gap", hoverAt(2.5, 0))
	pg.poll("the gap's cause on hover", `document.querySelector('#view-playback .tl-hover-label').textContent.includes('摄像机离线')`+
		` && document.querySelector('#view-playback .tl-gap').title.includes('摄像机离线')`)
	// A 2-second gap is 0.02 px of a day: drawn a few pixels wide, its
	// cause under the mouse there.
	pg.poll("a short gap shown", `(() => { const g = document.querySelector('#view-playback .tl-gap.cause-stream_error');`+
		` return !!g && g.getBoundingClientRect().width >= 3 && g.title.includes('10:00:00 – 10:00:02'); })()`)
	pg.run("hover the short gap", hoverAt(10, 2))
	pg.poll("the short gap's cause on hover", `document.querySelector('#view-playback .tl-hover-label').textContent.includes('码流异常')`)

	// window is JS true when the bar shows span ms from offset ms after
	// midnight with ticks tick marks, and its scale says label.
	window := func(span, offset time.Duration, ticks int, label string) string {
		return fmt.Sprintf(`((d) => d.span === %d && d.startOffset === %d`+
			` && document.querySelectorAll('#view-playback .tl-tick').length === %d && %s === %q)(window.sharpeyesDebug.playback())`,
			span.Milliseconds(), offset.Milliseconds(), ticks, text("playback-scale"), label)
	}
	disabled := func(id string) string { return fmt.Sprintf(`document.querySelector(%q).disabled`, q(id)) }
	pg.poll("the whole day", window(24*time.Hour, 0, 25, "24 小时")+` && `+disabled("playback-zoom-out")+
		` && `+disabled("playback-prev")+` && `+disabled("playback-next"))
	// From the day the first zoom goes to the first recording (01:00).
	pg.click("zoom in", "playback-zoom-in")
	pg.poll("6 hours", window(6*time.Hour, 0, 13, "6 小时")+` && `+disabled("playback-prev"))
	pg.click("next 6 hours", "playback-next")
	pg.poll("06:00–12:00", window(6*time.Hour, 6*time.Hour, 13, "6 小时"))
	pg.click("back", "playback-prev")
	pg.poll("00:00–06:00 again", window(6*time.Hour, 0, 13, "6 小时"))
	pg.click("zoom in", "playback-zoom-in")
	pg.poll("1 hour around 03:00", window(time.Hour, 150*time.Minute, 13, "1 小时"))
	pg.click("zoom in", "playback-zoom-in")
	pg.poll("10 minutes", window(10*time.Minute, 175*time.Minute, 11, "10 分钟"))
	pg.click("zoom in", "playback-zoom-in")
	pg.poll("1 minute", window(time.Minute, 179*time.Minute+30*time.Second, 13, "1 分钟")+
		` && `+disabled("playback-zoom-in")+
		` && document.querySelector('#view-playback .tl-tick span').textContent === '02:59:30'`)
	pg.click("next minute", "playback-next")
	pg.poll("the next minute", window(time.Minute, 180*time.Minute+30*time.Second, 13, "1 分钟"))
	// The wheel zooms around the time under the mouse, which stays there.
	wheel := func(deltaY, hours float64) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`(() => {
			const tl = document.querySelector(%q), r = tl.getBoundingClientRect();
			tl.dispatchEvent(new WheelEvent('wheel', {bubbles: true, cancelable: true, deltaY: %f, clientX: r.left + r.width * %f / 24, clientY: r.top + 5}));
		})()`, q("playback-timeline"), deltaY, hours), nil)
	}
	for _, scale := range []string{"10 分钟", "1 小时", "6 小时", "24 小时"} {
		pg.run("wheel out to "+scale, wheel(100, 12))
		pg.poll(scale, fmt.Sprintf(`%s === %q`, text("playback-scale"), scale))
	}
	pg.poll("the day again", window(24*time.Hour, 0, 25, "24 小时"))
	pg.run("wheel in at 10:00", wheel(-100, 10))
	// 10:00 stays under the mouse, give or take the pixel clientX rounds to.
	pg.poll("about 07:30–13:30", `((d, w) => d.span === 6 * 3600e3 && Math.abs(d.startOffset - 7.5 * 3600e3) <= 2 * 86400e3 / w)`+
		`(window.sharpeyesDebug.playback(), document.querySelector('#view-playback .timeline').getBoundingClientRect().width)`+
		` && `+text("playback-scale")+` === '6 小时'`)
	pg.run("wheel out", wheel(100, 10))
	pg.shot("playback-timeline")

	// A record plan: the form checks the schedule before sending.
	pg.click("administration", "nav-admin")
	pg.click("plans tab", "admin-tab-plans")
	pg.poll("no plans yet", vis("plan-table")+` && `+text("plan-table")+`.includes('尚无录像计划')`)
	pg.poll("the recorders' retention in the hint", text("plan-retention-hint")+` === '留空则继承上级（默认 14 天，重点区域 60 天；录像机上限 2 小时）'`)
	pg.fill("plan-kind", "channel")
	pg.fill("plan-target", fakeChannel)
	pg.fill("plan-mode", "schedule")
	pg.click("save without windows", "plan-save")
	pg.poll("schedule required", vis("plan-error")+` && `+text("plan-error")+`.includes('至少需要一个时段')`)
	pg.click("add a window", "plan-add-window")
	pg.click("and Saturday", "plan-window-0-day-6")
	pg.fill("plan-window-0-end", "20:30")
	pg.fill("plan-retention", "60")
	pg.click("save", "plan-save")
	pg.poll("plan listed", vis("plan-row-channel-"+fakeChannel)+` && `+text("plan-row-channel-"+fakeChannel)+`.includes('一二三四五六 08:00–20:30')`)
	want := `PUT /record-plans/channel/` + fakeChannel +
		` {"mode":"schedule","retention_days":60,"schedule":[{"days":[1,2,3,4,5,6],"end":"20:30","start":"08:00"}]}`
	if got := rec.sent(); len(got) != 1 || got[0] != want {
		t.Errorf("plan writes %q, want %q", got, want)
	}
	pg.shot("admin-record-plans")
	pg.click("delete", "plan-delete")
	pg.click("confirm", "ask-ok")
	pg.poll("plan gone", `!document.querySelector('[data-testid="plan-row-channel-`+fakeChannel+`"]')`)
	testsupport.Eventually(t, uiWait, "delete sent", func() bool { return len(rec.sent()) == 2 })
	if got := rec.sent()[1]; got != "DELETE /record-plans/channel/"+fakeChannel+" null" {
		t.Errorf("delete %q", got)
	}
	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
}
