package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// recorder is a node as GET /recorders answers it, with its capacity
// alarm on or off.
func recorder(node string, live, alarm bool, headroom float64) map[string]any {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	return map[string]any{
		"node": node, "url": "", "started_at": at, "heartbeat_at": at, "live": live,
		"retention": map[string]any{"standard_days": 30, "key_days": 90, "limit_seconds": 0},
		"capacity": map[string]any{
			"node": node, "alarm": alarm, "headroom_days": headroom, "warn_days": 7, "free_bytes": 35,
			"total_bytes": 100, "bytes_per_day": 10, "overwrite_oldest": false, "at": at,
		},
	}
}

// bannerShown is JS true when the storage banner is on the page (it is
// fixed under the header: vis's offsetParent is null for it).
const bannerShown = `((e) => !!e && !e.hidden && e.getClientRects().length > 0)(document.querySelector('[data-testid="storage-banner"]'))`

// checked is JS true once the banner has read the recorders since the page
// loaded.
const checked = `Number(document.querySelector('[data-testid="storage-banner"]')?.dataset.checks) > 0`

// TestStorageBannerInBrowser: an admin sees a live recorder's storage
// alarm (not a dead node's, not a node without one), in both languages,
// until dismissed for the session; an auditor's page does not ask.
func TestStorageBannerInBrowser(t *testing.T) {
	pg, api, _, problems := adminPage(t, "admin", "/live")
	pg.poll("recorders read", checked)
	pg.poll("no alarm, no banner", "!"+bannerShown)

	api.mu.Lock()
	api.recorders = []any{
		recorder("rec-1", true, true, 3.46),
		recorder("rec-2", false, true, 1), // dead: its old reading is not shown
		recorder("rec-3", true, false, 40),
	}
	api.mu.Unlock()
	pg.run("reload", chromedp.Reload())
	pg.poll("recorders read again", checked)
	pg.poll("banner", bannerShown)
	pg.poll("one line, zh", `[...document.querySelectorAll('[data-testid="storage-banner-line"]')].map(e => e.textContent).join('|') === `+
		`'录像存储空间不足：节点 rec-1 按当前写入速率仅够 3.4 天（阈值 7 天）'`)
	pg.click("english", "lang-toggle")
	pg.poll("en", text("storage-banner-line")+` === 'Recording storage is running out: node rec-1 has room for only 3.4 days at the current write rate (threshold 7 days)'`)
	pg.shot("storage-banner")
	pg.run("dismiss", chromedp.Evaluate(`document.querySelector('[data-testid="storage-banner-close"]').click()`, nil))
	pg.poll("dismissed", "!"+bannerShown)
	pg.run("reload", chromedp.Reload())
	pg.poll("recorders read after the reload", checked)
	pg.poll("still dismissed", "!"+bannerShown)
	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}

	aud, audAPI, _, _ := adminPage(t, "auditor", "/audit")
	aud.poll("audit", vis("audit-table"))
	if audAPI.called("GET /api/v1/recorders") {
		t.Error("an auditor's page read the recorders")
	}
}
