package httpserv_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/metrics"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerProbesAndMetrics(t *testing.T) {
	dbErr := errors.New("connection refused")
	var failing bool
	mux := httpserv.NewMux(metrics.NewRegistry("console"), map[string]httpserv.ReadyFunc{
		"database": func(context.Context) error {
			if failing {
				return dbErr
			}
			return nil
		},
	})
	s := &httpserv.Server{Address: "127.0.0.1:0", ReadHeaderTimeout: time.Second, Handler: mux, Log: slog.Default()}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + s.Addr().String()

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz %d %q", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	failing = true
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "database: connection refused") {
		t.Fatalf("readyz failing %d %q", code, body)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `sharpeyes_build_info{service="console"`) || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics %d %.300q", code, body)
	}
}

func TestServerPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &httpserv.Server{Address: ln.Addr().String(), Log: slog.Default()}
	if err := s.Initialize(); err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("err = %v, want an error naming the address", err)
	}
}
