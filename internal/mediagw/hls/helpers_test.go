package hls_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hls"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
)

// tokenSource is a real Source over a hub that requires one play token
// (any token when token is empty). With allowH265 it hands out H.265
// readers to H264Only requests, which the gateway never does, to exercise
// the H.265 pass-through.
type tokenSource struct {
	hub       *hub.Hub
	token     string
	allowH265 bool
}

func (s *tokenSource) Authorize(req access.Request) error {
	if s.token != "" && req.Token != s.token {
		return fmt.Errorf("token %q: %w", req.Token, access.ErrUnauthorized)
	}
	return nil
}

func (s *tokenSource) Opened(context.Context, access.Request) error { return nil }

func (s *tokenSource) Read(ctx context.Context, req access.Request) (*hub.Reader, error) {
	if err := s.Authorize(req); err != nil {
		return nil, err
	}
	if s.allowH265 {
		req.H264Only = false
	}
	return (&access.HubSource{Hub: s.hub}).Read(ctx, req)
}

// startServer starts a Server over src behind an httptest server on
// 127.0.0.1 with the Server mounted at /hls/ and page served at /.
func startServer(t testing.TB, src access.Source, page string, conf func(*hls.Server)) (*hls.Server, string) {
	t.Helper()
	s := &hls.Server{Source: src, Log: mediatest.Log(t)}
	if conf != nil {
		conf(s)
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hls/", s)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
	var handler http.Handler = mux
	if os.Getenv("HLS_TEST_LOG") != "" {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, code: 200}
			start := time.Now()
			mux.ServeHTTP(rec, r)
			t.Logf("%s %s %s -> %d %d bytes in %s", r.Method, r.URL, r.Header.Get("User-Agent")[:min(10, len(r.Header.Get("User-Agent")))], rec.code, rec.n, time.Since(start).Round(time.Millisecond))
		})
	}
	ts := httptest.NewServer(handler)
	// Stop the HTTP server first: blocked handlers end when the muxers close.
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// get fetches url with a bounded client and returns status and body.
func get(t testing.TB, url string) (int, http.Header, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, b
}

func readerNames(st *hub.Stream) []string {
	var out []string
	for _, r := range st.Stats().Readers {
		out = append(out, r.Name)
	}
	return out
}

func hasPrefixAny(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	code, n int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.n += n
	return n, err
}
