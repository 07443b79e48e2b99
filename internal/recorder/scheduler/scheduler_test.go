package scheduler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var defaults = recordingdb.Defaults{StandardDays: 30, KeyDays: 90}

// ttl is the tests' lease TTL; the database's clock is moved past it
// rather than waited for.
const ttl = 15 * time.Second

// monday is 2026-12-07, a Monday, at noon UTC.
var monday = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func channelID(i int) string { return fmt.Sprintf("340200000013100%05d", i) }

func exec(t testing.TB, db *recordingdb.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// openDB returns a database with n cameras on one device, recorded always
// (no plan rows: the built-in default).
func openDB(t *testing.T, n int) *recordingdb.DB {
	t.Helper()
	db := recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
	exec(t, db, `INSERT INTO devices (id) VALUES ('34020000001180000001')`)
	for i := 1; i <= n; i++ {
		exec(t, db, `INSERT INTO channels (device_id, id) VALUES ('34020000001180000001', $1)`, channelID(i))
	}
	return db
}

type stop struct {
	channel string
	reason  StopReason
}

// parent records the scheduler's calls.
type parent struct {
	mu      sync.Mutex
	started map[string]Lease
	stops   []stop
	// events, when set, receives each call's channel.
	events chan string
}

func newParent() *parent { return &parent{started: make(map[string]Lease)} }

func (p *parent) Start(ch string, l Lease) {
	p.mu.Lock()
	p.started[ch] = l
	p.mu.Unlock()
	if p.events != nil {
		p.events <- ch
	}
}

func (p *parent) Stop(ch string, r StopReason) {
	p.mu.Lock()
	delete(p.started, ch)
	p.stops = append(p.stops, stop{ch, r})
	p.mu.Unlock()
	if p.events != nil {
		p.events <- ch
	}
}

func (p *parent) recording() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.started))
}

// newScheduler returns a prepared scheduler whose rounds the test runs
// (round): its ticks never come.
func newScheduler(t *testing.T, db DB, node string, p Parent, now *time.Time) *Scheduler {
	t.Helper()
	s := &Scheduler{
		Node: node, URL: "http://" + node, DB: db, Parent: p, LeaseTTL: ttl, Defaults: defaults, PlanInterval: -1,
		Now: func() time.Time { return *now }, Tick: make(chan time.Time),
	}
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cancel)
	return s
}

// pair is two nodes' schedulers on one database of n channels.
type pair struct {
	db     *recordingdb.DB
	now    time.Time
	pa, pb *parent
	a, b   *Scheduler
}

func newPair(t *testing.T, n int) *pair {
	t.Helper()
	p := &pair{db: openDB(t, n), now: monday, pa: newParent(), pb: newParent()}
	p.a = newScheduler(t, p.db, "a", p.pa, &p.now)
	p.b = newScheduler(t, p.db, "b", p.pb, &p.now)
	return p
}

func leases(t *testing.T, db *recordingdb.DB, node string) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(),
		`SELECT channel_id FROM recorder_leases WHERE node = $1 ORDER BY channel_id`, node)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ch string
		if err := rows.Scan(&ch); err != nil {
			t.Fatal(err)
		}
		out = append(out, ch)
	}
	return out
}

