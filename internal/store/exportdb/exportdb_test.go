package exportdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

const chA = "34020000001320000001"

func open(t testing.TB) *exportdb.DB {
	t.Helper()
	return exportdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
}

func newJob(owner string, created time.Time) exportdb.NewJob {
	return exportdb.NewJob{
		Owner: owner, ChannelID: chA, Source: recorderapi.SourcePlatform,
		Start: t0, End: t0.Add(time.Hour), Created: created,
	}
}

func TestCreateInvalid(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	for _, n := range []exportdb.NewJob{
		{ChannelID: chA, Source: "platform", Start: t0, End: t0.Add(time.Hour)},
		{Owner: "a", Source: "platform", Start: t0, End: t0.Add(time.Hour)},
		{Owner: "a", ChannelID: chA, Source: "tape", Start: t0, End: t0.Add(time.Hour)},
		{Owner: "a", ChannelID: chA, Source: "platform", Start: t0, End: t0},
	} {
		if _, err := db.Create(ctx, n); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v", n, err)
		}
	}
}

// TestLifecycle: create, claim (one node only), progress, finish, list by
// owner, expire.
func TestLifecycle(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	a, err := db.Create(ctx, newJob("alice", t0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Create(ctx, newJob("bob", t0.Add(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if !exportdb.ValidID(a.ID) || a.State != recorderapi.StateQueued || a.Node != "" || !a.CreatedAt.Equal(t0) {
		t.Fatalf("created %+v", a)
	}
	got, ok, err := db.Claim(ctx, "n1", []string{"dir://n1"}, false, t0)
	if err != nil || !ok || got.ID != a.ID || got.State != recorderapi.StateRunning || got.Node != "n1" {
		t.Fatalf("claim %+v %v %v", got, ok, err)
	}
	if err := db.Progress(ctx, a.ID, "n2", 0.5, 10); !errors.Is(err, exportdb.ErrNotRunning) {
		t.Errorf("progress from another node: %v", err)
	}
	if err := db.Progress(ctx, a.ID, "n1", 1.5, 10); err != nil {
		t.Fatal(err)
	}
	if j, _ := db.Job(ctx, a.ID); j.Progress != 1 || j.Bytes != 10 {
		t.Errorf("progress %+v", j)
	}
	if err := db.Finish(ctx, a.ID, "n1", "exports/"+a.ID+".mp4", 99, t0.Add(time.Minute), t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Finish(ctx, a.ID, "n1", "x", 1, t0, t0); !errors.Is(err, exportdb.ErrNotRunning) {
		t.Errorf("finish twice: %v", err)
	}

	mine, err := db.List(ctx, exportdb.ListQuery{Owner: "alice", Granted: catalogview.Everything()})
	if err != nil || len(mine) != 1 || mine[0].ID != a.ID || mine[0].State != recorderapi.StateDone || mine[0].Bytes != 99 {
		t.Fatalf("alice's %+v %v", mine, err)
	}
	all, err := db.List(ctx, exportdb.ListQuery{Granted: catalogview.Everything()})
	if err != nil || len(all) != 2 || all[0].ID != b.ID {
		t.Fatalf("all, newest first: %+v %v", all, err)
	}

	if n, err := db.ExpireDue(ctx, "n1", t0.Add(25*time.Hour-time.Nanosecond)); err != nil || n != 0 {
		t.Fatalf("expired early: %d %v", n, err)
	}
	if n, err := db.ExpireDue(ctx, "n1", t0.Add(25*time.Hour)); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	files, err := db.Unlinked(ctx, "n1", 10)
	if err != nil || len(files) != 1 || files[0].ObjectKey == "" {
		t.Fatalf("unlinked %+v %v", files, err)
	}
	if err := db.Unlink(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if files, _ := db.Unlinked(ctx, "n1", 10); len(files) != 0 {
		t.Errorf("still unlinked %+v", files)
	}

	// DELETE of a queued job.
	before, err := db.Expire(ctx, b.ID, t0)
	if err != nil || before.State != recorderapi.StateQueued {
		t.Fatalf("expire %+v %v", before, err)
	}
	if j, _ := db.Job(ctx, b.ID); j.State != recorderapi.StateExpired || j.ExpiresAt == nil {
		t.Errorf("expired %+v", j)
	}
	if _, ok, _ := db.Claim(ctx, "n1", []string{"dir://n1"}, true, t0); ok {
		t.Error("an expired job claimed")
	}
	if _, err := db.Expire(ctx, "0123456789abcdef", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expire unknown: %v", err)
	}
	if _, err := db.Job(ctx, "nothex"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("job of a bad id: %v", err)
	}
}

// TestRequeue: a node's running jobs go back to the queue, others' stay.
func TestRequeue(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	a, _ := db.Create(ctx, newJob("alice", t0))
	b, _ := db.Create(ctx, newJob("bob", t0.Add(time.Second)))
	if _, ok, _ := db.Claim(ctx, "n1", []string{"dir://n1"}, false, t0); !ok {
		t.Fatal("no claim")
	}
	if _, ok, _ := db.Claim(ctx, "n2", []string{"dir://n2"}, false, t0); !ok {
		t.Fatal("no claim")
	}
	ids, err := db.Requeue(ctx, "n1")
	if err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("requeued %v %v", ids, err)
	}
	if j, _ := db.Job(ctx, a.ID); j.State != recorderapi.StateQueued || j.Node != "" || j.StartedAt != nil {
		t.Errorf("requeued %+v", j)
	}
	if j, _ := db.Job(ctx, b.ID); j.State != recorderapi.StateRunning || j.Node != "n2" {
		t.Errorf("other node's %+v", j)
	}
}

// TestNodeURL reads the URL the console proxies files from.
func TestNodeURL(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if _, err := db.NodeURL(ctx, "n1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown node: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO recorder_nodes (node, url) VALUES ('n1', 'http://n1:8082')`); err != nil {
		t.Fatal(err)
	}
	if u, err := db.NodeURL(ctx, "n1"); err != nil || u != "http://n1:8082" {
		t.Errorf("url %q %v", u, err)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		exportdb.NewID(): true, "0123456789abcdef": true, "0123456789ABCDEF": false, "0123456789abcde": false,
		"../../etc/passwd": false, "": false,
	} {
		if exportdb.ValidID(id) != want {
			t.Errorf("ValidID(%q) != %v", id, want)
		}
	}
}

// TestRequeueDead: running jobs of a node silent for longer than the
// lease, or with no heartbeat at all, are queued again; the caller's own and
// those of a live node stay running.
func TestRequeueDead(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	var ids []string
	for i, n := range []string{"alive", "silent", "unknown", "self"} {
		j, err := db.Create(ctx, newJob("alice", t0.Add(time.Duration(i)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.Claim(ctx, n, []string{"dir://" + n}, false, t0); !ok || err != nil {
			t.Fatalf("claim by %s: %v %v", n, ok, err)
		}
		ids = append(ids, j.ID)
	}
	for _, q := range []string{
		`INSERT INTO recorder_nodes (node, heartbeat_at) VALUES ('alive', now() - interval '5 seconds')`,
		`INSERT INTO recorder_nodes (node, heartbeat_at) VALUES ('silent', now() - interval '16 seconds')`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.RequeueDead(ctx, "self", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dead := map[string]string{}
	for _, j := range got {
		dead[j.ID] = j.Node
		if j.State != recorderapi.StateQueued {
			t.Errorf("returned %+v, want queued", j)
		}
	}
	if len(got) != 2 || dead[ids[1]] != "silent" || dead[ids[2]] != "unknown" {
		t.Fatalf("requeued %+v, want the silent and the unknown node's", got)
	}
	for i, want := range []string{recorderapi.StateRunning, recorderapi.StateQueued, recorderapi.StateQueued, recorderapi.StateRunning} {
		if j, _ := db.Job(ctx, ids[i]); j.State != want || (want == recorderapi.StateQueued) != (j.Node == "") {
			t.Errorf("job %d: %+v, want %s", i, j, want)
		}
	}
	// The dead node, back, is refused: its run stops.
	if err := db.Progress(ctx, ids[1], "silent", 0.5, 10); !errors.Is(err, exportdb.ErrNotRunning) {
		t.Errorf("dead node's progress: %v", err)
	}
	if _, err := db.RequeueDead(ctx, "self", 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("silentFor 0: %v", err)
	}
}
