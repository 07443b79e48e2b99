package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const gb = int64(1) << 30

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func TestEstimate(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		name        string
		written     int64
		window      time.Duration
		space       objstore.Space
		reserve     float64
		rate        float64
		headroom    float64
		shortfall   int64
		headroomNaN bool
	}{
		{
			name: "ten days", written: 100 * gb, window: 24 * time.Hour, space: objstore.Space{Total: 2000 * gb, Free: 1000 * gb},
			reserve: 1, rate: float64(100 * gb), headroom: 10,
		},
		{
			name: "half a day's window doubles the rate", written: 50 * gb, window: 12 * time.Hour,
			space: objstore.Space{Total: 2000 * gb, Free: 1000 * gb}, reserve: 1, rate: float64(100 * gb), headroom: 10,
		},
		{
			name: "nothing written", written: 0, window: 24 * time.Hour, space: objstore.Space{Total: 10 * gb, Free: 1},
			reserve: 1, rate: 0, headroom: inf,
		},
		{
			name: "free unknown (S3 without capacity)", written: 100 * gb, window: 24 * time.Hour,
			space: objstore.Space{Total: -1, Free: -1}, reserve: 1, rate: float64(100 * gb), headroomNaN: true,
		},
		{
			name: "full", written: 100 * gb, window: 24 * time.Hour, space: objstore.Space{Total: 100 * gb, Free: 0},
			reserve: 1, rate: float64(100 * gb), headroom: 0, shortfall: 100 * gb,
		},
		{
			name: "short of a two-day reserve", written: 100 * gb, window: 24 * time.Hour,
			space: objstore.Space{Total: 1000 * gb, Free: 150 * gb}, reserve: 2, rate: float64(100 * gb), headroom: 1.5,
			shortfall: 50 * gb,
		},
		{
			name: "reserve met", written: 100 * gb, window: 24 * time.Hour,
			space: objstore.Space{Total: 1000 * gb, Free: 100 * gb}, reserve: 1, rate: float64(100 * gb), headroom: 1,
		},
		{
			name: "no window", written: 100, window: 0, space: objstore.Space{Total: 10, Free: 5}, reserve: 1,
			rate: 0, headroom: inf,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := estimate(now, c.written, c.window, c.space, c.reserve)
			if e.BytesPerDay != c.rate {
				t.Errorf("rate %v, want %v", e.BytesPerDay, c.rate)
			}
			switch {
			case c.headroomNaN:
				if e.Known() || !math.IsNaN(e.HeadroomDays) {
					t.Errorf("headroom %v, want unknown", e.HeadroomDays)
				}
			case e.HeadroomDays != c.headroom:
				t.Errorf("headroom %v, want %v", e.HeadroomDays, c.headroom)
			}
			if e.Shortfall != c.shortfall {
				t.Errorf("shortfall %d, want %d", e.Shortfall, c.shortfall)
			}
			if !e.At.Equal(now) || e.Space != c.space || e.Written != c.written {
				t.Errorf("estimate %+v", e)
			}
		})
	}
}

// TestRateWindow: the write rate is taken over the time since the store's
// first segment in the window when that is shorter (a new install).
func TestRateWindow(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		name  string
		first time.Time
		want  time.Duration
	}{
		{"nothing written", time.Time{}, day},
		{"written all day", now.Add(-day), day},
		{"older than the window", now.Add(-2 * day), day},
		{"new install, 5 min in", now.Add(-5 * time.Minute), 5 * time.Minute},
		{"seconds in", now.Add(-10 * time.Second), minRateWindow},
		{"first ahead of the clock", now.Add(time.Second), minRateWindow},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rateWindow(now, c.first, day); got != c.want {
				t.Errorf("window %v, want %v", got, c.want)
			}
		})
	}
}