// TestTwoNodes: two nodes share six channels half and half; one crashes
// (stops renewing, releases nothing); once the database's clock passes its
// leases' expiry — at most LeaseTTL after its last renewal, moved here
// rather than waited for — one round of the other takes every channel and
// reports the dead node and the end of its last segment. The dead node,
// back, finds its leases lost.
func TestTwoNodes(t *testing.T) {
	const n = 6
	p := newPair(t, n)
	db, now, pa, pb, a, b := p.db, p.now, p.pa, p.pb, p.a, p.b
	// The first rounds only heartbeat: the nodes see each other first.
	a.round()
	b.round()
	if len(pa.recording())+len(pb.recording()) != 0 {
		t.Fatal("the first round took channels")
	}
	a.round()
	b.round()
	ra, rb := pa.recording(), pb.recording()
	if len(ra) != n/2 || len(rb) != n/2 {
		t.Fatalf("a records %v, b %v: want half each", ra, rb)
	}
	if all := slices.Sorted(slices.Values(append(slices.Clone(ra), rb...))); len(slices.Compact(all)) != n {
		t.Fatalf("a records %v, b %v: want every channel once", ra, rb)
	}
	if !slices.Equal(leases(t, db, "a"), ra) || !slices.Equal(leases(t, db, "b"), rb) {
		t.Fatal("the leases are not what the parents record")
	}
	// a wrote a segment of its first channel before it died.
	end := monday.Add(-time.Minute)
	exec(t, db, `INSERT INTO recordings (channel_id, start_at, end_at, open, object_key, retention_days, expires_at, node)
		VALUES ($1, $2, $3, false, 'k', 30, $3::timestamptz + interval '30 days', 'a')`, ra[0], end.Add(-time.Minute), end)

	// a crashes: no more rounds. Its leases expire and its heartbeat ages
	// by the database's clock.
	exec(t, db, `UPDATE recorder_leases SET expires_at = now() - $1::interval WHERE node = 'a'`, time.Millisecond)
	exec(t, db, `UPDATE recorder_nodes SET heartbeat_at = now() - $1::interval WHERE node = 'a'`, ttl)
	b.round()
	if got := pb.recording(); len(got) != n {
		t.Fatalf("b records %v after a died, want all %d", got, n)
	}
	for _, ch := range ra {
		l := pb.started[ch]
		if l.PreviousNode != "a" || l.RetentionDays != 30 || !l.AcquiredAt.Equal(now) {
			t.Fatalf("lease of %s: %+v", ch, l)
		}
	}
	if got := pb.started[ra[0]].PreviousEnd; !got.Equal(end) {
		t.Fatalf("previous end %v, want %v", got, end)
	}
	if got := pb.started[rb[0]]; got.PreviousNode != "" || !got.PreviousEnd.IsZero() {
		t.Fatalf("b's own channel reports a previous node: %+v", got)
	}
	// a comes back: its leases are gone.
	a.round()
	if got := pa.recording(); len(got) != 0 {
		t.Fatalf("a still records %v", got)
	}
	for _, s := range pa.stops {
		if s.reason != StopLeaseLost {
			t.Fatalf("a stopped %s for %s, want %s", s.channel, s.reason, StopLeaseLost)
		}
	}
	if len(pa.stops) != n/2 {
		t.Fatalf("a stopped %v", pa.stops)
	}
}

// TestPlans: a channel's plan turning off stops it, releases its lease
// and opens a plan_off gap; the schedule is read on the injected clock;
// a channel recorded again closes the gap.
func TestPlans(t *testing.T) {
	db := openDB(t, 2)
	now := monday
	p := newParent()
	s := newScheduler(t, db, "a", p, &now)
	s.round()
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(1), channelID(2)}) {
		t.Fatalf("recording %v", got)
	}
	exec(t, db, `INSERT INTO record_plans (target_kind, target, mode, schedule, retention_days)
		VALUES ('channel', $1, 'schedule', '[{"days":[1],"start":"13:00","end":"14:00"}]', 7)`, channelID(2))
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(1)}) {
		t.Fatalf("recording %v outside the schedule", got)
	}
	if p.stops[0] != (stop{channelID(2), StopPlanOff}) {
		t.Fatalf("stops %v", p.stops)
	}
	if got := leases(t, db, "a"); !slices.Equal(got, []string{channelID(1)}) {
		t.Fatalf("leases %v", got)
	}
	gaps, err := db.OpenGaps(context.Background(), channelID(2))
	if err != nil || len(gaps) != 1 || gaps[0].Cause != recordingdb.CausePlanOff || !gaps[0].Start.Equal(now) ||
		gaps[0].Node != "a" {
		t.Fatalf("open gaps %+v, %v", gaps, err)
	}
	now = monday.Add(time.Hour) // 13:00, in the schedule
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(1), channelID(2)}) {
		t.Fatalf("recording %v in the schedule", got)
	}
	if l := p.started[channelID(2)]; l.RetentionDays != 7 || l.PreviousNode != "" {
		t.Fatalf("lease %+v", l)
	}
	// The plan_off gap stays open: the parent closes it where its
	// recording begins (capture), leaving no hole before the first segment.
	if gaps, err := db.OpenGaps(context.Background(), channelID(2)); err != nil || len(gaps) != 1 ||
		gaps[0].Cause != recordingdb.CausePlanOff {
		t.Fatalf("open gaps %+v, %v", gaps, err)
	}
	// A channel gone from the catalog stops without a gap.
	exec(t, db, `DELETE FROM channels WHERE id = $1`, channelID(1))
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(2)}) {
		t.Fatalf("recording %v", got)
	}
	if gaps, err := db.OpenGaps(context.Background(), channelID(1)); err != nil || len(gaps) != 0 {
		t.Fatalf("open gaps %+v, %v", gaps, err)
	}
}

