package sweeper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// now is the sweeper's injected clock in every test.
var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// backends are the stores every test runs on: the directory and a real
// MinIO.
var backends = []struct {
	name string
	open func(t testing.TB) objstore.Store
}{
	{"dir", func(t testing.TB) objstore.Store {
		return openStore(t, objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()})
	}},
	{"s3", func(t testing.TB) objstore.Store {
		srv := miniotest.Start(t)
		return openStore(t, srv.Config(srv.Bucket(t, "recordings"), t.TempDir()))
	}},
}

func openStore(t testing.TB, c objstore.Config) objstore.Store {
	t.Helper()
	st, err := objstore.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fixture is a database and a store with segments in both.
type fixture struct {
	t     *testing.T
	db    *recordingdb.DB
	store objstore.Store
	n     int
}

func newFixture(t *testing.T, open func(t testing.TB) objstore.Store) *fixture {
	return &fixture{t: t, db: recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4)), store: open(t)}
}

// segment writes a committed object of size bytes and its closed row,
// ending at end and kept for retention days; it returns the row's ID and
// object key. An open segment's object is left uncommitted, its row open.
func (f *fixture) segment(channel string, end time.Time, retention int, size int, open bool) (int64, string) {
	f.t.Helper()
	f.n++
	ctx := context.Background()
	start := end.Add(-time.Minute)
	key := fmt.Sprintf("%s/%s.%03d.mp4", channel, start.Format("2006/01/02/150405"), f.n)
	p, err := f.store.WritePath(key)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		f.t.Fatal(err)
	}
	id, err := f.db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: channel, Start: start, End: end, Bytes: int64(size), ObjectKey: key, Store: f.store.Name(),
		RetentionDays: retention, Node: "a",
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if open {
		return id, key
	}
	if err := f.store.Commit(ctx, key); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.CloseSegment(ctx, id, end, int64(size), recordingdb.Info{VideoCodec: "h264"}); err != nil {
		f.t.Fatal(err)
	}
	return id, key
}

