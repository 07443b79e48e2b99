package consoledb_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// BenchmarkAuditInsert writes audit rows through AddAudit from parallel
// writers, each row chained by the insert trigger under the chain's lock.
// Goal (issue 13): ≥ 5 000 rows/s.
func BenchmarkAuditInsert(b *testing.B) {
	s := open(b)
	e := store.AuditEntry{
		Username: "olga", Action: "play", Target: "34020000001310000001", Remote: "10.0.0.1",
		Detail: map[string]any{"path": "live/34020000001310000001"},
	}
	b.SetParallelism(2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AddAudit(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
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
