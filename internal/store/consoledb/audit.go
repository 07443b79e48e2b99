package consoledb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
)

const auditColumns = `id, at, username, action, target, remote, detail`

func scanAudit(row pgx.Row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var detail []byte
	if err := row.Scan(&e.ID, &e.At, &e.Username, &e.Action, &e.Target, &e.Remote, &detail); err != nil {
		return e, err
	}
	if err := json.Unmarshal(detail, &e.Detail); err != nil {
		return e, fmt.Errorf("audit %d detail: %w", e.ID, err)
	}
	return e, nil
}

// AddAudit appends e to the audit log. Text PostgreSQL cannot hold (NUL
// bytes, invalid UTF-8: what an attacker sends as a username) is stored
// with U+FFFD in its place, so that the row of a refused attempt is never
// lost to its own content.
func (s *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("add audit: empty action: %w", store.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.Username, e.Action, e.Target, e.Remote = storable(e.Username), storable(e.Action), storable(e.Target), storable(e.Remote)
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(storableValue(e.Detail)); err != nil {
			return fmt.Errorf("add audit %s: detail: %w", e.Action, err)
		}
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO audit_log (at, username, action, target, remote, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.At, e.Username, e.Action, e.Target, e.Remote, detail)
	if err != nil {
		return fmt.Errorf("add audit %s: %w", e.Action, err)
	}
	return nil
}

// storable returns s with NUL bytes and invalid UTF-8 replaced by U+FFFD.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// storableValue applies storable to every string (keys too) of a detail
// value; jsonb refuses \u0000 even where JSON allows it.
func storableValue(v any) any {
	switch v := v.(type) {
	case string:
		return storable(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[storable(k)] = storableValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = storableValue(x)
		}
		return out
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = storable(x)
		}
		return out
	}
	return v
}

// ListAudit returns one page of audit entries, newest first, and the total number matching.
func (s *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Username != "" {
		add("username = $%d", f.Username)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Target != "" {
		add("target = $%d", f.Target)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	return store.ListPage(ctx, s.Pool, "audit_log", auditColumns, store.Conds{Where: where, Args: args}, "at DESC, id DESC",
		f.Limit, f.Offset, scanAudit)
}
