package recordingdb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// Shape of BenchmarkTimeline's table: benchChannels channels recorded in
// 1-minute segments for benchDays days, inserted in time order across the
// channels as a recorder fleet writes them — 347 × 20 × 1440 ≈ 10 million
// rows.
const (
	benchChannels = 347
	benchDays     = 20
)

// BenchmarkTimeline reads one random channel-day's timeline (1 440
// segments merged, gaps) from a 10-million-row index, and reports the p99
// and p50 besides the mean, for each index layout: the schema's btree on
// (channel_id, start_at) with end_at and deleting included (index-only
// scans), the same without them, and BRIN on start_at alone, each built
// after the rows are in. Run it with -benchtime 200x (each pass reads 200
// channel-days) and -v to see what it logs: the progress of the inserts,
// the sizes of the table and its indexes.
//
// SHARPEYES_BENCH_TIMELINE_CHANNELS sets the number of channels instead
// of 347 (3472 for the 100 million rows; a small number for a
// quick check), and then only the schema's layout is measured, its own
// recordings_channel_start_idx as the inserts maintained it: building an
// index on 100 million rows takes many minutes.
func BenchmarkTimeline(b *testing.B) {
	channels, scaled := benchChannels, false
	if v := os.Getenv("SHARPEYES_BENCH_TIMELINE_CHANNELS"); v != "" {
		var err error
		// Channel IDs have 5 digits for the channel number.
		if channels, err = strconv.Atoi(v); err != nil || channels < 1 || channels > 99999 {
			b.Fatalf("SHARPEYES_BENCH_TIMELINE_CHANNELS=%q: want 1 to 99999", v)
		}
		scaled = true
	}
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(b, pgtest.NewDB(b), 4))
	started := time.Now()
	exec(b, db, `SET maintenance_work_mem = '256MB'`)
	// One statement per day, so that no sort spills the whole table to
	// disk; the days follow each other, so the rows are in the same order
	// as one statement's.
	for d := range benchDays {
		exec(b, db, `INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, store, video_codec,
	width, height, retention_days, expires_at, node)
SELECT '340200000013100' || lpad(c::text, 5, '0'), $1::timestamptz + m * interval '1 minute',
	$1::timestamptz + (m + 1) * interval '1 minute', false, 15000000,
	'340200000013100' || lpad(c::text, 5, '0') || '/' || m || '.mp4', 'dir', 'h264', 1920, 1080, 30,
	$1::timestamptz + (m + 1) * interval '1 minute' + interval '30 days', 'a'
FROM generate_series($2::integer, $2 + 1439) AS m, generate_series(1, $3) AS c
ORDER BY m, c`, t0, d*1440, channels)
		b.Logf("day %d of %d: %d rows in %v", d+1, benchDays, (d+1)*1440*channels, time.Since(started).Round(time.Second))
	}
	exec(b, db, `VACUUM ANALYZE recordings`)
	b.Logf("generated %d rows in %v", benchDays*1440*channels, time.Since(started).Round(time.Second))
	logSizes(b, db)

	type layout struct {
		name, index string
	}
	layouts := []layout{
		{"btree-include-end", `CREATE INDEX bench_idx ON recordings (channel_id, start_at) INCLUDE (end_at, deleting)`},
		{"btree", `CREATE INDEX bench_idx ON recordings (channel_id, start_at)`},
		{"brin-start", `CREATE INDEX bench_idx ON recordings USING brin (start_at)`},
	}
	if scaled {
		layouts = []layout{{"btree-include-end", ""}}
	} else {
		exec(b, db, `DROP INDEX recordings_channel_start_idx`)
	}
	for i, l := range layouts {
		if l.index != "" {
			exec(b, db, `DROP INDEX IF EXISTS bench_idx`)
			exec(b, db, l.index)
			exec(b, db, `VACUUM ANALYZE recordings`)
			logSizes(b, db)
		}
		// Each layout reads its own channel-days, first from a cold
		// cache (for them), then the same again warm.
		rng := rand.New(rand.NewPCG(uint64(i), 2))
		type query struct {
			ch  string
			day time.Time
		}
		var qs []query
		for range 200 {
			qs = append(qs, query{
				fmt.Sprintf("340200000013100%05d", 1+rng.IntN(channels)),
				t0.Add(time.Duration(rng.IntN(benchDays)) * 24 * time.Hour),
			})
		}
		for _, pass := range []string{"cold", "warm"} {
			b.Run(l.name+"/"+pass, func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				n := 0
				for b.Loop() {
					q := qs[n%len(qs)]
					n++
					s := time.Now()
					tl, err := db.Timeline(ctx, q.ch, q.day, q.day.Add(24*time.Hour))
					lat = append(lat, time.Since(s))
					if err != nil || len(tl.Segments) != 1 {
						b.Fatalf("%s %v: %+v, %v", q.ch, q.day, tl.Segments, err)
					}
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}

// logSizes logs the size of the recordings table, indexes included, and of
// each of its indexes.
func logSizes(b *testing.B, db *recordingdb.DB) {
	b.Helper()
	rows, err := db.Pool.Query(context.Background(), `
SELECT 'recordings (total)', pg_total_relation_size('recordings')
UNION ALL
SELECT 'recordings (heap)', pg_relation_size('recordings')
UNION ALL
(SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index
 WHERE indrelid = 'recordings'::regclass ORDER BY 1)`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d MiB", name, size>>20)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEffectivePlans computes the plans of 30 000 channels on 300
// devices in 30 regions, with region, department, device and channel rows
// and owners, as the recorder does at each scheduling round.
func BenchmarkEffectivePlans(b *testing.B) {
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(b, pgtest.NewDB(b), 4))
	exec(b, db, `INSERT INTO devices (id) SELECT '340200000011800' || lpad(d::text, 5, '0') FROM generate_series(1, 300) d`)
	exec(b, db, `INSERT INTO channels (device_id, id, civil_code, retention_class)
SELECT '340200000011800' || lpad((c % 300 + 1)::text, 5, '0'), '340200000013100' || lpad(c::text, 5, '0'),
	'3402' || lpad((c % 30)::text, 2, '0'), CASE WHEN c % 10 = 0 THEN 'key' ELSE 'standard' END
FROM generate_series(1, 30000) c`)
	exec(b, db, `INSERT INTO departments (id, parent_id, name)
SELECT d, CASE WHEN d = 1 THEN NULL ELSE (d - 2) / 5 + 1 END, 'd' || d FROM generate_series(1, 100) d`)
	exec(b, db, `INSERT INTO device_owners (device_id, department_id)
SELECT '340200000011800' || lpad(d::text, 5, '0'), d % 100 + 1 FROM generate_series(1, 300, 2) d`)
	exec(b, db, `INSERT INTO record_plans (target_kind, target, mode, retention_days) VALUES ('default', '', 'always', NULL)`)
	exec(b, db, `INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'region', '3402' || lpad(r::text, 2, '0'), 'off', 60 FROM generate_series(0, 29, 3) r`)
	exec(b, db, `INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'department', d::text, 'always', 90 FROM generate_series(1, 100, 7) d`)
	exec(b, db, `INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'channel', '340200000013100' || lpad(c::text, 5, '0'), 'always', NULL FROM generate_series(1, 30000, 100) c`)
	exec(b, db, `ANALYZE`)
	d := recordingdb.Defaults{StandardDays: 30, KeyDays: 90}
	for b.Loop() {
		plans, err := db.EffectivePlans(ctx, d)
		if err != nil || len(plans) != 30000 {
			b.Fatalf("%d plans, %v", len(plans), err)
		}
	}
}

// BenchmarkBytesWritten reads the last day's bytes written (the capacity
// guard's write rate) from a 5-million-row index — 347 channels × 10 days
// of 1-minute segments, in time order — with the statement of the release
// before (per channel, LATERAL through the (channel_id, start_at) btree)
// and with BytesWritten's one range read under three layouts: no index on
// start_at (a scan), the schema's BRIN, a btree on start_at including
// bytes. Run it with -benchtime 10x.
func BenchmarkBytesWritten(b *testing.B) {
	const days = 10
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(b, pgtest.NewDB(b), 4))
	started := time.Now()
	exec(b, db, `SET maintenance_work_mem = '256MB'`)
	exec(b, db, `INSERT INTO devices (id) VALUES ('34020000001180000001')`)
	exec(b, db, `INSERT INTO channels (device_id, id)
SELECT '34020000001180000001', '340200000013100' || lpad(c::text, 5, '0') FROM generate_series(1, $1) c`,
		benchChannels)
	exec(b, db, `INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, store, video_codec,
	width, height, retention_days, expires_at, node)
SELECT '340200000013100' || lpad(c::text, 5, '0'), $1::timestamptz + m * interval '1 minute',
	$1::timestamptz + (m + 1) * interval '1 minute', false, 1000,
	'340200000013100' || lpad(c::text, 5, '0') || '/' || m || '.mp4', 'dir', 'h264', 1920, 1080, 30,
	$1::timestamptz + (m + 1) * interval '1 minute' + interval '30 days', 'a'
FROM generate_series(0, $2 - 1) AS m, generate_series(1, $3) AS c
ORDER BY m, c`, t0, days*1440, benchChannels)
	exec(b, db, `VACUUM ANALYZE recordings`)
	b.Logf("generated %d rows in %v", days*1440*benchChannels, time.Since(started).Round(time.Second))

	since := t0.Add((days - 1) * 24 * time.Hour)
	want := int64(1440 * benchChannels * 1000)
	lateral := func() (int64, error) {
		var n int64
		err := db.Pool.QueryRow(ctx, `
SELECT coalesce(sum(w.bytes), 0)::bigint
FROM (SELECT DISTINCT id FROM channels) c
CROSS JOIN LATERAL (SELECT sum(r.bytes) AS bytes FROM recordings r
                    WHERE r.channel_id = c.id AND r.start_at >= $1) w`, since).Scan(&n)
		return n, err
	}
	bytesWritten := func() (int64, error) {
		n, _, err := db.BytesWritten(ctx, "dir", since)
		return n, err
	}
	for _, l := range []struct {
		name, index string
		read        func() (int64, error)
	}{
		{"lateral-btree", "", lateral},
		{"range-scan", "", bytesWritten},
		{"range-brin", `CREATE INDEX bench_idx ON recordings USING brin (start_at)`, bytesWritten},
		{"range-btree-include-bytes", `CREATE INDEX bench_idx ON recordings (start_at) INCLUDE (bytes)`, bytesWritten},
	} {
		exec(b, db, `DROP INDEX IF EXISTS recordings_start_brin_idx`)
		exec(b, db, `DROP INDEX IF EXISTS bench_idx`)
		if l.index != "" {
			exec(b, db, l.index)
			exec(b, db, `VACUUM ANALYZE recordings`)
		}
		b.Run(l.name, func(b *testing.B) {
			for b.Loop() {
				if n, err := l.read(); err != nil || n != want {
					b.Fatalf("%d bytes, %v; want %d", n, err, want)
				}
			}
		})
	}
}
