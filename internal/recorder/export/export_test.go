package export

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
)

// create queues a platform export of chA through the database.
func create(t testing.TB, db *exportdb.DB, owner string, start, end time.Time) exportdb.Job {
	t.Helper()
	j, err := db.Create(context.Background(), exportdb.NewJob{
		Owner: owner, ChannelID: chA, Source: recorderapi.SourcePlatform, Start: start, End: end, Created: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestPlatformExport cuts ranges out of one-minute segments: across a
// segment boundary, across a gap (the recorded parts back to back) and
// starting mid-GOP (at the key frame before). ffprobe's duration is the
// expected one within a frame.
func TestPlatformExport(t *testing.T) {
	db, st := openDB(t), newStore(t)
	data := segmentBytes(t, time.Minute)
	addSegment(t, db, st, chA, t0, time.Minute, data)
	addSegment(t, db, st, chA, t0.Add(time.Minute), time.Minute, data)
	// A 30 s gap, then one more segment.
	addSegment(t, db, st, chA, t0.Add(150*time.Second), time.Minute, data)
	r := newRunner(t, db, st, &clock{now: t0})

	for _, tc := range []struct {
		name       string
		start, end time.Duration // from t0
		want       time.Duration
	}{
		{"boundary", 50 * time.Second, 70 * time.Second, 20 * time.Second},
		// Starts at the key frame of 30 s, 600 ms before the range.
		{"mid-GOP start", 30*time.Second + 600*time.Millisecond, 90 * time.Second, 60 * time.Second},
		// 100–120 s recorded, 120–150 s a gap, 150–170 s recorded.
		{"across a gap", 100 * time.Second, 170 * time.Second, 40 * time.Second},
		// Starts in the gap: at the next segment's first key frame.
		{"in a gap", 130 * time.Second, 160 * time.Second, 10 * time.Second},
		{"end mid-frame", 10 * time.Second, 12*time.Second + 10*time.Millisecond, 2*time.Second + 10*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := create(t, db, "alice", t0.Add(tc.start), t0.Add(tc.end))
			r.Wake()
			j = waitJob(t, db, r, j.ID)
			if j.State != recorderapi.StateDone || j.Progress != 1 || j.ObjectKey != Key(j.ID, node) || j.Node != node {
				t.Fatalf("job %+v", j)
			}
			if j.ExpiresAt == nil || !j.ExpiresAt.Equal(t0.Add(DefaultTTL)) {
				t.Errorf("expires at %v, want %v", j.ExpiresAt, t0.Add(DefaultTTL))
			}
			if errs, _ := decodeErrors(t, st, j.ObjectKey); errs != "" {
				t.Errorf("decode errors: %s", errs)
			}
			got, _ := probe(t, st, j.ObjectKey)
			if d := got - tc.want; d < -frame || d > frame {
				t.Errorf("ffprobe finds %v, want %v", got, tc.want)
			}
			obj, err := st.Open(context.Background(), j.ObjectKey)
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			if obj.Size() != j.Bytes {
				t.Errorf("file of %d bytes, job says %d", obj.Size(), j.Bytes)
			}
		})
	}
}

// TestPlatformAudio keeps the audio (G.711, stored as the segments store
// it): the file has both streams and decodes without an error across the
// segment boundary.
func TestPlatformAudio(t *testing.T) {
	db, st := openDB(t), newStore(t)
	data := segmentWith(t, 20*time.Second, true)
	addSegment(t, db, st, chA, t0, 20*time.Second, data)
	addSegment(t, db, st, chA, t0.Add(20*time.Second), 20*time.Second, data)
	r := newRunner(t, db, st, &clock{now: t0})
	j := create(t, db, "alice", t0.Add(5*time.Second), t0.Add(35*time.Second))
	r.Wake()
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateDone {
		t.Fatalf("job %+v", j)
	}
	if errs, streams := decodeErrors(t, st, j.ObjectKey); errs != "" || streams != 2 {
		t.Errorf("%d streams, decode errors: %s", streams, errs)
	}
	if got, _ := probe(t, st, j.ObjectKey); got < 30*time.Second-frame || got > 30*time.Second+frame {
		t.Errorf("ffprobe finds %v, want 30s", got)
	}
}

// TestExportOneHour exports an hour of 60 one-minute segments: the file
// plays in ffprobe with exactly an hour, every frame there.
func TestExportOneHour(t *testing.T) {
	if testing.Short() {
		t.Skip("an hour of segments")
	}
	db, st := openDB(t), newStore(t)
	data := segmentBytes(t, time.Minute)
	for i := range 60 {
		addSegment(t, db, st, chA, t0.Add(time.Duration(i)*time.Minute), time.Minute, data)
	}
	r := newRunner(t, db, st, &clock{now: t0})
	j := create(t, db, "alice", t0, t0.Add(time.Hour))
	r.Wake()
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateDone {
		t.Fatalf("job %+v", j)
	}
	got, n := probe(t, st, j.ObjectKey)
	if d := got - time.Hour; d < -frame || d > frame {
		t.Errorf("ffprobe finds %v, want 1h", got)
	}
	if want := int(time.Hour / frame); n != want {
		t.Errorf("%d frames, want %d", n, want)
	}
}

// TestNoRecording fails a job whose range has no segment, saying so.
func TestNoRecording(t *testing.T) {
	db, st := openDB(t), newStore(t)
	r := newRunner(t, db, st, &clock{now: t0})
	j := create(t, db, "alice", t0, t0.Add(time.Minute))
	r.Wake()
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateFailed || !strings.Contains(j.Error, "no recording") || j.FinishedAt == nil {
		t.Fatalf("job %+v", j)
	}
}

// TestCrashRequeue: a job this node was running when it died is queued
// again at its start, its partial file removed, and then done.
func TestCrashRequeue(t *testing.T) {
	db, st := openDB(t), newStore(t)
	ctx := context.Background()
	addSegment(t, db, st, chA, t0, time.Minute, segmentBytes(t, time.Minute))
	j := create(t, db, "alice", t0, t0.Add(30*time.Second))
	claimed, ok, err := db.Claim(ctx, node, []string{st.Name()}, false, t0)
	if err != nil || !ok || claimed.ID != j.ID || claimed.State != recorderapi.StateRunning {
		t.Fatalf("claim %+v %v %v", claimed, ok, err)
	}
	// The dead run's partial file.
	p, err := st.WritePath(Key(j.ID, node))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	// Another node does not take it while it is running here.
	if _, ok, err := db.Claim(ctx, "n2", []string{st.Name()}, true, t0); ok || err != nil {
		t.Fatalf("n2 claimed a running job: %v %v", ok, err)
	}
	r := newRunner(t, db, st, &clock{now: t0})
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateDone {
		t.Fatalf("job %+v", j)
	}
	if got, _ := probe(t, st, j.ObjectKey); got != 30*time.Second {
		t.Errorf("ffprobe finds %v, want 30s", got)
	}
}

// TestDeadNodeTakeover: a job left running by a node that died (no
// heartbeat) is queued again by a live node's runner, which then does it.
func TestDeadNodeTakeover(t *testing.T) {
	db, st := openDB(t), newStore(t)
	ctx := context.Background()
	addSegment(t, db, st, chA, t0, time.Minute, segmentBytes(t, time.Minute))
	j := create(t, db, "alice", t0, t0.Add(30*time.Second))
	if _, ok, err := db.Claim(ctx, "n-dead", []string{st.Name()}, false, t0); !ok || err != nil {
		t.Fatalf("claim by the node about to die: %v %v", ok, err)
	}
	r := &Runner{
		DB: db, Store: st, Node: node, Token: "service-token", Now: (&clock{now: t0}).Now,
		PollInterval: 10 * time.Millisecond, DeadAfter: 15 * time.Second, Log: slog.New(slog.DiscardHandler),
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if got := waitJob(t, db, r, j.ID); got.State != recorderapi.StateDone || got.Node != node {
		t.Fatalf("job %+v, want done by %s", got, node)
	}
}

// TestLeftovers: at its start a node removes its export files that no
// finished job holds (a partial file of a job another node took over, an
// old-style one), and keeps its finished files and other nodes' files.
func TestLeftovers(t *testing.T) {
	db, st := openDB(t), newStore(t)
	ctx := context.Background()
	write := func(key string) {
		t.Helper()
		p, err := st.WritePath(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	done := create(t, db, "alice", t0, t0.Add(time.Second))
	taken := create(t, db, "alice", t0, t0.Add(time.Second))
	if _, err := db.Pool.Exec(ctx, `UPDATE exports SET state = 'done', node = $2, object_key = $3 WHERE id = $1`,
		done.ID, node, Key(done.ID, node)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE exports SET state = 'running', node = 'n2' WHERE id = $1`, taken.ID); err != nil {
		t.Fatal(err)
	}
	keep := []string{Key(done.ID, node), Key(taken.ID, "n2")}
	gone := []string{Key(taken.ID, node), keyPrefix + taken.ID + ".mp4"}
	for _, k := range append(append([]string{}, keep...), gone...) {
		write(k)
	}
	newRunner(t, db, st, &clock{now: t0})
	for _, k := range keep {
		if _, err := st.Open(ctx, k); err != nil {
			t.Errorf("%s: %v, want kept", k, err)
		}
	}
	for _, k := range gone {
		if _, err := st.Open(ctx, k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("%s: %v, want removed", k, err)
		}
	}
	if err := objstore.ValidateKey(Key(done.ID, "rec:1 å")); err != nil {
		t.Errorf("a node name with other characters: %v", err)
	}
}

// TestStoreCapability: a platform job whose segments are in another node's
// directory store waits for that node.
func TestStoreCapability(t *testing.T) {
	db, st := openDB(t), newStore(t)
	ctx := context.Background()
	addSegment(t, db, st, chA, t0, time.Minute, segmentBytes(t, time.Minute))
	j := create(t, db, "alice", t0, t0.Add(time.Minute))
	if _, ok, err := db.Claim(ctx, "n2", []string{"dir://n2"}, true, t0); ok || err != nil {
		t.Fatalf("n2 claimed a job of n1's segments: %v %v", ok, err)
	}
	got, ok, err := db.Claim(ctx, node, []string{"dir://" + node}, false, t0)
	if err != nil || !ok || got.ID != j.ID {
		t.Fatalf("n1 claim %+v %v %v", got, ok, err)
	}
	// A device job goes to a node with devices only.
	dev, err := db.Create(ctx, exportdb.NewJob{
		Owner: "bob", ChannelID: chA, Source: recorderapi.SourceDevice,
		Start: t0, End: t0.Add(time.Minute), Created: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Claim(ctx, "n2", []string{"dir://n2"}, false, t0); ok {
		t.Fatal("a node without devices claimed a device job")
	}
	if got, ok, _ := db.Claim(ctx, "n2", []string{"dir://n2"}, true, t0); !ok || got.ID != dev.ID {
		t.Fatalf("device job not claimed: %+v", got)
	}
}

// TestExpiry: a done job's file is deleted TTL after it finished, by the
// injected clock, and the job marked expired; not a moment before.
func TestExpiry(t *testing.T) {
	db, st := openDB(t), newStore(t)
	ctx := context.Background()
	addSegment(t, db, st, chA, t0, time.Minute, segmentBytes(t, time.Minute))
	c := &clock{now: t0}
	r := newRunner(t, db, st, c)
	j := create(t, db, "alice", t0, t0.Add(10*time.Second))
	r.Wake()
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateDone {
		t.Fatalf("job %+v", j)
	}
	c.Add(DefaultTTL - time.Second)
	r.sweepOnce()
	if j, _ = db.Job(ctx, j.ID); j.State != recorderapi.StateDone {
		t.Fatalf("expired early: %+v", j)
	}
	c.Add(time.Second)
	r.sweepOnce()
	if j, _ = db.Job(ctx, j.ID); j.State != recorderapi.StateExpired || j.ObjectKey != "" {
		t.Fatalf("not expired: %+v", j)
	}
	if _, err := st.Open(ctx, Key(j.ID, node)); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("file still there: %v", err)
	}
}

// TestDeleteRunning: DELETE of a running job stops it (its ffmpeg killed,
// its partial file removed) and leaves it expired; Close requeues what runs.
func TestDeleteRunning(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	// Reports progress, then waits (bounded) for the test.
	script := "echo out_time_us=1000000\necho progress=continue\nprintf partial > \"$out\"\n" +
		"i=0\nwhile [ ! -e " + release + " ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done\n" + ffmpegOK
	d := newSipDouble(t, "active")
	r, db := deviceRunner(t, fakeFFmpeg(t, script), d)
	ctx := context.Background()
	j, err := db.Create(ctx, newDeviceJob())
	if err != nil {
		t.Fatal(err)
	}
	r.Wake()
	waitFor(t, "the device export runs", func() bool {
		got, _ := db.Job(ctx, j.ID)
		return got.State == recorderapi.StateRunning
	})
	if _, err := db.Expire(ctx, j.ID, t0); err != nil {
		t.Fatal(err)
	}
	r.stop(j.ID) // what the API's DELETE does on the running node
	waitFor(t, "the stopped export's goroutine ends", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.running) == 0
	})
	got, _ := db.Job(ctx, j.ID)
	if got.State != recorderapi.StateExpired {
		t.Errorf("job %+v", got)
	}
	if _, err := r.Store.Open(ctx, Key(j.ID, node)); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("partial file: %v", err)
	}

	// Close requeues a running job for any node.
	j2, err := db.Create(ctx, newDeviceJob())
	if err != nil {
		t.Fatal(err)
	}
	r.Wake()
	waitFor(t, "the second export runs", func() bool {
		got, _ := db.Job(ctx, j2.ID)
		return got.State == recorderapi.StateRunning
	})
	r.Close()
	if got, _ := db.Job(ctx, j2.ID); got.State != recorderapi.StateQueued || got.Node != "" {
		t.Errorf("after Close %+v", got)
	}
}
