package auditretention_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auditretention"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// TestPrune: one pass against the database deletes the rows older than
// the retention, in batches, and the chain still verifies.
func TestPrune(t *testing.T) {
	db := consoledb.New(storetest.Open(t, pgtest.NewDB(t), 2))
	ctx := context.Background()
	now := time.Now()
	for i, age := range []time.Duration{400, 300, 250, 201, 199, 1} {
		e := store.AuditEntry{At: now.Add(-age * 24 * time.Hour), Action: "play", Target: string(rune('a' + i))}
		if err := db.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	j := &auditretention.Job{Store: db, Retention: 200 * 24 * time.Hour, Batch: 3, Log: quiet, Now: func() time.Time { return now }}
	n, err := j.Prune(ctx)
	if err != nil || n != 4 {
		t.Fatalf("pruned %d %v, want 4", n, err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Rows != 2 || v.PrunedSeq != 4 {
		t.Fatalf("%+v %v", v, err)
	}
	if n, err := j.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("second pass: %d %v", n, err)
	}
}

// fakeStore records the batches asked for and deletes from a count.
type fakeStore struct {
	mu    sync.Mutex
	left  int64
	calls []int64
	err   error
	// pass receives the number of calls at each batch.
	pass chan int
}

func (f *fakeStore) PruneAudit(_ context.Context, before, now time.Time, limit int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(f.left, limit)
	f.left -= n
	f.calls = append(f.calls, n)
	if f.pass != nil {
		f.pass <- len(f.calls)
	}
	return n, f.err
}

func TestPruneBatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		left  int64
		err   error
		calls []int64
	}{
		{"nothing", 0, nil, []int64{0}},
		{"less than a batch", 7, nil, []int64{7}},
		{"exactly two batches", 20, nil, []int64{10, 10, 0}},
		{"two and a bit", 25, nil, []int64{10, 10, 5}},
		{"failure stops the pass", 25, errors.New("db down"), []int64{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStore{left: tc.left, err: tc.err}
			j := &auditretention.Job{Store: f, Retention: consoledb.MinAuditRetention, Batch: 10, Log: quiet, Now: time.Now}
			total, err := j.Prune(context.Background())
			if (err != nil) != (tc.err != nil) || len(f.calls) != len(tc.calls) {
				t.Fatalf("calls %v err %v, want %v", f.calls, err, tc.calls)
			}
			var want int64
			for i, n := range tc.calls {
				want += n
				if f.calls[i] != n {
					t.Errorf("call %d deleted %d, want %d", i, f.calls[i], n)
				}
			}
			if total != want {
				t.Errorf("total %d, want %d", total, want)
			}
		})
	}
}

// TestJobRuns: a pass at start, another at each tick, none after Close.
func TestJobRuns(t *testing.T) {
	f := &fakeStore{pass: make(chan int)}
	ticks := make(chan time.Time)
	j := &auditretention.Job{
		Store: f, Retention: 365 * 24 * time.Hour, Log: quiet,
		After: func(d time.Duration) <-chan time.Time {
			if d != auditretention.DefaultInterval {
				t.Errorf("waits %s, want a day", d)
			}
			return ticks
		},
	}
	if err := j.Initialize(); err != nil {
		t.Fatal(err)
	}
	if n := <-f.pass; n != 1 {
		t.Fatalf("start: call %d", n)
	}
	ticks <- time.Now()
	if n := <-f.pass; n != 2 {
		t.Fatalf("tick: call %d", n)
	}
	j.Close()
}

func TestJobRefusesShortRetention(t *testing.T) {
	j := &auditretention.Job{Store: &fakeStore{}, Retention: 179 * 24 * time.Hour}
	if err := j.Initialize(); !errors.Is(err, auditretention.ErrTooShort) {
		t.Fatalf("%v", err)
	}
	j.Close()
}
