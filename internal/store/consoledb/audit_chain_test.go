package consoledb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// addAudits writes n rows of user, at at, at+1s, ….
func addAudits(t testing.TB, s *consoledb.DB, user string, at time.Time, n int) {
	t.Helper()
	for i := range n {
		e := store.AuditEntry{
			At: at.Add(time.Duration(i) * time.Second), Username: user, Action: "play",
			Target: fmt.Sprintf("3402000000131000%04d", i), Remote: "10.0.0.1", Detail: map[string]any{"i": i},
		}
		if err := s.AddAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// asOwner runs sql with audit_log's triggers off, as a database owner
// tampering behind the console's back would.
func asOwner(t *testing.T, s *consoledb.DB, sql string) {
	t.Helper()
	_, err := s.Pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER USER;
`+sql+`;
ALTER TABLE audit_log ENABLE TRIGGER USER`)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func verify(t *testing.T, s *consoledb.DB) consoledb.AuditVerification {
	t.Helper()
	v, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAuditChainConcurrentWriters(t *testing.T) {
	s := open(t)
	if v := verify(t, s); !v.OK || v.Rows != 0 {
		t.Fatalf("empty log: %+v", v)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { addAudits(t, s, fmt.Sprintf("user%d", w), time.Now(), 25) })
	}
	wg.Wait()
	v := verify(t, s)
	if !v.OK || v.Rows != 100 || v.FirstSeq != 1 || v.LastSeq != 100 || len(v.Breaks) != 0 {
		t.Fatalf("after 4 writers: %+v", v)
	}
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper string
		// seq and problem of the first break.
		seq     int64
		problem string
	}{
		{"detail edited", `UPDATE audit_log SET detail = '{"i": 99}' WHERE seq = 3`, 3, "row edited"},
		{"username edited", `UPDATE audit_log SET username = 'mallory' WHERE seq = 1`, 1, "row edited"},
		{"time edited", `UPDATE audit_log SET at = at - interval '1 hour' WHERE seq = 5`, 5, "row edited"},
		{"row deleted", `DELETE FROM audit_log WHERE seq = 4`, 5, "1 row(s) missing"},
		{"two rows deleted", `DELETE FROM audit_log WHERE seq IN (2, 3)`, 4, "2 row(s) missing"},
		{"first row deleted", `DELETE FROM audit_log WHERE seq = 1`, 2, "1 row(s) missing"},
		{"newest row deleted", `DELETE FROM audit_log WHERE seq = 6`, 6, "rows deleted at the end"},
		{"hash rewritten", `UPDATE audit_log SET detail = '{}' WHERE seq = 2;
UPDATE audit_log SET hash = audit_row_hash(prev_hash, audit_log) WHERE seq = 2`, 3, "link broken"},
		{
			"row inserted past the chain",
			`ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain;
INSERT INTO audit_log (action, seq, prev_hash, hash) VALUES ('login', 7, '\x00', '\x00');
ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain`, 7, "row edited",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			addAudits(t, s, "alice", time.Now(), 6)
			asOwner(t, s, tc.tamper)
			v := verify(t, s)
			if v.OK || len(v.Breaks) == 0 {
				t.Fatalf("tampering not found: %+v", v)
			}
			if b := v.Breaks[0]; b.Seq != tc.seq || !strings.Contains(b.Problem, tc.problem) {
				t.Fatalf("first break %+v, want seq %d %q (all: %+v)", b, tc.seq, tc.problem, v.Breaks)
			}
		})
	}
}

// TestAuditVerifyFindsYoungRowsPruned: the guard alone turned off, the
// pruned mark moves past young rows deleted, and verify says so.
func TestAuditVerifyFindsYoungRowsPruned(t *testing.T) {
	s := open(t)
	addAudits(t, s, "alice", time.Now(), 3)
	if _, err := s.Pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard;
DELETE FROM audit_log WHERE seq = 1;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard`); err != nil {
		t.Fatal(err)
	}
	v := verify(t, s)
	if v.OK || len(v.Breaks) != 1 || v.PrunedSeq != 1 || !strings.Contains(v.Breaks[0].Problem, "rows younger than") {
		t.Fatalf("young rows pruned: %+v", v)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	s := open(t)
	addAudits(t, s, "alice", time.Now(), 2)
	for _, sql := range []string{
		`UPDATE audit_log SET username = 'mallory'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`UPDATE audit_chain SET seq = 0`,
		`DELETE FROM audit_chain`,
	} {
		if _, err := s.Pool.Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}
	if v := verify(t, s); !v.OK || v.Rows != 2 {
		t.Fatalf("after refused changes: %+v", v)
	}
}

func TestPruneAudit(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Now()
	addAudits(t, s, "old", now.Add(-400*24*time.Hour), 3)
	addAudits(t, s, "older-than-cut", now.Add(-200*24*time.Hour), 2)
	addAudits(t, s, "new", now.Add(-time.Hour), 2)

	if _, err := s.PruneAudit(ctx, now.Add(-179*24*time.Hour), now, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("cut-off younger than 180 days: %v", err)
	}
	n, err := s.PruneAudit(ctx, now.Add(-300*24*time.Hour), now, 0)
	if err != nil || n != 3 {
		t.Fatalf("prune 300 days: %d %v", n, err)
	}
	v := verify(t, s)
	if !v.OK || v.Rows != 4 || v.PrunedSeq != 3 || v.FirstSeq != 4 {
		t.Fatalf("after pruning: %+v", v)
	}
	// Rows old enough for retention deleted out of order still show.
	if _, err := s.Pool.Exec(ctx, `DELETE FROM audit_log WHERE seq = 5`); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); v.OK {
		t.Fatalf("an old row deleted out of order: %+v", v)
	}
}

func TestPruneAuditEverything(t *testing.T) {
	s := open(t)
	now := time.Now()
	addAudits(t, s, "old", now.Add(-400*24*time.Hour), 3)
	if n, err := s.PruneAudit(context.Background(), now.Add(-200*24*time.Hour), now, 0); err != nil || n != 3 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if v := verify(t, s); !v.OK || v.Rows != 0 || v.PrunedSeq != 3 {
		t.Fatalf("all pruned: %+v", v)
	}
	addAudits(t, s, "new", now, 1)
	if v := verify(t, s); !v.OK || v.Rows != 1 || v.FirstSeq != 4 {
		t.Fatalf("after a new row: %+v", v)
	}
}

// TestAuditChainBulk: rows inserted by one statement, and removed by one,
// are chained and pruned as one at a time would be.
func TestAuditChainBulk(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	addAudits(t, s, "first", time.Now().Add(-300*24*time.Hour), 1)
	if _, err := s.Pool.Exec(ctx, `
INSERT INTO audit_log (at, username, action)
SELECT now() - interval '250 days' + make_interval(secs => i), 'bulk', 'login' FROM generate_series(1, 5000) i`); err != nil {
		t.Fatal(err)
	}
	addAudits(t, s, "last", time.Now(), 1)
	if v := verify(t, s); !v.OK || v.Rows != 5002 || v.LastSeq != 5002 {
		t.Fatalf("after a bulk insert: %+v", v)
	}
	now := time.Now()
	if n, err := s.PruneAudit(ctx, now.Add(-200*24*time.Hour), now, 0); err != nil || n != 5001 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if v := verify(t, s); !v.OK || v.Rows != 1 || v.PrunedSeq != 5001 {
		t.Fatalf("after pruning in bulk: %+v", v)
	}
}