// TestPlanInterval: the plans are read again once PlanInterval has passed
// on the injected clock; in between the cached plans are checked against
// the clock every round.
func TestPlanInterval(t *testing.T) {
	db := openDB(t, 1)
	now := monday
	p := newParent()
	s := newScheduler(t, db, "a", p, &now)
	s.PlanInterval = time.Minute
	s.round()
	s.round()
	if got := p.recording(); len(got) != 1 {
		t.Fatalf("recording %v", got)
	}
	exec(t, db, `INSERT INTO record_plans (target_kind, target, mode) VALUES ('default', '', 'off')`)
	now = now.Add(time.Minute - time.Second)
	s.round()
	if got := p.recording(); len(got) != 1 {
		t.Fatalf("recording %v before the plans are read again", got)
	}
	now = now.Add(time.Second)
	s.round()
	if got := p.recording(); len(got) != 0 {
		t.Fatalf("recording %v after the plans are read again", got)
	}
}

// TestCapAndOrphans: MaxChannels caps a node; the channels a capped node
// leaves are taken beyond its fair share by another once they stayed
// free for orphanRounds rounds.
func TestCapAndOrphans(t *testing.T) {
	const n = 6
	p := newPair(t, n)
	pa, pb, a, b := p.pa, p.pb, p.a, p.b
	b.MaxChannels = 1
	a.round()
	b.round()
	b.round()
	a.round()
	if len(pb.recording()) != 1 || len(pa.recording()) != n/2 {
		t.Fatalf("a records %v, b %v", pa.recording(), pb.recording())
	}
	for range orphanRounds {
		b.round()
		a.round()
	}
	if len(pb.recording()) != 1 || len(pa.recording()) != n-1 {
		t.Fatalf("a records %v, b %v: want a to take the orphans", pa.recording(), pb.recording())
	}
}

// TestRestart: a node restarted under the same name after a crash takes
// its leases back (adopted, not acquired) in its first round; the gaps the
// crash left open are left to the parent, which closes them where its
// recording begins.
func TestRestart(t *testing.T) {
	db := openDB(t, 2)
	now := monday
	exec(t, db, `INSERT INTO recorder_leases (channel_id, node, expires_at) VALUES ($1, 'a', now() + interval '1 minute')`,
		channelID(1))
	// The crashed run left a gap open.
	exec(t, db, `INSERT INTO recording_gaps (channel_id, start_at, cause, node) VALUES ($1, $2, 'camera_offline', 'a')`,
		channelID(1), now.Add(-time.Hour))
	// The node's row from its last run: its first round's heartbeat marks
	// the restart.
	exec(t, db, `INSERT INTO recorder_nodes (node, started_at, heartbeat_at) VALUES ('a', now() - interval '1 day', now() - interval '1 minute')`)
	p := newParent()
	s := newScheduler(t, db, "a", p, &now)
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(1)}) {
		t.Fatalf("recording %v", got)
	}
	var restarted bool
	if err := db.Pool.QueryRow(context.Background(),
		`SELECT started_at > now() - interval '1 hour' FROM recorder_nodes WHERE node = 'a'`).Scan(&restarted); err != nil || !restarted {
		t.Fatalf("started_at not moved at the restart: %v", err)
	}
	if gaps, err := db.OpenGaps(context.Background(), channelID(1)); err != nil || len(gaps) != 1 {
		t.Fatalf("open gaps %+v, %v", gaps, err)
	}
}

// TestRun: the rounds follow the ticks; Close stops every channel and
// releases the leases, so another node may take them at once.
func TestRun(t *testing.T) {
	db := openDB(t, 2)
	p := newParent()
	p.events = make(chan string, 4)
	tick := make(chan time.Time)
	s := &Scheduler{Node: "a", DB: db, Parent: p, Defaults: defaults, Tick: tick}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	tick <- time.Now() // the first round is over once this is taken
	for range 2 {
		<-p.events
	}
	tick <- time.Now() // the round that started them is over
	if s.Held() != 2 || len(leases(t, db, "a")) != 2 {
		t.Fatalf("held %d, leases %v", s.Held(), leases(t, db, "a"))
	}
	s.Close()
	if len(p.stops) != 2 || p.stops[0].reason != StopClosing || len(leases(t, db, "a")) != 0 || s.Held() != 0 {
		t.Fatalf("stops %v, leases %v", p.stops, leases(t, db, "a"))
	}
	gaps, err := db.OpenGaps(context.Background(), channelID(1))
	if err != nil || len(gaps) != 1 || gaps[0].Cause != recordingdb.CauseRecorderDown || gaps[0].Node != "a" {
		t.Fatalf("open gaps %+v, %v", gaps, err)
	}
	// The next node takes the channel; its parent (capture) closes the
	// gap at its first segment.
	now := time.Now()
	pb := newParent()
	b := newScheduler(t, db, "b", pb, &now)
	b.round()
	b.round()
	if got := pb.recording(); len(got) == 0 {
		t.Fatal("b records nothing")
	}
	for _, ch := range pb.recording() {
		if gaps, err := db.OpenGaps(context.Background(), ch); err != nil || len(gaps) != 1 {
			t.Fatalf("open gaps of %s %+v, %v", ch, gaps, err)
		}
	}
}

