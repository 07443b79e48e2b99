package consoledb_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgcluster"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// BenchmarkAuditInsert writes audit rows from concurrent callers (64 on
// 2 cores), each waiting for its own row's commit, each row chained by the
// insert trigger under the chain's lock. Goal (issue 13): ≥ 5 000 rows/s,
// on a durable cluster. Sub-benchmarks:
//
//   - row: AddAudit, a transaction per row;
//   - writer: an AuditWriter, rows of waiting callers grouped in one
//     transaction;
//
// each against the test cluster (fsync off) and a durable one this
// benchmark starts (fsync and synchronous_commit on, as svcdb's).
func BenchmarkAuditInsert(b *testing.B) {
	for _, cluster := range []struct {
		name string
		open func(testing.TB) *consoledb.DB
	}{
		{"test", open},
		{"durable", openDurable},
	} {
		b.Run(cluster.name, func(b *testing.B) {
			s := cluster.open(b)
			b.Run("row", func(b *testing.B) { benchAuditInsert(b, s.AddAudit) })
			b.Run("writer", func(b *testing.B) {
				w := &consoledb.AuditWriter{DB: s}
				if err := w.Initialize(); err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				benchAuditInsert(b, w.AddAudit)
			})
		})
	}
}

func benchAuditInsert(b *testing.B, add func(context.Context, store.AuditEntry) error) {
	e := store.AuditEntry{
		Username: "olga", DepartmentID: 7, Role: store.RoleOperator, Action: "play", Target: "34020000001310000001",
		Remote: "10.0.0.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", Result: store.AuditOK,
		Detail: map[string]any{"path": "live/34020000001310000001"},
	}
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := add(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

// openDurable starts a private cluster with fsync and synchronous commit
// on (pgcluster.Durable, what the console runs on), stopped when tb ends.
func openDurable(tb testing.TB) *consoledb.DB {
	tb.Helper()
	// Not tb.TempDir: the cluster may run as the postgres user, which must
	// reach the directory.
	dir, err := os.MkdirTemp("", "sharpeyes-audit-durable-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	c := &pgcluster.Cluster{Dir: filepath.Join(dir, "data"), Durable: true, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = c.Ensure(ctx)
	if errors.Is(err, pgcluster.ErrNoBinaries) {
		testsupport.Need(tb, "PostgreSQL", "apt-get install postgresql", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			tb.Error(err)
		}
	})
	if err := c.CreateDB(ctx, "audit"); err != nil {
		tb.Fatal(err)
	}
	return consoledb.New(storetest.Open(tb, c.URL("audit"), 8))
}

// BenchmarkAuditVerify checks the chain of a log of
// SHARPEYES_BENCH_AUDIT_ROWS rows (default 100 000; the figure is
// for 1 000 000: ≤ 10 s).
func BenchmarkAuditVerify(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SHARPEYES_BENCH_AUDIT_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SHARPEYES_BENCH_AUDIT_ROWS=%q", v)
		}
	}
	s := open(b)
	// One statement: the trigger chains every row as AddAudit's would be.
	if _, err := s.Pool.Exec(context.Background(), `
INSERT INTO audit_log (at, username, action, target, remote, detail)
SELECT now() - make_interval(secs => $1 - i), 'user' || (i % 50), 'play', '340200000013100' || lpad((i % 100000)::text, 5, '0'),
       '10.0.' || (i % 250) || '.1', jsonb_build_object('path', 'live/x', 'i', i)
FROM generate_series(1, $1) i`, n); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		v, err := s.VerifyAudit(context.Background())
		if err != nil || !v.OK || v.Rows != int64(n) {
			b.Fatalf("%+v %v", v, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
