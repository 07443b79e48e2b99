package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/scopebench"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// BenchmarkSliceRoutes calls the console's list and tree routes over HTTP
// as each operator of the scopebench data set (100,000 channels, 2,000
// departments, 5,000 grants): the first page of /api/v1/channels with its
// total (plain, searching, online only), /api/v1/devices, and /api/v1/tree
// by device and by region (the whole slice). Goal (issue 13): p99 ≤ 50 ms.
func BenchmarkSliceRoutes(b *testing.B) {
	ctx := context.Background()
	base := storetest.Open(b, pgtest.NewDB(b), 8)
	ops, err := scopebench.Build(ctx, base.Pool)
	if err != nil {
		b.Fatal(err)
	}
	const password = "bench-password-1"
	hash, err := auth.HashPassword(password, cheap)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := base.Pool.Exec(ctx, `UPDATE users SET password_hash = $1`, hash); err != nil {
		b.Fatal(err)
	}
	st := consoledb.New(base)
	svc := &auth.Service{Store: st, SessionTTL: time.Hour, MaxFailures: 5, Lockout: time.Minute, Params: cheap, Log: quiet}
	if err := svc.Initialize(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	// The API's clock is the data set's: grants' hours and validity are
	// read at scopebench.At.
	api := &console.API{Store: st, Auth: svc, Log: quiet, Now: func() time.Time { return scopebench.At }}
	if err := api.Initialize(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	client := srv.Client()
	b.Cleanup(client.CloseIdleConnections)

	routes := []struct{ name, path string }{
		{"channels", "/api/v1/channels"},
		{"search", "/api/v1/channels?q=" + "%E8%B7%AF%E5%8F%A3"}, // 路口
		{"online", "/api/v1/channels?online=true"},
		{"devices", "/api/v1/devices"},
		{"tree-device", "/api/v1/tree?by=device"},
		{"tree-region", "/api/v1/tree?by=region"},
	}
	for _, op := range ops {
		login, err := svc.Login(ctx, op.Name, password, "127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		_, size, err := st.In(catalogview.UserScope(op.ID, "", scopebench.At)).ListChannels(ctx, store.ChannelFilter{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, rt := range routes {
			b.Run(op.Name+"/"+rt.name, func(b *testing.B) {
				scopebench.Latencies(b, size, func() error {
					return get(client, srv.URL+rt.path, login.Token)
				})
			})
		}
	}
}

// get reads url with the session token, all of the body.
func get(client *http.Client, url, token string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
