package capacity

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// BenchmarkBytesWritten reads a day's write rate from an index of
// benchChannels channels recorded in 1-minute segments for benchDays days
// (347 × 10 × 1440 ≈ 5 million rows, 500 000 of them in the window): the
// guard's read, every few minutes — as the schema has it (a scan), and
// with a BRIN index on start_at.
func BenchmarkBytesWritten(b *testing.B) {
	const benchChannels, benchDays = 347, 10
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(b, pgtest.NewDB(b), 4))
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO devices (id) VALUES ('34020000001180000001')`,
		`INSERT INTO channels (device_id, id) SELECT '34020000001180000001', '340200000013100' || lpad(c::text, 5, '0')
		 FROM generate_series(1, 347) AS c`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key,
	retention_days, expires_at)
SELECT '340200000013100' || lpad(c::text, 5, '0'), $1::timestamptz + m * interval '1 minute',
	$1::timestamptz + (m + 1) * interval '1 minute', false, 15000000,
	'340200000013100' || lpad(c::text, 5, '0') || '/' || m || '.mp4', 30,
	$1::timestamptz + (m + 1) * interval '1 minute' + interval '30 days'
FROM generate_series(0, $2 - 1) AS m, generate_series(1, $3) AS c
ORDER BY m, c`, t0, benchDays*1440, benchChannels); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE recordings`); err != nil {
		b.Fatal(err)
	}
	since := t0.Add((benchDays - 1) * 24 * time.Hour)
	want := int64(benchChannels) * 1440 * 15000000
	read := func(b *testing.B) {
		for b.Loop() {
			got, err := Index{db}.BytesWritten(ctx, since)
			if err != nil || got != want {
				b.Fatalf("bytes written %d, %v; want %d", got, err, want)
			}
		}
	}
	b.Run("scan", read)
	if _, err := db.Pool.Exec(ctx, `CREATE INDEX bench_brin ON recordings USING brin (start_at)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE recordings`); err != nil {
		b.Fatal(err)
	}
	b.Run("brin", read)
}
