package mediagw

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/feed"
)

// feedStatus requests path's unit feed with token and returns the status
// of the answer, closed at once.
func (g *testGW) feedStatus(t *testing.T, path, token string) int {
	t.Helper()
	resp, err := http.Get(g.base + unitfeed.PathPrefix + path + "?token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// feedRead opens path's unit feed with token, reads its header and then
// its units in the background until it ends (the test's end closes it):
// units has the first ones, ends says how it ended.
func (g *testGW) feedRead(t *testing.T, path, token string) (units <-chan unitfeed.Unit, header unitfeed.Header, ends <-chan error) {
	t.Helper()
	resp, err := http.Get(g.base + unitfeed.PathPrefix + path + "?token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != unitfeed.ContentType {
		t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := unitfeed.NewReader(resp.Body, 64<<10)
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	us, end := make(chan unitfeed.Unit, 1024), make(chan error, 1)
	go func() {
		for {
			u, err := r.ReadUnit()
			if err != nil {
				end <- err
				return
			}
			select {
			case us <- u:
			default: // nobody counts them any more
			}
		}
	}()
	return us, h, end
}

// TestFeed: the unit feed through the gateway. A user's play token opens
// it; its media open is an audit row (protocol feed) stored before the
// answer; it starts at a video keyframe; the control API lists it under
// "feed" and the metrics count its hub reader. A bad token is refused
// with 401, an open the console does not store with 503, and a revoked
// user's feed is cut within a revocation round while another's plays on.
func TestFeed(t *testing.T) {
	interval := config.MinRevocationInterval
	g := startGW(t, func(c *config.Mediagw) { c.Audit.RevocationInterval = interval })
	const path = "live/fed"
	playCamera(t, g, path)
	tok := func(sub string) string { return g.userToken(sub, path) }
	// A unit is out one flush interval after it came, within a write.
	unitWait := feed.DefaultFlushInterval + feed.DefaultWriteTimeout

	units, header, aliceEnd := g.feedRead(t, path, tok("alice"))
	video := slices.Index(header.Tracks, unitfeed.CodecH264)
	if video < 0 {
		t.Fatalf("header %v has no H.264 track", header.Tracks)
	}
	if header.Now.IsZero() {
		t.Fatal("the header carries no clock")
	}
	select {
	case u := <-units:
		// The GOP cache's keyframe, received (a little) before the header.
		if u.Track != video || !u.Key || u.Received.IsZero() || u.Received.After(header.Now) {
			t.Fatalf("first unit: track %d key %t received %s (header %s), want the H.264 keyframe", u.Track, u.Key,
				u.Received, header.Now)
		}
	case err := <-aliceEnd:
		t.Fatalf("feed ended: %v", err)
	case <-time.After(unitWait):
		t.Fatalf("no unit within %s", unitWait)
	}

	rows := opensOf(g.audit.stored(t), auditapi.ProtocolFeed)
	if len(rows) != 1 || rows[0].User != "alice" || rows[0].Path != path || !strings.HasPrefix(rows[0].Remote, "127.0.0.1:") ||
		rows[0].Node != "127.0.0.1" {
		t.Fatalf("feed audit rows %+v", rows)
	}
	var outputs struct {
		Feed []feed.SessionStats `json:"feed"`
	}
	if err := json.Unmarshal([]byte(g.get("/internal/v1/outputs")), &outputs); err != nil {
		t.Fatal(err)
	}
	if f := outputs.Feed; len(f) != 1 || f[0].Path != path || !f[0].Open || f[0].Subject != "alice" ||
		!strings.HasPrefix(f[0].Reader, "feed 127.0.0.1:") {
		t.Fatalf("outputs: feed %+v", f)
	}
	if m := g.getPublic("/metrics"); !strings.Contains(m, `sharpeyes_mediagw_readers{protocol="feed"} 1`) {
		t.Error("metrics do not count the feed's reader")
	}

	if code := g.feedStatus(t, path, "v1.bad.token"); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", code)
	}
	g.audit.fail(http.StatusInternalServerError)
	if code := g.feedStatus(t, path, tok("eve")); code != http.StatusServiceUnavailable {
		t.Fatalf("feed without an audit row: %d", code)
	}
	g.audit.fail(0)

	_, _, bobEnd := g.feedRead(t, path, tok("bob"))
	g.audit.revoke("alice")
	// Cut at the latest one round after the next (each round one console
	// call), then at once: the cut does not wait for a write.
	bound := 2*interval.Std() + g.cfg.Audit.Timeout.Std() + unitWait
	select {
	case err := <-aliceEnd:
		if errors.Is(err, io.EOF) {
			t.Fatal("the revoked feed ended cleanly, as if the stream had ended")
		}
		t.Logf("alice's feed: %v", err)
	case <-time.After(bound):
		t.Fatalf("alice's feed still runs %s after the revocation", bound)
	}
	select {
	case err := <-bobEnd:
		t.Fatalf("bob's feed ended with alice's: %v", err)
	default:
	}
}
