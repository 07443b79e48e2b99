package svc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func readyz(t *testing.T, rt *svc.Runtime) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + rt.HTTP.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

func TestStartHTTPReadiness(t *testing.T) {
	var dbErr error
	rt, err := svc.StartHTTP("console", config.HTTP{Listen: "127.0.0.1:0"}, slog.Default(),
		map[string]httpserv.ReadyFunc{"database": func(context.Context) error { return dbErr }})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, step := range []struct {
		name     string
		started  bool
		dbErr    error
		wantCode int
		wantBody string
	}{
		{"not started", false, nil, http.StatusServiceUnavailable, "startup"},
		{"started", true, nil, http.StatusOK, ""},
		{"database down", true, errors.New("gone"), http.StatusServiceUnavailable, "database"},
	} {
		if step.started {
			rt.Started()
		}
		dbErr = step.dbErr
		code, body := readyz(t, rt)
		if code != step.wantCode || !strings.Contains(body, step.wantBody) {
			t.Fatalf("%s: readyz %d %q, want %d with %q", step.name, code, body, step.wantCode, step.wantBody)
		}
	}
}

func TestStartHTTPPortInUse(t *testing.T) {
	first, err := svc.StartHTTP("mediagw", config.HTTP{Listen: "127.0.0.1:0"}, slog.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := svc.StartHTTP("mediagw", config.HTTP{Listen: first.HTTP.Addr().String()}, slog.Default(), nil); err == nil {
		t.Fatal("want port-in-use error")
	}
}
