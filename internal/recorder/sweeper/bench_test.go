package sweeper

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// BenchmarkSweep deletes benchSegments expired segments (objects of 64 KiB
// and their rows) in one round of batches of DefaultBatch, with no pause,
// on each store, and reports the deletions per second.
func BenchmarkSweep(b *testing.B) {
	const benchSegments, size = 2000, 64 << 10
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db := recordingdb.New(storetest.Open(b, pgtest.NewDB(b), 4))
			st := be.open(b)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				keys := make([]string, benchSegments)
				for j := range keys {
					keys[j] = fmt.Sprintf("34020000001310000001/2026/11/01/%06d.%03d.mp4", i, j)
					p, err := st.WritePath(keys[j])
					if err != nil {
						b.Fatal(err)
					}
					if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
						b.Fatal(err)
					}
					if err := st.Commit(ctx, keys[j]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := db.Pool.Exec(ctx, `INSERT INTO recordings (channel_id, start_at, end_at, open, bytes,
	object_key, retention_days, expires_at)
SELECT '34020000001310000001', $1::timestamptz, $1::timestamptz, false, $2, k, 1, $1::timestamptz
FROM unnest($3::text[]) AS k`, now.Add(-2*day), size, keys); err != nil {
					b.Fatal(err)
				}
				s := &Sweeper{
					DB: db, Objects: st, Pause: -1, Now: func() time.Time { return now },
					Tick: make(chan time.Time),
				}
				if err := s.prepare(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				started := time.Now()
				s.round()
				total += time.Since(started)
				b.StopTimer()
				s.cancel()
				if n := testutil.ToFloat64(s.Metrics.Segments.WithLabelValues(ReasonExpired)); n != benchSegments {
					b.Fatalf("deleted %v of %d", n, benchSegments)
				}
			}
			b.ReportMetric(float64(benchSegments*b.N)/total.Seconds(), "segments/s")
		})
	}
}
