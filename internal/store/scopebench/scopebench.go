// Package scopebench builds the data set of issue 13's permission-slice
// figures in a database with the current schema: 100,000 channels on 2,000
// devices across the civil-code regions of one province, 2,000 departments
// in a tree five deep, 5,000 grants of the three kinds, camera ownerships,
// and one operator per slice size. Benchmarks of the console and of
// catalogview read it; tests never build it (it takes seconds).
package scopebench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The data set's shape.
const (
	Channels          = 100_000
	Devices           = 2_000
	ChannelsPerDevice = Channels / Devices
	Departments       = 2_000
	Grants            = 5_000
)

// At is the time the figures are taken at: noon, inside the daily hours of
// the grants that have some, after the end of the expired ones.
var At = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// Operator is a user whose slice a benchmark reads.
type Operator struct {
	// Name says the slice's size class (small, township, county, city,
	// large);
	// it is also the username.
	Name string
	ID   int64
	// Department is the operator's department, a leaf of the tree.
	Department int64
	// Channel is a channel of the slice, to play; Outside one not in it.
	Channel, Outside string
}

// ChannelID is the GB/T 28181 ID of channel n (0 ≤ n < Channels): a camera
// (type 131). Channel n belongs to device n / ChannelsPerDevice.
func ChannelID(n int) string { return fmt.Sprintf("3400000000131%07d", n) }

// DeviceID is the ID of device n (an NVR, type 118).
func DeviceID(n int) string { return fmt.Sprintf("3400000000118%07d", n) }

// statements build the data set, in order. township(t) is the 8-digit code
// of township t (0–999): city t/100, county t/10%10, town t%10, each
// numbered from 01.
var statements = []string{
	`CREATE TEMPORARY TABLE bench_township AS
	 SELECT t, '34' || lpad((t / 100 + 1)::text, 2, '0') || lpad((t / 10 % 10 + 1)::text, 2, '0')
	        || lpad((t % 10 + 1)::text, 2, '0') AS code
	 FROM generate_series(0, 999) t`,

	// Devices: every 50th is offline.
	`INSERT INTO devices (id, name, manufacturer, online, channel_count)
	 SELECT '3400000000118' || lpad(i::text, 7, '0'), 'NVR ' || i, 'Hikvision', i % 50 <> 0, 50
	 FROM generate_series(0, 1999) i`,

	// Channels: one in ten reports OFF; a name and an address to search.
	`INSERT INTO channels (device_id, id, name, manufacturer, civil_code, address, status, online, longitude, latitude, ptz_type)
	 SELECT '3400000000118' || lpad((n / 50)::text, 7, '0'), '3400000000131' || lpad(n::text, 7, '0'),
	        (ARRAY['路口', '卡口', '广场', '校门', '车站'])[n % 5 + 1] || ' ' || n, 'Hikvision', tw.code,
	        '人民路 ' || (n % 997) || ' 号', CASE WHEN n % 10 = 0 THEN 'OFF' ELSE 'ON' END, n % 10 <> 0,
	        117 + (n % 1000) / 1000.0, 31 + (n / 1000) / 1000.0, n % 4
	 FROM generate_series(0, 99999) n JOIN bench_township tw ON tw.t = n / 100`,

	// The tree: department 1 is the province (34), 2–11 its 10 cities,
	// 12–111 the 100 counties (10 per city), 112–1111 the 1,000 townships
	// (10 per county), and 1112–2000 the 889 free units (派出所, 交警, …):
	// units hang under a township, except every hundredth unit, which hangs
	// under the province. Channel n's civil code is the code of township
	// n / 100 (two devices of 50 channels each per township).
	`INSERT INTO departments (id, parent_id, name, level, civil_code) VALUES (1, NULL, '省', 'province', '34')`,
	`INSERT INTO departments (id, parent_id, name, level, civil_code)
	 SELECT 2 + c, 1, '市 ' || c, 'city', '34' || lpad((c + 1)::text, 2, '0') FROM generate_series(0, 9) c`,
	`INSERT INTO departments (id, parent_id, name, level, civil_code)
	 SELECT 12 + k, 2 + k / 10, '县 ' || k, 'county', substr(tw.code, 1, 6)
	 FROM generate_series(0, 99) k JOIN bench_township tw ON tw.t = k * 10`,
	`INSERT INTO departments (id, parent_id, name, level, civil_code)
	 SELECT 112 + t, 12 + t / 10, '乡镇 ' || t, 'township', tw.code FROM bench_township tw`,
	`INSERT INTO departments (id, parent_id, name, level)
	 SELECT 1112 + u, CASE WHEN u % 100 = 0 THEN 1 ELSE 112 + u END, '派出所 ' || u, 'unit'
	 FROM generate_series(0, 888) u`,
	`SELECT setval(pg_get_serial_sequence('departments', 'id'), 2000)`,

	// 1,500 region grants: every township its own (1,000), every even
	// county its own (50), cities 0 and 1 their own (2), 445 units a
	// township elsewhere, and the large operator's unit (1112) three cities.
	`INSERT INTO grants (department_id, scope_kind, civil_code, rights)
	 SELECT 112 + t, 'region', code, '{live,playback,download,ptz,location}' FROM bench_township`,
	`INSERT INTO grants (department_id, scope_kind, civil_code, rights)
	 SELECT 12 + k, 'region', substr(tw.code, 1, 6), '{live,playback,ptz}'
	 FROM generate_series(0, 98, 2) k JOIN bench_township tw ON tw.t = k * 10`,
	`INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES
	 (2, 'region', '3401', '{live}'), (3, 'region', '3402', '{live}'),
	 (1112, 'region', '3403', '{live,playback}'), (1112, 'region', '3404', '{live,playback}'),
	 (1112, 'region', '3405', '{live}')`,
	// Daily hours on every third, expired on every tenth: both evaluated.
	`INSERT INTO grants (department_id, scope_kind, civil_code, rights, hours_from, hours_until, valid_until)
	 SELECT 1113 + u, 'region', tw.code, '{live}',
	        CASE WHEN u % 3 = 0 THEN '08:00'::time END, CASE WHEN u % 3 = 0 THEN '20:00'::time END,
	        CASE WHEN u % 10 = 0 THEN '2026-01-01'::timestamptz END
	 FROM generate_series(1, 443) u JOIN bench_township tw ON tw.t = (u * 37) % 1000`,

	// 1,500 device grants to units.
	`INSERT INTO grants (department_id, scope_kind, device_id, rights, ptz_priority)
	 SELECT 1112 + (g % 889), 'device', '3400000000118' || lpad(((g * 7919) % 2000)::text, 7, '0'),
	        '{live,playback,ptz}', 1 + g % 9
	 FROM generate_series(1, 1500) g`,

	// 2,000 channel-list grants to units, 10–200 channels each.
	`INSERT INTO grants (department_id, scope_kind, channel_ids, rights)
	 SELECT 1112 + (g % 889), 'channels',
	        ARRAY(SELECT '3400000000131' || lpad(((g * 104729 + i * 613) % 100000)::text, 7, '0')
	              FROM generate_series(1, 10 + (g * 37) % 191) i),
	        '{live,playback}'
	 FROM generate_series(1, 2000) g`,

	// Ownership: every device is owned by its township; 500 cameras by units.
	`INSERT INTO device_owners (device_id, department_id)
	 SELECT '3400000000118' || lpad(i::text, 7, '0'), 112 + i / 2 FROM generate_series(0, 1999) i`,
	`INSERT INTO channel_owners (channel_id, department_id)
	 SELECT '3400000000131' || lpad(((i * 7717) % 100000)::text, 7, '0'), 1112 + (i * 13) % 889
	 FROM generate_series(1, 500) i`,

	`DROP TABLE bench_township`,
	`ANALYZE`,
}

