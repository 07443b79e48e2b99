package feed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/feed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// testToken is the one play token tokenSource accepts.
const testToken = "good-token"

// tokenSource is a real Source over a hub (mediatest.AuditingSource: it
// records the media opens and refuses them on demand) that requires
// testToken, as the gateway requires a valid play token.
type tokenSource struct {
	*mediatest.AuditingSource
}

func newSource(h *hub.Hub) *tokenSource {
	return &tokenSource{&mediatest.AuditingSource{HubSource: access.HubSource{Hub: h}}}
}

func (s *tokenSource) Authorize(req access.Request) error {
	if req.Token != testToken {
		return fmt.Errorf("token %q: %w", req.Token, access.ErrUnauthorized)
	}
	return nil
}

func (s *tokenSource) Read(ctx context.Context, req access.Request) (*hub.Reader, error) {
	if err := s.Authorize(req); err != nil {
		return nil, err
	}
	return s.AuditingSource.Read(ctx, req)
}

// startServer starts a Server over src, mounted at /feed/ of an httptest
// server; conf adjusts its configuration before Initialize.
func startServer(t testing.TB, src access.Source, conf func(*feed.Server)) (*feed.Server, string) {
	t.Helper()
	s := &feed.Server{Source: src, Log: mediatest.Log(t)}
	if conf != nil {
		conf(s)
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(unitfeed.PathPrefix, s)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// feedURL is the feed of path with token.
func feedURL(base, path, token string) string {
	return base + unitfeed.PathPrefix + path + "?token=" + url.QueryEscape(token)
}

// client is one feed being read.
type client struct {
	resp   *http.Response
	r      *unitfeed.Reader
	header unitfeed.Header
	cancel context.CancelFunc
}

// openFeed GETs a feed, expects 200 with the feed's content type and
// reads its header; the request ends with the test.
func openFeed(t testing.TB, c *http.Client, u string) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != unitfeed.ContentType {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s: %s", u, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	fc := &client{resp: resp, r: unitfeed.NewReader(resp.Body, 64<<10), cancel: cancel}
	if fc.header, err = fc.r.ReadHeader(); err != nil {
		t.Fatalf("read header: %v", err)
	}
	return fc
}

// readUnit reads the next unit within limit: past it the test fails (the
// request is cancelled, which unblocks the read).
func (c *client) readUnit(t testing.TB, limit time.Duration) (unitfeed.Unit, error) {
	t.Helper()
	timer := time.AfterFunc(limit, c.cancel)
	defer timer.Stop()
	u, err := c.r.ReadUnit()
	if !timer.Stop() {
		t.Fatalf("no unit within %s", limit)
	}
	return u, err
}

// errorAnswer is a refused request's status and JSON body.
type errorAnswer struct {
	status int
	allow  string
	Code   string `json:"code"`
	Msg    string `json:"error"`
}

// request makes a request that must be refused with a JSON body.
func request(t testing.TB, method, u string) errorAnswer {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	a := errorAnswer{status: resp.StatusCode, allow: resp.Header.Get("Allow")}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: %d with %q", method, u, resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s %s: %d: body: %v", method, u, resp.StatusCode, err)
	}
	return a
}

// feedReaders counts the stream's hub readers of the feed.
func feedReaders(st *hub.Stream) int {
	n := 0
	for _, r := range st.Stats().Readers {
		if strings.HasPrefix(r.Name, access.ProtocolFeed+" ") {
			n++
		}
	}
	return n
}

// received is when units() says the ingest received a clip's first unit.
var received = time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.UTC)

// units interleaves a clip's video with 20 ms G.711 A-law frames, as a
// camera sends them; video timestamps step by the clip's frame time, and
// each unit is received (Received, which the hub keeps) at its PTS after
// received.
func units(clip *mediatest.Clip) []hub.Unit {
	var out []hub.Unit
	step := int64(90000 / clip.FPS)
	at := func(pts int64) time.Time { return received.Add(time.Duration(pts) * time.Second / 90000) }
	var audio int64
	for i, u := range clip.Units {
		u.PTS, u.DTS = int64(i)*step, int64(i)*step
		u.Received = at(u.PTS)
		out = append(out, u)
		for ; audio <= u.PTS; audio += 1800 {
			out = append(out, hub.Unit{
				Codec: ps.CodecG711A, PTS: audio, DTS: audio, Keyframe: true, Payload: mediatest.G711Frame, Received: at(audio),
			})
		}
	}
	return out
}

// publish publishes path in h; the stream closes with the test.
func publish(t testing.TB, h *hub.Hub, path string) *hub.Stream {
	t.Helper()
	st, err := h.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// write writes us to st.
func write(t testing.TB, st *hub.Stream, us []hub.Unit) {
	t.Helper()
	for _, u := range us {
		if err := st.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
}
