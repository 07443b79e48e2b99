package svc_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestStartWithDatabase(t *testing.T) {
	var cfg config.Console
	if _, err := config.Load("", &cfg, []string{
		"SHARPEYES_DATABASE_URL=" + pgtest.NewDB(t), "SHARPEYES_HTTP_LISTEN=127.0.0.1:0",
	}); err != nil {
		t.Fatal(err)
	}
	rt, err := svc.Start(context.Background(), "console", &cfg.Database, cfg.HTTP, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if v, err := rt.Store.Version(context.Background()); err != nil || v < 1 {
		t.Fatalf("schema not migrated: %d %v", v, err)
	}
	readyz := func() (int, string) {
		resp, err := http.Get("http://" + rt.HTTP.Addr().String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	// Not ready until the service says its own routes are set up.
	if code, body := readyz(); code != http.StatusServiceUnavailable || !strings.Contains(body, "startup") {
		t.Fatalf("readyz before Started: %d %s", code, body)
	}
	rt.Started()
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("readyz %d %s", code, body)
	}
}

func TestStartUnreachableDatabase(t *testing.T) {
	db := config.Database{URL: "postgres://x@127.0.0.1:1/x?sslmode=disable", MaxConns: 1, ConnectTimeout: config.Duration(3 * time.Second)}
	if _, err := svc.Start(context.Background(), "recorder", &db, config.HTTP{Listen: "127.0.0.1:0"}, slog.Default()); err == nil {
		t.Fatal("want an error")
	}
}

func TestStartPortInUseClosesStore(t *testing.T) {
	first, err := svc.Start(context.Background(), "mediagw", nil, config.HTTP{Listen: "127.0.0.1:0"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := svc.Start(context.Background(), "mediagw", nil, config.HTTP{Listen: first.HTTP.Addr().String()}, slog.Default()); err == nil {
		t.Fatal("want port-in-use error")
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, "mediagw", nil, config.HTTP{Listen: "127.0.0.1:0"}, slog.Default()) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	bad := config.HTTP{Listen: "127.0.0.1:99999"}
	if err := svc.Serve(context.Background(), "mediagw", nil, bad, slog.Default()); err == nil {
		t.Fatal("want a listen error")
	}
}