// operators are the benchmarks' users: department, a channel they may play
// (-1: the first of their channel-list grants) and one outside the catalog's
// slices. Unit 1212 hangs under the province (no inherited grant); unit 1650
// under township 538 (county 53, not granted whole); unit 1632 under
// township 520 (county 52, granted whole); unit 1162 under township 50 (in
// city 0, granted whole); unit 1112 under the province holds three cities.
var operators = []struct {
	name             string
	dept             int64
	channel, outside int
}{
	{"small", 1212, -1, 99_999},
	{"township", 1650, 53_801, 99_999},
	{"county", 1632, 52_005, 99_999},
	{"city", 1162, 1, 99_999},
	{"large", 1112, 25_000, 99_999},
}

// Build fills the empty schema of pool with the data set and returns its
// operators, smallest slice first. A small operator's channel is one of its
// channel-list grants.
func Build(ctx context.Context, pool *pgxpool.Pool) ([]Operator, error) {
	for _, s := range statements {
		if _, err := pool.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("scopebench: %.60s…: %w", s, err)
		}
	}
	var out []Operator
	for _, o := range operators {
		op := Operator{Name: o.name, Department: o.dept, Outside: ChannelID(o.outside)}
		if o.channel >= 0 {
			op.Channel = ChannelID(o.channel)
		} else if err := pool.QueryRow(ctx,
			`SELECT channel_ids[1] FROM grants WHERE department_id = $1 AND scope_kind = 'channels' ORDER BY id LIMIT 1`,
			o.dept).Scan(&op.Channel); err != nil {
			return nil, fmt.Errorf("scopebench: channel of %s: %w", o.name, err)
		}
		if err := pool.QueryRow(ctx,
			`INSERT INTO users (username, password_hash, role, department_id) VALUES ($1, 'x', 'operator', $2) RETURNING id`,
			o.name, o.dept).Scan(&op.ID); err != nil {
			return nil, fmt.Errorf("scopebench: operator %s: %w", o.name, err)
		}
		out = append(out, op)
	}
	return out, nil
}

// Latencies runs f b.N times and reports percentiles of its durations in
// milliseconds (p50-ms, p90-ms, p95-ms, p99-ms: with 50 runs the p99 is the
// second slowest, the others say how alone it is) and the size of the
// slice it reads (channels).
func Latencies(b *testing.B, size int, f func() error) {
	var d []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	ms := func(q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.9), "p90-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(size), "channels")
}
