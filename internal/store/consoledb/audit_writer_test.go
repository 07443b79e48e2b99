package consoledb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// TestAuditWho: a row keeps who (department, role), from where (user
// agent) and the result; ListAudit filters by a department's subtree.
func TestAuditWho(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	city := newDepartment(t, s, 0, "市局", store.LevelCity, "")
	district := newDepartment(t, s, city.ID, "分局", store.LevelCounty, "")
	station := newDepartment(t, s, district.ID, "派出所", store.LevelUnit, "")
	other := newDepartment(t, s, 0, "交警", store.LevelCity, "")
	gone := newDepartment(t, s, city.ID, "撤销", store.LevelCounty, "")
	if err := s.DeleteDepartment(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for i, d := range []int64{city.ID, district.ID, station.ID, other.ID, gone.ID, 0} {
		e := store.AuditEntry{
			Username: fmt.Sprintf("u%d", i), DepartmentID: d, Role: store.RoleOperator, Action: "play",
			Remote: "10.0.0.1", UserAgent: "Mozilla/5.0 \x00\xff", Result: store.AuditRefused, Reason: "no play right",
		}
		if err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAudit(ctx, store.AuditEntry{Action: "play", Result: "maybe"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("result maybe: %v", err)
	}
	rows, _, err := s.ListAudit(ctx, store.AuditFilter{Username: "u2"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%+v %v", rows, err)
	}
	if e := rows[0]; e.DepartmentID != station.ID || e.Role != store.RoleOperator || e.UserAgent != "Mozilla/5.0 \uFFFD\uFFFD" ||
		e.Result != store.AuditRefused || e.Reason != "no play right" {
		t.Fatalf("row: %+v", e)
	}
	if err := s.AddAudit(ctx, store.AuditEntry{Action: "login"}); err != nil {
		t.Fatal(err)
	}
	if rows, _, err := s.ListAudit(ctx, store.AuditFilter{Action: "login"}); err != nil || rows[0].Result != store.AuditOK || rows[0].DepartmentID != 0 {
		t.Fatalf("default result: %+v %v", rows, err)
	}
	for _, tc := range []struct {
		name  string
		dept  int64
		users []string
	}{
		{"city: its subtree", city.ID, []string{"u0", "u1", "u2"}},
		{"district: it and below", district.ID, []string{"u1", "u2"}},
		{"station: a leaf", station.ID, []string{"u2"}},
		{"another tree", other.ID, []string{"u3"}},
		{"deleted: its own rows", gone.ID, []string{"u4"}},
		{"unknown", 999999, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, total, err := s.ListAudit(ctx, store.AuditFilter{DepartmentID: tc.dept})
			if err != nil || total != len(tc.users) {
				t.Fatalf("%d rows %v", total, err)
			}
			for i, e := range rows {
				// Newest first.
				if want := tc.users[len(tc.users)-1-i]; e.Username != want {
					t.Errorf("row %d: %s, want %s", i, e.Username, want)
				}
			}
		})
	}
	if v := verify(t, s); !v.OK {
		t.Fatalf("%+v", v)
	}
}

func newWriter(t *testing.T, s *consoledb.DB, maxBatch int) *consoledb.AuditWriter {
	t.Helper()
	w := &consoledb.AuditWriter{DB: s, MaxBatch: maxBatch, QueueSize: 16}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAuditWriter: concurrent callers each get their own row committed and
// chained; Close drains and then refuses.
func TestAuditWriter(t *testing.T) {
	s := open(t)
	w := newWriter(t, s, 7)
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Go(func() {
			errs <- w.AddAudit(context.Background(), store.AuditEntry{
				Username: fmt.Sprintf("user%d", i), Action: "play", Target: fmt.Sprint(i), DepartmentID: int64(i%3 + 1),
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	w.Close()
	if err := w.AddAudit(context.Background(), store.AuditEntry{Action: "play"}); !errors.Is(err, consoledb.ErrAuditWriterClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := w.AddAudit(context.Background(), store.AuditEntry{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no action: %v", err)
	}
	v := verify(t, s)
	if !v.OK || v.Rows != 60 || v.LastSeq != 60 {
		t.Fatalf("%+v", v)
	}
	_, total, err := s.ListAudit(context.Background(), store.AuditFilter{DepartmentID: 2})
	if err != nil || total != 20 {
		t.Fatalf("department 2: %d %v", total, err)
	}
}

// TestAuditWriterRowRefused: a row PostgreSQL refuses fails alone; the
// others of its batch are written.
func TestAuditWriterRowRefused(t *testing.T) {
	s := open(t)
	w := newWriter(t, s, 100)
	defer w.Close()
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"now", time.Now(), true},
		{"before PostgreSQL's first day", time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Now().Add(-24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := w.AddAudit(context.Background(), store.AuditEntry{At: tc.at, Action: "play", Target: tc.name})
			if (err == nil) != tc.ok {
				t.Fatalf("%v", err)
			}
		})
	}
	// The same rows in one batch: queued before the writer takes them.
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range 10 {
		wg.Go(func() {
			at := time.Now()
			if i == 4 {
				at = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			if err := w.AddAudit(context.Background(), store.AuditEntry{At: at, Action: "login"}); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if v := verify(t, s); failed != 1 || !v.OK || v.Rows != 11 {
		t.Fatalf("%d failed, %+v", failed, v)
	}
}

// TestAuditWriterContext: a caller whose context ends while the queue is
// full gets its context's error.
func TestAuditWriterContext(t *testing.T) {
	s := open(t)
	w := newWriter(t, s, 1)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With the context done before the row is queued or committed, the
	// caller hears so (the row may or may not be written).
	if err := w.AddAudit(ctx, store.AuditEntry{Action: "play"}); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

func TestPruneAuditBatches(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Now()
	addAudits(t, s, "old", now.Add(-400*24*time.Hour), 5)
	addAudits(t, s, "new", now.Add(-time.Hour), 1)
	if _, err := s.PruneAudit(ctx, now.Add(-200*24*time.Hour), now, -1); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative limit: %v", err)
	}
	for i, want := range []int64{2, 2, 1, 0} {
		n, err := s.PruneAudit(ctx, now.Add(-200*24*time.Hour), now, 2)
		if err != nil || n != want {
			t.Fatalf("batch %d: %d %v, want %d", i, n, err, want)
		}
		if v := verify(t, s); !v.OK || v.Rows != 6-int64(min(5, 2*(i+1))) {
			t.Fatalf("batch %d: %+v", i, v)
		}
	}
}

// TestAuditWriterDatabaseGone: with the database gone every caller gets
// the failure (a batch is not retried row by row).
func TestAuditWriterDatabaseGone(t *testing.T) {
	s := open(t)
	w := newWriter(t, s, 100)
	defer w.Close()
	s.Pool.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { errs <- w.AddAudit(context.Background(), store.AuditEntry{Action: "play"}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || errors.Is(err, consoledb.ErrAuditWriterClosed) {
			t.Errorf("with the database closed: %v", err)
		}
	}
}
