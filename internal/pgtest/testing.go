package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/pgcluster"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// shared is the one cluster of this test process.
var shared struct {
	once    sync.Once
	cluster *pgcluster.Cluster
	dir     string
	err     error
	seq     atomic.Int64
}

// Main runs the package's tests, fails them when they left goroutines running
// (leakcheck.Run, while the cluster still runs, so that a pool still
// connected shows up as the leak it is rather than as a broken connection),
// and then stops the process's cluster, if one was started. Call it from
// TestMain in every package that uses NewDB:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := leakcheck.Run(m)
	if shared.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.cluster.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		cancel()
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// NewDB returns the URL of a fresh, empty database on the process's private cluster,
// dropped when the test ends. Without PostgreSQL binaries the test is skipped on a
// developer's machine and fails under CI (CI=true), where they must be installed.
func NewDB(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "sharpeyes-pgtest-")
		if err != nil {
			shared.err = err
			return
		}
		// The cluster may run as the postgres user, which must reach the directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		c := &pgcluster.Cluster{Dir: dir + "/data"}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if shared.err = c.Ensure(ctx); shared.err == nil {
			shared.cluster = c
		}
	})
	if errors.Is(shared.err, pgcluster.ErrNoBinaries) {
		testsupport.Need(t, "PostgreSQL", "apt-get install postgresql", shared.err)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), shared.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shared.cluster.CreateDB(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, shared.cluster.URL("postgres"))
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return shared.cluster.URL(name)
}
