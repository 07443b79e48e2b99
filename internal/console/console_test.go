package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestRun(t *testing.T) {
	var cfg config.Console
	cfg.SetDefaults()
	cfg.Database.URL = config.DatabaseURL(storetest.NewDB(t))
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Media.PlayTokenSecret = playSecret
	cfg.Auth.InitialAdminPassword = "first-password"
	var logs apitest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- console.Run(ctx, &cfg, log) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20 s of cancel")
		}
	}()

	var base string
	// Serving follows connecting to the database, which its connect timeout bounds.
	testsupport.Eventually(t, cfg.Database.ConnectTimeout.Std(), "the console serves", func() bool {
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				base = "http://" + rec.HTTP
			}
		}
		return base != ""
	})
	if !strings.Contains(logs.String(), "created the initial admin user") {
		t.Errorf("no warning about the initial admin; log:\n%s", logs.String())
	}

	get := func(path string) (int, string, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("readyz %d %s", code, body)
	}
	if code, ct, _ := get("/"); code != http.StatusOK || !strings.HasPrefix(ct, "text/html") {
		t.Errorf("UI: %d %s", code, ct)
	}
	if code, ct, _ := get("/api/v1/openapi.json"); code != http.StatusOK || ct != "application/json" {
		t.Errorf("openapi: %d %s", code, ct)
	}
	if code, ct, _ := get("/api/v1/nope"); code != http.StatusNotFound || ct != "application/json" {
		t.Errorf("unknown API route: %d %s", code, ct)
	}
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"admin","password":"first-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"must_change_password":true`) {
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
}
