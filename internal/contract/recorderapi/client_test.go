package recorderapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// seen is what the fake node received.
type seen struct{ method, uri, auth, rng, body string }

func fakeNode(t *testing.T, status int, answer any) (*httptest.Server, func() seen) {
	var mu sync.Mutex
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Range"), string(b)}
		mu.Unlock()
		if s, ok := answer.(string); ok {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, s)
			return
		}
		svcapi.WriteJSON(w, status, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, func() seen { mu.Lock(); defer mu.Unlock(); return last }
}

func TestClient(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	srv, got := fakeNode(t, http.StatusCreated, recorderapi.Export{ID: "0123456789abcdef", State: "queued"})
	c := &recorderapi.Client{BaseURL: srv.URL, Token: "tok", Timeout: time.Minute}
	ctx := context.Background()
	e, err := c.CreateExport(ctx, recorderapi.ExportRequest{Owner: "alice", ChannelID: "1", Source: "platform", Start: t0, End: t0})
	if err != nil || e.ID != "0123456789abcdef" {
		t.Fatalf("create %+v %v", e, err)
	}
	if s := got(); s.method != "POST" || s.uri != "/internal/v1/exports" || s.auth != "Bearer tok" ||
		s.body != `{"owner":"alice","channel_id":"1","source":"platform","start":"2026-12-07T00:00:00Z","end":"2026-12-07T00:00:00Z"}` {
		t.Errorf("create sent %+v", s)
	}
	if _, err := c.Export(ctx, "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if s := got(); s.method != "GET" || s.uri != "/internal/v1/exports/0123456789abcdef" {
		t.Errorf("get sent %+v", s)
	}
	if err := c.DeleteExport(ctx, "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if s := got(); s.method != "DELETE" || s.uri != "/internal/v1/exports/0123456789abcdef" {
		t.Errorf("delete sent %+v", s)
	}

	if _, err := (&recorderapi.Client{BaseURL: srv.URL}).Export(ctx, "x"); !errors.Is(err, svcapi.ErrUnreachable) {
		t.Errorf("without a token: %v", err)
	}
	if resp, err := (&recorderapi.Client{BaseURL: srv.URL}).ExportFile(ctx, "x", ""); !errors.Is(err, svcapi.ErrUnreachable) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("file without a token: %v", err)
	}
}

func TestExportFile(t *testing.T) {
	srv, got := fakeNode(t, http.StatusPartialContent, "mp4")
	c := &recorderapi.Client{BaseURL: srv.URL, Token: "tok"}
	resp, err := c.ExportFile(context.Background(), "0123456789abcdef", "bytes=0-2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "mp4" || got().rng != "bytes=0-2" || got().uri != "/internal/v1/exports/0123456789abcdef/file" {
		t.Errorf("file %q, sent %+v", b, got())
	}

	for _, tc := range []struct {
		status int
		answer any
		want   error
	}{
		{http.StatusConflict, svcapi.Error{Error: "not done", Code: recorderapi.CodeNotDone}, recorderapi.ErrNotDone},
		{http.StatusNotFound, "gone", svcapi.ErrNotFound},
		{http.StatusUnauthorized, svcapi.Error{Error: "token", Code: svcapi.CodeUnauthorized}, nil},
	} {
		srv, _ := fakeNode(t, tc.status, tc.answer)
		resp, err := (&recorderapi.Client{BaseURL: srv.URL, Token: "tok"}).ExportFile(context.Background(), "x", "")
		if err == nil {
			resp.Body.Close()
		}
		var se *svcapi.StatusError
		if !errors.As(err, &se) || se.Code != tc.status || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: %v", tc.status, err)
		}
	}
}

func TestFileName(t *testing.T) {
	e := recorderapi.Export{ChannelID: "34020000001320000001", Start: time.Date(2026, 12, 7, 8, 30, 5, 0, time.UTC)}
	if got := e.FileName(time.UTC); got != "34020000001320000001_20261207T083005.mp4" {
		t.Errorf("file name %q", got)
	}
}