func TestInitializeRefuses(t *testing.T) {
	for _, s := range []*Scheduler{
		{DB: &recordingdb.DB{}, Parent: newParent(), Defaults: defaults},
		{Node: "a", Parent: newParent(), Defaults: defaults},
		{Node: "a", DB: &recordingdb.DB{}, Defaults: defaults},
		{Node: "a", DB: &recordingdb.DB{}, Parent: newParent()},
	} {
		if err := s.Initialize(); err == nil {
			s.Close()
			t.Fatalf("%+v initialized", s)
		}
	}
}

func TestFairShare(t *testing.T) {
	for _, c := range []struct{ candidates, nodes, max, want int }{
		{0, 1, 0, 0},
		{6, 2, 0, 3},
		{7, 2, 0, 4},
		{7, 0, 0, 7}, // this node is live even before its heartbeat shows
		{7, 3, 2, 2},
		{1, 5, 0, 1},
		{100, 1, 10, 10},
	} {
		if got := fairShare(c.candidates, c.nodes, c.max); got != c.want {
			t.Errorf("fairShare(%d, %d, %d) = %d, want %d", c.candidates, c.nodes, c.max, got, c.want)
		}
	}
}

// TestPlansOnChange: a camera that registers (a catalog notification) or a
// plan written (the record_plans trigger) after the plans were read is
// acted on at the next round, not after PlanInterval — the injected clock
// never moves here.
func TestPlansOnChange(t *testing.T) {
	db := openDB(t, 1)
	now := monday
	p := newParent()
	s := newScheduler(t, db, "a", p, &now)
	s.PlanInterval = time.Hour
	s.round()
	s.round()
	exec(t, db, `INSERT INTO channels (device_id, id) VALUES ('34020000001180000001', $1)`, channelID(2))
	s.round()
	if got := p.recording(); len(got) != 1 {
		t.Fatalf("recording %v before any notification", got)
	}
	s.onNotify(store.ChannelCatalog, `{"device_id":"34020000001180000001","added":1}`)
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(1), channelID(2)}) {
		t.Fatalf("recording %v after the catalog changed", got)
	}
	exec(t, db, `INSERT INTO record_plans (target_kind, target, mode) VALUES ('channel', $1, 'off')`, channelID(1))
	s.onNotify(store.ChannelRecordPlans, "record_plans")
	s.round()
	if got := p.recording(); !slices.Equal(got, []string{channelID(2)}) {
		t.Fatalf("recording %v after the plan changed", got)
	}
}

// TestListensForChanges: the scheduler's listener hears the catalog's
// notifications and the record_plans trigger's (sent by the database
// itself), and marks the plans to be read again.
func TestListensForChanges(t *testing.T) {
	db := openDB(t, 1)
	now := monday
	s := newScheduler(t, db, "a", newParent(), &now)
	heard := make(chan string, 64)
	s.notified = func(channel string) { heard <- channel }
	go s.listen()
	t.Cleanup(func() { s.cancel(); <-s.listening })
	// The test's deadline is the scheduler's own database timeout.
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	for _, c := range []struct{ channel, write string }{
		{store.ChannelCatalog, `SELECT pg_notify('` + store.ChannelCatalog + `', '{}')`},
		{store.ChannelRecordPlans, `INSERT INTO record_plans (target_kind, target, mode) VALUES ('default', '', 'always')
         ON CONFLICT (target_kind, target) DO UPDATE SET mode = excluded.mode`},
	} {
		// A notification sent before the listener listens is lost: the
		// write is repeated until one on its channel is heard.
		for heardIt := false; !heardIt; {
			s.changed.Store(false)
			exec(t, db, c.write)
			select {
			case ch := <-heard:
				heardIt = ch == c.channel
			case <-ctx.Done():
				t.Fatalf("%s: no notification heard", c.write)
			case <-time.After(s.Timeout / 100):
			}
		}
		if !s.changed.Load() {
			t.Fatalf("%s: plans not marked to be read again", c.write)
		}
	}
}
