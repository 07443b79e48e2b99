package consoledb

import (
	"bytes"
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

// MinAuditRetention is the shortest time audit rows are kept (等保 asks for
// 180 days). The database refuses to delete a younger row whatever asks it
// (migration 00010); PruneAudit refuses such a cut-off before asking.
const MinAuditRetention = 180 * 24 * time.Hour

// maxAuditBreaks bounds the breaks VerifyAudit lists: one edit is enough
// to distrust the log, and a wholesale rewrite must not fill the answer.
const maxAuditBreaks = 100

// AuditBreak is one place where the audit log's hash chain does not hold.
type AuditBreak struct {
	// Seq is the row's place in the chain; ID its audit_log id (0 for the
	// chain's head).
	Seq, ID int64
	// Problem says what is wrong: edited, missing rows before it, or a
	// link that points elsewhere.
	Problem string
}

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	// OK is true when every kept row is intact, in order and linked, and
	// the newest one is the chain's head.
	OK bool
	// Rows is the number of rows checked; FirstSeq and LastSeq the range
	// of their places in the chain (0 when none is kept).
	Rows, FirstSeq, LastSeq int64
	// PrunedSeq is the last place retention removed (0: none).
	PrunedSeq int64
	// Breaks lists the first problems found, in chain order (at most 100).
	Breaks []AuditBreak
}

// VerifyAudit checks the audit log's hash chain in one snapshot: every
// row's hash against its fields (audit_row_hash, the definition the insert
// used), every row's link to the row before it, gapless places from the
// retention mark on, the newest row against the chain's head, and that
// retention removed no row younger than MinAuditRetention. It finds a row
// edited, deleted (anywhere, the newest too) or inserted other than
// through the chain.
func (s *DB) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var headSeq, prunedSeq int64
		var headHash, prunedHash []byte
		var prunedAt *time.Time
		var prunedYoung bool
		// The retention floor is the database's clock, as the guard's is.
		if err := tx.QueryRow(ctx, `SELECT seq, hash, pruned_seq, pruned_hash, pruned_at,
       coalesce(pruned_at > now() - make_interval(secs => $1), false) FROM audit_chain`, MinAuditRetention.Seconds()).
			Scan(&headSeq, &headHash, &prunedSeq, &prunedHash, &prunedAt, &prunedYoung); err != nil {
			return fmt.Errorf("chain head: %w", err)
		}
		v.PrunedSeq = prunedSeq
		if prunedYoung {
			v.Breaks = append(v.Breaks, AuditBreak{Seq: prunedSeq, Problem: fmt.Sprintf(
				"rows younger than %s were deleted: the newest removed was written at %s",
				MinAuditRetention, prunedAt.UTC().Format(time.RFC3339))})
		}
		var lastHash []byte
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0),
       (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) FROM audit_log`).
			Scan(&v.Rows, &v.FirstSeq, &v.LastSeq, &lastHash); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		// Only the rows that fail a check come back: a million good rows
		// are checked inside PostgreSQL.
		rows, err := tx.Query(ctx, `
SELECT seq, id, intact, linked, step FROM (
    SELECT seq, id, hash = audit_row_hash(prev_hash, a) AS intact,
           prev_hash = coalesce(lag(hash) OVER w, $1) AS linked,
           seq - coalesce(lag(seq) OVER w, $2) AS step
    FROM audit_log a WINDOW w AS (ORDER BY seq)
) c WHERE NOT intact OR NOT linked OR step <> 1 ORDER BY seq LIMIT $3`, prunedHash, prunedSeq, maxAuditBreaks-len(v.Breaks))
		if err != nil {
			return fmt.Errorf("check rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq, id, step int64
			var intact, linked bool
			if err := rows.Scan(&seq, &id, &intact, &linked, &step); err != nil {
				return fmt.Errorf("check rows: %w", err)
			}
			switch {
			case !intact:
				v.Breaks = append(v.Breaks, AuditBreak{Seq: seq, ID: id, Problem: "row edited: its hash does not match its fields"})
			case step != 1:
				v.Breaks = append(v.Breaks, AuditBreak{Seq: seq, ID: id, Problem: fmt.Sprintf("%d row(s) missing before it", step-1)})
			default:
				v.Breaks = append(v.Breaks, AuditBreak{Seq: seq, ID: id, Problem: "link broken: the previous row was changed"})
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("check rows: %w", err)
		}
		// The newest row is the head; with none kept, the retention mark is.
		lastSeq := v.LastSeq
		if v.Rows == 0 {
			lastSeq, lastHash = prunedSeq, prunedHash
		}
		if lastSeq != headSeq || !bytes.Equal(lastHash, headHash) {
			if len(v.Breaks) < maxAuditBreaks {
				v.Breaks = append(v.Breaks, AuditBreak{Seq: headSeq, Problem: fmt.Sprintf(
					"the chain's head is row %d but the newest row kept is %d: rows deleted at the end", headSeq, lastSeq)})
			}
		}
		return nil
	})
	if err != nil {
		return AuditVerification{}, fmt.Errorf("verify audit: %w", err)
	}
	v.OK = len(v.Breaks) == 0
	return v, nil
}

// PruneAudit deletes the oldest audit rows, those before the first row at
// or after before (a prefix of the chain, so that verify finds the kept
// chain whole), and returns how many. A cut-off younger than
// MinAuditRetention before now is ErrInvalid.
func (s *DB) PruneAudit(ctx context.Context, before, now time.Time) (int64, error) {
	if before.After(now.Add(-MinAuditRetention)) {
		return 0, fmt.Errorf("prune audit before %s: keeps less than %s: %w",
			before.Format(time.RFC3339), MinAuditRetention, store.ErrInvalid)
	}
	tag, err := s.Pool.Exec(ctx, `
DELETE FROM audit_log WHERE seq < coalesce(
    (SELECT min(seq) FROM audit_log WHERE at >= $1),
    (SELECT seq + 1 FROM audit_chain))`, before)
	if err != nil {
		return 0, fmt.Errorf("prune audit before %s: %w", before.Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}
