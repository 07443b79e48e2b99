package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/pgcluster"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestEnsureReusesAcrossRuns starts a cluster, "restarts" the caller (a new Cluster
// value for the same directory, several at once), and checks they all reuse it.
func TestEnsureReusesAcrossRuns(t *testing.T) {
	_, err := pgcluster.FindBinaries()
	testsupport.Need(t, "PostgreSQL", "apt-get install postgresql", err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	parent, err := os.MkdirTemp("", "sharpeyes-pgtest-reuse-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "data")
	first := &pgcluster.Cluster{Dir: dir, Durable: true}
	if err := first.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Stop(context.Background()) }()
	if err := first.CreateDB(ctx, "sharpeyes"); err != nil {
		t.Fatal(err)
	}
	if err := first.CreateDB(ctx, "sharpeyes"); err != nil {
		t.Fatalf("CreateDB must be idempotent: %v", err)
	}

	var wg sync.WaitGroup
	ports := make([]int, 3)
	errs := make([]error, 3)
	for i := range ports {
		wg.Go(func() {
			c := &pgcluster.Cluster{Dir: dir}
			errs[i] = c.Ensure(ctx)
			ports[i] = c.Port()
		})
	}
	wg.Wait()
	for i := range ports {
		if errs[i] != nil || ports[i] != first.Port() {
			t.Fatalf("caller %d: port %d err %v, want reuse of port %d", i, ports[i], errs[i], first.Port())
		}
	}

	// After a stop, Ensure starts the same data directory again and the data is still there.
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	again := &pgcluster.Cluster{Dir: dir}
	if err := again.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Stop(context.Background()) }()
	conn, err := pgx.Connect(ctx, again.URL("sharpeyes"))
	if err != nil {
		t.Fatalf("database lost across restart: %v", err)
	}
	conn.Close(ctx)
}

func TestBadDirFailsClearly(t *testing.T) {
	_, err := pgcluster.FindBinaries()
	testsupport.Need(t, "PostgreSQL", "apt-get install postgresql", err)
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &pgcluster.Cluster{Dir: filepath.Join(f, "data")} // parent is a regular file
	if err := c.Ensure(context.Background()); err == nil {
		t.Fatal("want an error for a data dir below a regular file")
	}
}