// TestNewInstall: five minutes into recording, the headroom is that of
// five minutes' rate, not of those bytes spread over a day.
func TestNewInstall(t *testing.T) {
	db := recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
	ctx := context.Background()
	const ch = "34020000001310000001"
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO devices (id) VALUES ('34020000001180000001')`)
	exec(`INSERT INTO channels (device_id, id) VALUES ('34020000001180000001', $1)`, ch)
	// 1 GB in the first five minutes: 288 GB a day.
	if _, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: ch, Start: now.Add(-5 * time.Minute), End: now, Bytes: gb, Store: objstore.KindDir,
		ObjectKey: ch + "/a.mp4", RetentionDays: 30,
	}); err != nil {
		t.Fatal(err)
	}
	st := &space{s: objstore.Space{Total: 100 * gb, Free: 30 * gb}}
	g := newGuard(t, db, st, nil, 7)
	g.check()
	e, alarm := g.Estimate()
	if e.BytesPerDay != float64(288*gb) || !alarm {
		t.Fatalf("rate %v B/day, headroom %v days, alarm %v; want %d B/day and the alarm", e.BytesPerDay,
			e.HeadroomDays, alarm, 288*gb)
	}
}

// space is a store whose free space the test sets: no real file system
// can be filled on demand. The dir store's own Space is read in TestIndex.
type space struct {
	mu  sync.Mutex
	s   objstore.Space
	err error
}

func (f *space) set(s objstore.Space, err error) {
	f.mu.Lock()
	f.s, f.err = s, err
	f.mu.Unlock()
}

// Name is the directory store's, as the segments of openDB have it.
func (f *space) Name() string { return objstore.KindDir }

func (f *space) Space(context.Context) (objstore.Space, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s, f.err
}

// openDB returns a database with a channel and segments of total bytes
// started within the last day in the dir store, one older, and one in
// another node's store (neither counts).
func openDB(t *testing.T, url string, bytes int64) *recordingdb.DB {
	t.Helper()
	db := recordingdb.New(storetest.Open(t, url, 4))
	ctx := context.Background()
	const ch = "34020000001310000001"
	for _, q := range []string{
		`INSERT INTO devices (id) VALUES ('34020000001180000001')`,
		`INSERT INTO channels (device_id, id) VALUES ('34020000001180000001', '` + ch + `')`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range []struct {
		start time.Time
		bytes int64
		store string
	}{
		{now.Add(-25 * time.Hour), 1 << 40, objstore.KindDir},   // before the window
		{now.Add(-24 * time.Hour), bytes / 2, objstore.KindDir}, // the window's first instant: it is a full day
		{now.Add(-time.Minute), bytes - bytes/2, objstore.KindDir},
		{now.Add(-time.Hour), 1 << 40, "dir://other-node"}, // another node's disk
	} {
		if _, err := db.OpenSegment(ctx, recordingdb.Segment{
			ChannelID: ch, Start: s.start, End: s.start.Add(time.Minute), Bytes: s.bytes, Store: s.store,
			ObjectKey: ch + "/" + string(rune('a'+i)) + ".mp4", RetentionDays: 30,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func newGuard(t *testing.T, db DB, st Store, rep Reporter, warn float64) *Guard {
	t.Helper()
	g := &Guard{
		Node: "a", DB: db, Store: st, Reporter: rep, WarnDays: warn,
		Now: func() time.Time { return now }, Tick: make(chan time.Time),
	}
	if err := g.prepare(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.cancel)
	return g
}

// TestNotifier: the write rate comes from the index (segments started within
// the window), the free space from a real directory store, and the alarm's
// event reaches a listener on ChannelCapacity; every reading is stored as
// the node's state (recordingdb.Recorders), announced or not.
func TestNotifier(t *testing.T) {
	url := pgtest.NewDB(t)
	db := openDB(t, url, 10*gb)
	ctx := context.Background()
	got, first, err := db.BytesWritten(ctx, objstore.KindDir, now.Add(-24*time.Hour))
	if err != nil || got != 10*gb || !first.Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("bytes written %d since %v, %v; want %d", got, first, err, 10*gb)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+ChannelCapacity); err != nil {
		t.Fatal(err)
	}
	dir, err := objstore.New(ctx, objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	// Whatever the test machine's disk holds, 10 GB a day and a warning
	// beyond a million years raise the alarm.
	if err := db.Heartbeat(ctx, recordingdb.Beat{
		Node: "a", Retention: recordingdb.Retention{StandardDays: 30, KeyDays: 90},
	}); err != nil {
		t.Fatal(err)
	}
	g := newGuard(t, db, dir, Notifier{db}, 365e6)
	g.check()
	e, alarm := g.Estimate()
	if !alarm || !e.Known() || e.Space.Free <= 0 || e.BytesPerDay != float64(10*gb) {
		t.Fatalf("estimate %+v, alarm %v", e, alarm)
	}
	wctx, cancel := context.WithTimeout(ctx, g.Timeout)
	defer cancel()
	n, err := conn.WaitForNotification(wctx)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Node != "a" || !ev.Alarm || ev.HeadroomDays == nil || *ev.HeadroomDays != e.HeadroomDays ||
		ev.FreeBytes != e.Space.Free || ev.BytesPerDay != 10*gb || !ev.At.Equal(now) {
		t.Fatalf("event %s", n.Payload)
	}
	if got := storedCapacity(t, db); got.Node != "a" || !got.Alarm || got.HeadroomDays == nil ||
		*got.HeadroomDays != *ev.HeadroomDays || got.WarnDays != ev.WarnDays || got.FreeBytes != ev.FreeBytes ||
		got.BytesPerDay != ev.BytesPerDay || !got.At.Equal(ev.At) {
		t.Fatalf("stored %+v, announced %s", got, n.Payload)
	}

	// A reading that changes nothing is stored, not announced.
	now2 := now.Add(time.Minute)
	g.Now = func() time.Time { return now2 }
	g.check()
	if got := storedCapacity(t, db); !got.At.Equal(now2) || !got.Alarm {
		t.Fatalf("stored %+v after the second reading", got)
	}
	// A marker sent after it is the next notification: nothing came
	// between.
	if _, err := db.Pool.Exec(ctx, `SELECT pg_notify($1, 'marker')`, ChannelCapacity); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.WaitForNotification(wctx); err != nil || n.Payload != "marker" {
		t.Fatalf("notification %+v, %v; want the marker", n, err)
	}
}

// storedCapacity returns node a's stored capacity state.
func storedCapacity(t *testing.T, db *recordingdb.DB) Event {
	t.Helper()
	recs, err := db.Recorders(context.Background(), time.Minute)
	if err != nil || len(recs) != 1 || recs[0].Capacity == nil {
		t.Fatalf("recorders %+v, %v", recs, err)
	}
	var ev Event
	if err := json.Unmarshal(recs[0].Capacity, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// reporter records the announced events, and counts every state.
type reporter struct {
	events []Event
	states int
	err    error
}

func (r *reporter) ReportCapacity(_ context.Context, e Event, changed bool) error {
	if r.err != nil {
		return r.err
	}
	r.states++
	if changed {
		r.events = append(r.events, e)
	}
	return nil
}

// TestAlarm: raised below WarnDays, cleared above, reported on each
// change only (a failed report is repeated); the gauges follow; Reclaim
// hands the shortfall out once per reading, and only with OverwriteOldest.
func TestAlarm(t *testing.T) {
	db := openDB(t, pgtest.NewDB(t), 10*gb) // 10 GB a day
	sp := &space{}
	rep := &reporter{}
	g := newGuard(t, db, sp, rep, 7)
	readings := 0
	step := func(free int64, wantAlarm bool, wantEvents int) {
		t.Helper()
		sp.set(objstore.Space{Total: 1000 * gb, Free: free}, nil)
		g.check()
		if _, alarm := g.Estimate(); alarm != wantAlarm {
			t.Fatalf("free %d GB: alarm %v", free/gb, alarm)
		}
		if len(rep.events) != wantEvents {
			t.Fatalf("free %d GB: %d events, want %d", free/gb, len(rep.events), wantEvents)
		}
		if rep.err == nil && rep.states != readings+1 {
			t.Fatalf("free %d GB: %d states stored, want one per reading (%d)", free/gb, rep.states, readings+1)
		}
		readings = rep.states
		if got := testutil.ToFloat64(g.Metrics.Alarm); got != map[bool]float64{true: 1}[wantAlarm] {
			t.Fatalf("alarm gauge %v", got)
		}
		if got := testutil.ToFloat64(g.Metrics.Headroom); got != float64(free)/float64(10*gb) {
			t.Fatalf("headroom gauge %v", got)
		}
	}
	step(100*gb, false, 1) // 10 days: the first reading is reported
	step(90*gb, false, 1)  // no change
	step(60*gb, true, 2)   // 6 days: raised
	step(50*gb, true, 2)
	rep.err = errors.New("database away")
	step(80*gb, false, 2) // cleared, not reported
	rep.err = nil
	step(80*gb, false, 3) // reported now
	if got := testutil.ToFloat64(g.Metrics.Errors); got != 1 {
		t.Fatalf("errors %v", got)
	}
	if ev := rep.events[2]; ev.Alarm || *ev.HeadroomDays != 8 {
		t.Fatalf("event %+v", ev)
	}

	// Below the reserve (1 day = 10 GB): nothing to reclaim unless
	// overwrite_oldest.
	step(4*gb, true, 4)
	if got := g.Reclaim(); got != 0 {
		t.Fatalf("reclaim %d without overwrite_oldest", got)
	}
	g.OverwriteOldest = true
	step(4*gb, true, 4)
	if got := g.Reclaim(); got != 6*gb {
		t.Fatalf("reclaim %d, want %d", got, 6*gb)
	}
	if got := g.Reclaim(); got != 0 {
		t.Fatalf("reclaim again %d", got)
	}

	// A store that cannot tell: no alarm, headroom unknown.
	sp.set(objstore.Space{Total: -1, Free: -1}, nil)
	g.check()
	if e, alarm := g.Estimate(); alarm || e.Known() || rep.events[len(rep.events)-1].HeadroomDays != nil {
		t.Fatalf("estimate %+v, alarm %v", e, alarm)
	}
	if got := testutil.ToFloat64(g.Metrics.Headroom); !math.IsNaN(got) {
		t.Fatalf("headroom gauge %v", got)
	}
	// A store that fails keeps the last reading and counts the error.
	sp.set(objstore.Space{}, errors.New("unreachable"))
	g.check()
	if got := testutil.ToFloat64(g.Metrics.Errors); got != 2 {
		t.Fatalf("errors %v", got)
	}
}

// TestAlarmRetentionLimit: with every segment's life capped, the store
// needs only that long of writing: the threshold is the cap when shorter.
func TestAlarmRetentionLimit(t *testing.T) {
	db := openDB(t, pgtest.NewDB(t), 24*gb) // 1 GB an hour
	sp := &space{}
	g := newGuard(t, db, sp, nil, 7)
	g.RetentionLimit = 2 * time.Hour
	for _, tc := range []struct {
		free  int64
		alarm bool
	}{
		{3 * gb, false}, // 3 h of writing for 2 h kept (make run's demo)
		{gb, true},      // 1 h: the sweeper cannot keep up with the cap
	} {
		sp.set(objstore.Space{Total: 100 * gb, Free: tc.free}, nil)
		g.check()
		if _, alarm := g.Estimate(); alarm != tc.alarm {
			t.Errorf("free %d GB, 2 h kept: alarm %v, want %v", tc.free/gb, alarm, tc.alarm)
		}
	}
}

// TestRun: readings at Initialize and at each tick; Close ends the
// goroutine.
func TestRun(t *testing.T) {
	db := openDB(t, pgtest.NewDB(t), 10*gb)
	sp := &space{s: objstore.Space{Total: 1000 * gb, Free: 500 * gb}}
	tick := make(chan time.Time)
	g := &Guard{DB: db, Store: sp, WarnDays: 7, Tick: tick, Now: func() time.Time { return now }}
	if err := g.Initialize(); err != nil {
		t.Fatal(err)
	}
	tick <- now // the first reading is over once this is taken
	if e, alarm := g.Estimate(); alarm || e.HeadroomDays != 50 {
		t.Fatalf("estimate %+v", e)
	}
	sp.set(objstore.Space{Total: 1000 * gb, Free: 10 * gb}, nil)
	tick <- now
	tick <- now
	if _, alarm := g.Estimate(); !alarm {
		t.Fatal("no alarm after the tick")
	}
	g.Close()
}

func TestInitializeRefuses(t *testing.T) {
	for _, g := range []*Guard{
		{Store: &space{}},
		{DB: &recordingdb.DB{}},
		{DB: &recordingdb.DB{}, Store: &space{}, WarnDays: -1},
		{DB: &recordingdb.DB{}, Store: &space{}, WarnDays: math.NaN()},
	} {
		if err := g.Initialize(); err == nil {
			g.Close()
			t.Fatal("initialized")
		}
	}
}