// exists reports whether the object and the row of a segment are there.
func (f *fixture) exists(id int64, key string) (object, row bool) {
	f.t.Helper()
	ctx := context.Background()
	o, err := f.store.Open(ctx, key)
	switch {
	case err == nil:
		o.Close()
		object = true
	case !errors.Is(err, objstore.ErrNotFound):
		f.t.Fatal(err)
	}
	if err := f.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recordings WHERE id = $1)`, id).Scan(&row); err != nil {
		f.t.Fatal(err)
	}
	return object, row
}

func (f *fixture) sweeper(objects Objects) *Sweeper {
	f.t.Helper()
	s := &Sweeper{
		DB: f.db, Objects: objects, Batch: 2, Pause: -1,
		Now: func() time.Time { return now }, Tick: make(chan time.Time),
	}
	if err := s.prepare(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(s.cancel)
	return s
}

type seg struct {
	id  int64
	key string
}

// TestExpired: exactly the expired segments go, objects and rows, in
// batches; unexpired ones (the key class's longer retention included) and
// the open segment stay.
func TestExpired(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.open)
			const chA, chB = "34020000001310000001", "34020000001310000002"
			var gone, kept []seg
			var goneBytes int
			for i := range 5 { // expired: 30 days and a minute or more ago
				id, key := f.segment(chA, now.Add(-30*day-time.Duration(i+1)*time.Minute), 30, 100+i, false)
				gone, goneBytes = append(gone, seg{id, key}), goneBytes+100+i
			}
			id, key := f.segment(chB, now.Add(-2*day), 1, 10, false) // a 1-day class
			gone, goneBytes = append(gone, seg{id, key}), goneBytes+10
			id, key = f.segment(chA, now.Add(-30*day), 30, 10, false) // expires exactly now
			gone, goneBytes = append(gone, seg{id, key}), goneBytes+10
			id, key = f.segment(chA, now.Add(-30*day+time.Second), 30, 10, false) // a second to go
			kept = append(kept, seg{id, key})
			id, key = f.segment(chB, now.Add(-31*day), 90, 10, false) // key class
			kept = append(kept, seg{id, key})
			id, key = f.segment(chB, now.Add(-10*day), 1, 10, true) // open: being written
			kept = append(kept, seg{id, key})

			s := f.sweeper(f.store)
			s.round()
			for _, g := range gone {
				if o, r := f.exists(g.id, g.key); o || r {
					t.Errorf("expired %s: object %v, row %v", g.key, o, r)
				}
			}
			for _, k := range kept {
				if o, r := f.exists(k.id, k.key); !o || !r {
					t.Errorf("unexpired %s: object %v, row %v", k.key, o, r)
				}
			}
			m := s.Metrics
			if got := testutil.ToFloat64(m.Segments.WithLabelValues(ReasonExpired)); got != float64(len(gone)) {
				t.Errorf("deleted segments %v, want %d", got, len(gone))
			}
			if got := testutil.ToFloat64(m.Bytes.WithLabelValues(ReasonExpired)); got != float64(goneBytes) {
				t.Errorf("deleted bytes %v, want %d", got, goneBytes)
			}
			if got := testutil.ToFloat64(m.Backlog); got != 0 {
				t.Errorf("backlog %v", got)
			}
			if got := testutil.ToFloat64(m.Errors); got != 0 {
				t.Errorf("errors %v", got)
			}
			// A later clock: the segment a second from expiry goes too.
			s.Now = func() time.Time { return now.Add(time.Second) }
			s.round()
			if o, r := f.exists(kept[0].id, kept[0].key); o || r {
				t.Errorf("%s a second later: object %v, row %v", kept[0].key, o, r)
			}
		})
	}
}

// TestRetentionLimit: with RetentionLimit set, segments that ended that
// long ago go (counted as expired) whatever their days say; younger ones
// stay; without it the same round deletes nothing.
func TestRetentionLimit(t *testing.T) {
	f := newFixture(t, backends[0].open)
	const ch = "34020000001310000001"
	old1, oldKey1 := f.segment(ch, now.Add(-3*time.Hour), 30, 10, false)
	old2, oldKey2 := f.segment(ch, now.Add(-2*time.Hour), 90, 10, false) // exactly the limit
	young, youngKey := f.segment(ch, now.Add(-2*time.Hour+time.Second), 30, 10, false)

	s := f.sweeper(f.store)
	s.round()
	for _, g := range []seg{{old1, oldKey1}, {old2, oldKey2}, {young, youngKey}} {
		if o, r := f.exists(g.id, g.key); !o || !r {
			t.Fatalf("no limit: %s object %v, row %v", g.key, o, r)
		}
	}

	s.RetentionLimit = 2 * time.Hour
	s.round()
	for _, g := range []seg{{old1, oldKey1}, {old2, oldKey2}} {
		if o, r := f.exists(g.id, g.key); o || r {
			t.Errorf("past the limit %s: object %v, row %v", g.key, o, r)
		}
	}
	if o, r := f.exists(young, youngKey); !o || !r {
		t.Errorf("within the limit %s: object %v, row %v", youngKey, o, r)
	}
	m := s.Metrics
	if got := testutil.ToFloat64(m.Segments.WithLabelValues(ReasonExpired)); got != 2 {
		t.Errorf("deleted as expired %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Segments.WithLabelValues(ReasonOverwritten)); got != 0 {
		t.Errorf("deleted as overwritten %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.Backlog); got != 0 {
		t.Errorf("backlog %v", got)
	}
}

// nodeDir is a directory store under a node's name, as recorder.Run
// names it ("dir://<node>").
type nodeDir struct {
	objstore.Store
	node string
}

func (d nodeDir) Name() string { return "dir://" + d.node }

// TestNodesApart: two nodes' directory stores share the index; each
// node's sweeper deletes only its own store's expired segments (the other
// node's files are not on its disk), and counts only them as its backlog.
func TestNodesApart(t *testing.T) {
	a := newFixture(t, func(t testing.TB) objstore.Store { return nodeDir{backends[0].open(t), "a"} })
	b := &fixture{t: t, db: a.db, store: nodeDir{backends[0].open(t), "b"}}
	const ch = "34020000001310000001"
	idA, keyA := a.segment(ch, now.Add(-31*day), 30, 10, false)
	idB, keyB := b.segment(ch, now.Add(-31*day-time.Minute), 30, 10, false)

	s := a.sweeper(a.store)
	s.RetentionLimit = time.Hour
	s.round()
	if o, r := a.exists(idA, keyA); o || r {
		t.Errorf("node a's expired segment: object %v, row %v", o, r)
	}
	if o, r := b.exists(idB, keyB); !o || !r {
		t.Fatalf("node b's segment after node a's sweep: object %v, row %v", o, r)
	}
	if got := testutil.ToFloat64(s.Metrics.Backlog); got != 0 {
		t.Errorf("node a's backlog %v counts node b's segment", got)
	}
	sb := b.sweeper(b.store)
	sb.round()
	if o, r := b.exists(idB, keyB); o || r {
		t.Errorf("node b's expired segment after its own sweep: object %v, row %v", o, r)
	}
}

// failing is a store named name whose deletes fail.
type failing struct{ name string }

func (failing) Delete(context.Context, []string) error { return errors.New("storage unreachable") }

func (f failing) Name() string { return f.name }

// TestResume: a round that fails between the steps (objects not deleted;
// objects deleted but the rows not) leaves its rows marked, out of the
// timeline, and the next round finishes them.
func TestResume(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.open)
			const ch = "34020000001310000001"
			var segs []seg
			for i := range 3 {
				id, key := f.segment(ch, now.Add(-31*day-time.Duration(i)*time.Minute), 30, 10, false)
				segs = append(segs, seg{id, key})
			}
			s := f.sweeper(failing{f.store.Name()})
			s.round()
			if got := testutil.ToFloat64(s.Metrics.Errors); got != 1 {
				t.Fatalf("errors %v", got)
			}
			if got := testutil.ToFloat64(s.Metrics.Backlog); got != 3 {
				t.Fatalf("backlog %v", got)
			}
			for _, g := range segs {
				if o, r := f.exists(g.id, g.key); !o || !r {
					t.Fatalf("%s after a failed delete: object %v, row %v", g.key, o, r)
				}
			}
			tl, err := f.db.Timeline(context.Background(), ch, now.Add(-40*day), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Segments) != 1 { // the third, not marked yet (batch of 2)
				t.Fatalf("timeline %+v", tl.Segments)
			}
			// Crash after the objects' delete: the rows are left.
			if err := f.store.Delete(context.Background(), []string{segs[0].key, segs[1].key}); err != nil {
				t.Fatal(err)
			}
			s2 := f.sweeper(f.store)
			s2.round()
			for _, g := range segs {
				if o, r := f.exists(g.id, g.key); o || r {
					t.Errorf("%s after the next round: object %v, row %v", g.key, o, r)
				}
			}
			if got := testutil.ToFloat64(s2.Metrics.Segments.WithLabelValues(ReasonExpired)); got != 3 {
				t.Errorf("deleted %v", got)
			}
		})
	}
}

// reclaimer asks for bytes once.
type reclaimer struct {
	bytes int64
	asked int
}

func (r *reclaimer) Reclaim() int64 {
	r.asked++
	b := r.bytes
	r.bytes = 0
	return b
}

// TestOverwriteOldest: asked to reclaim, the sweeper deletes unexpired
// segments soonest to expire first until the shortfall is freed, and no
// more; never the open segment.
func TestOverwriteOldest(t *testing.T) {
	f := newFixture(t, backends[0].open)
	const ch = "34020000001310000001"
	var segs []seg // soonest to expire first
	for i := range 6 {
		id, key := f.segment(ch, now.Add(-20*day+time.Duration(i)*time.Minute), 30, 100, false)
		segs = append(segs, seg{id, key})
	}
	oid, okey := f.segment(ch, now.Add(-25*day), 1, 100, true) // open, long "expired"
	r := &reclaimer{bytes: 250}
	s := f.sweeper(f.store)
	s.Reclaimer = r
	s.round()
	if r.asked != 1 {
		t.Fatalf("asked %d times", r.asked)
	}
	var left []int
	for i, g := range segs {
		if o, row := f.exists(g.id, g.key); o && row {
			left = append(left, i)
		}
	}
	if !slices.Equal(left, []int{3, 4, 5}) {
		t.Fatalf("segments left %v, want the three latest to expire", left)
	}
	if o, row := f.exists(oid, okey); !o || !row {
		t.Fatal("the open segment was overwritten")
	}
	if got := testutil.ToFloat64(s.Metrics.Bytes.WithLabelValues(ReasonOverwritten)); got != 300 {
		t.Fatalf("overwritten bytes %v", got)
	}
	s.round() // nothing asked: nothing more goes
	if r.asked != 2 || len(left) != 3 {
		t.Fatalf("asked %d", r.asked)
	}
	if o, row := f.exists(segs[3].id, segs[3].key); !o || !row {
		t.Fatal("a second round overwrote more")
	}
}

// TestRun: the first round runs at Initialize, the next at a tick; Close
// ends the goroutine.
func TestRun(t *testing.T) {
	f := newFixture(t, backends[0].open)
	const ch = "34020000001310000001"
	id1, key1 := f.segment(ch, now.Add(-31*day), 30, 10, false)
	tick := make(chan time.Time)
	s := &Sweeper{DB: f.db, Objects: f.store, Now: func() time.Time { return now }, Tick: tick, Pause: -1}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	tick <- now // taken once the first round is over
	if o, r := f.exists(id1, key1); o || r {
		t.Fatal("first round left the expired segment")
	}
	id2, key2 := f.segment(ch, now.Add(-32*day), 30, 10, false)
	tick <- now
	tick <- now // the second round is over
	if o, r := f.exists(id2, key2); o || r {
		t.Fatal("the tick's round left the expired segment")
	}
	s.Close()
}

func TestInitializeRefuses(t *testing.T) {
	for _, s := range []*Sweeper{
		{Objects: failing{}},
		{DB: &recordingdb.DB{}},
		{DB: &recordingdb.DB{}, Objects: failing{}, RetentionLimit: -time.Second},
	} {
		if err := s.Initialize(); err == nil {
			s.Close()
			t.Fatal("initialized")
		}
	}
}
