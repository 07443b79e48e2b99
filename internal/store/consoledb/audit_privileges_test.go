package consoledb_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// auditOwner is the role migration 00012 gives the audit log to.
const auditOwner = "sharpeyes_audit_owner"

var serviceRoles atomic.Int64

// serviceDB makes a fresh database owned by a new role of its own that can
// log in, and create roles when createRole, but is no superuser, as a
// production services' role is, and returns the role's name and the URLs connecting to the database as
// that role and as the cluster's superuser. The role and the database are
// dropped when the test ends.
func serviceDB(t *testing.T, createRole bool) (role, service, super string) {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.NewDB(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("svc_%d_%d", os.Getpid(), serviceRoles.Add(1))
	id := pgx.Identifier{name}.Sanitize()
	attrs := " LOGIN"
	if createRole {
		attrs += " CREATEROLE"
	}
	if _, err := conn.Exec(ctx, "CREATE ROLE "+id+attrs); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id+" OWNER "+id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		for _, sql := range []string{"DROP DATABASE " + id + " WITH (FORCE)", "DROP ROLE " + id} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	super = u.String()
	u.User = url.User(name)
	return name, u.String(), super
}

// TestAuditPrivileges migrates databases of one cluster as roles that are
// not superusers, at once (the role of the audit log's owner is made by one
// of them and found by the others), and checks that their role writes and
// reads the log but cannot change it. Hardened is the deployment
// docs/security.md asks for after the migration: the services' role loses
// CREATEROLE (with it, PostgreSQL 15 lets it grant itself the owner) and
// the database (whose owner owns schema public and may drop any table in
// it) to another role.
func TestAuditPrivileges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hardened bool
	}{
		{"first", false},
		{"second", false},
		{"hardened", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			role, service, super := serviceDB(t, true)
			s := consoledb.New(storetest.Open(t, service, 4))
			refused := auditRefusals
			if tc.hardened {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, super)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				id := pgx.Identifier{role}.Sanitize()
				for _, sql := range []string{
					"ALTER ROLE " + id + " NOCREATEROLE",
					"ALTER DATABASE " + id + " OWNER TO CURRENT_USER",
					"GRANT CREATE ON SCHEMA public TO " + id,
				} {
					if _, err := conn.Exec(ctx, sql); err != nil {
						t.Fatalf("%s: %v", sql, err)
					}
				}
				refused = append(refused[:len(refused):len(refused)],
					struct{ name, sql string }{"grant itself the owner", "GRANT " + auditOwner + " TO " + id},
					struct{ name, sql string }{"drop the log", "DROP TABLE audit_log CASCADE"})
			}
			checkAuditPrivileges(t, s, auditOwner, refused)
		})
	}
}

// TestAuditPrivilegesWithoutCreateRole migrates as a role that cannot
// create roles: the log stays its own, guarded by the triggers alone (which
// its owner could turn off), and retention still works.
func TestAuditPrivilegesWithoutCreateRole(t *testing.T) {
	role, service, _ := serviceDB(t, false)
	checkAuditPrivileges(t, consoledb.New(storetest.Open(t, service, 4)), role, auditRefusals[:3])
}

// auditRefusals are statements the services' role is refused on the audit
// log whatever else the deployment does.
var auditRefusals = []struct{ name, sql string }{
	{"update", `UPDATE audit_log SET username = 'mallory' WHERE seq = 1`},
	{"delete young", `DELETE FROM audit_log WHERE seq = 6`},
	{"truncate", `TRUNCATE audit_log`},
	// The triggers refuse the three above to the log's owner as well.
	{"delete old", `DELETE FROM audit_log WHERE seq = 1`},
	{"disable triggers", `ALTER TABLE audit_log DISABLE TRIGGER USER`},
	{"drop a trigger", `DROP TRIGGER audit_log_guard ON audit_log`},
	{"update the head", `UPDATE audit_chain SET seq = 0`},
	{"delete the head", `DELETE FROM audit_chain`},
	{"replace the hash", `CREATE OR REPLACE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$ SELECT r.hash $$`},
	{"become the owner", `SET ROLE ` + auditOwner},
}

// checkAuditPrivileges checks that audit_log is owner's, that the services'
// role of s writes, verifies and prunes the log and is refused the
// statements refused.
func checkAuditPrivileges(t *testing.T, s *consoledb.DB, owner string, refused []struct{ name, sql string }) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	var has string
	if err := s.Pool.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'`).Scan(&has); err != nil {
		t.Fatal(err)
	}
	if has != owner {
		t.Fatalf("audit_log owned by %s, want %s", has, owner)
	}
	addAudits(t, s, "old", now.Add(-400*24*time.Hour), 3)
	addAudits(t, s, "older-than-floor", now.Add(-190*24*time.Hour), 1)
	addAudits(t, s, "young", now.Add(-100*24*time.Hour), 2)
	if v := verify(t, s); !v.OK || v.Rows != 6 || v.LastSeq != 6 {
		t.Fatalf("inserted as the services' role: %+v", v)
	}

	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Pool.Exec(ctx, tc.sql)
			if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "42501" {
				t.Fatalf("%s: %v, want permission denied (42501)", tc.sql, err)
			}
		})
	}
	if v := verify(t, s); !v.OK || v.Rows != 6 {
		t.Fatalf("after the refused statements: %+v", v)
	}

	// Retention goes through prune_audit: a prefix of old rows, never one
	// younger than 180 days, whatever cut-off it is given.
	if n, err := s.PruneAudit(ctx, now.Add(-300*24*time.Hour), now, 2); err != nil || n != 2 {
		t.Fatalf("prune 2 rows older than 300 days: %d %v", n, err)
	}
	var n int64
	if err := s.Pool.QueryRow(ctx, `SELECT prune_audit(now(), NULL)`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("prune_audit(now()): %d %v, want the 2 rows older than 180 days", n, err)
	}
	v := verify(t, s)
	if !v.OK || v.Rows != 2 || v.PrunedSeq != 4 || v.FirstSeq != 5 {
		t.Fatalf("after pruning: %+v", v)
	}
	var users []string
	rows, err := s.Pool.Query(ctx, `SELECT username FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	users, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(users, ",") != "young,young" {
		t.Fatalf("kept %v %v, want the two young rows", users, err)
	}
}
