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

const auditColumns = `id, at, username, coalesce(department_id, 0), role, action, target, remote, user_agent, result, reason, detail`

func scanAudit(row pgx.Row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var detail []byte
	if err := row.Scan(&e.ID, &e.At, &e.Username, &e.DepartmentID, &e.Role, &e.Action, &e.Target, &e.Remote,
		&e.UserAgent, &e.Result, &e.Reason, &detail); err != nil {
		return e, err
	}
	if err := json.Unmarshal(detail, &e.Detail); err != nil {
		return e, fmt.Errorf("audit %d detail: %w", e.ID, err)
	}
	return e, nil
}

// auditRow is an entry made ready for its INSERT (prepareAudit).
type auditRow struct {
	at                                                            time.Time
	department                                                    *int64
	username, role, action, target, remote, agent, result, reason string
	detail                                                        string
}

// prepareAudit checks e and makes it storable: text PostgreSQL cannot hold
// (NUL bytes, invalid UTF-8: what an attacker sends as a username or user
// agent) gets U+FFFD in its place, so that the row of a refused attempt is
// never lost to its own content.
func prepareAudit(e store.AuditEntry) (auditRow, error) {
	if e.Action == "" {
		return auditRow{}, fmt.Errorf("add audit: empty action: %w", store.ErrInvalid)
	}
	switch e.Result {
	case "":
		e.Result = store.AuditOK
	case store.AuditOK, store.AuditRefused:
	default:
		return auditRow{}, fmt.Errorf("add audit %s: result %q is neither %s nor %s: %w",
			e.Action, e.Result, store.AuditOK, store.AuditRefused, store.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	r := auditRow{
		at: e.At, username: storable(e.Username), role: storable(e.Role), action: storable(e.Action),
		target: storable(e.Target), remote: storable(e.Remote), agent: storable(e.UserAgent),
		result: e.Result, reason: storable(e.Reason), detail: "{}",
	}
	if e.DepartmentID != 0 {
		r.department = &e.DepartmentID
	}
	if len(e.Detail) > 0 {
		detail, err := json.Marshal(storableValue(e.Detail))
		if err != nil {
			return auditRow{}, fmt.Errorf("add audit %s: detail: %w", e.Action, err)
		}
		r.detail = string(detail)
	}
	return r, nil
}

// insertAudit appends rows in one statement, so in one transaction and one
// turn on the chain's lock (the head moves once per statement), in their order.
func insertAudit(ctx context.Context, db *DB, rows []auditRow) error {
	n := len(rows)
	at, department := make([]time.Time, n), make([]*int64, n)
	// The text columns in INSERT order: username, role, action, target,
	// remote, user_agent, result, reason, detail.
	var text [9][]string
	for c := range text {
		text[c] = make([]string, n)
	}
	for i, r := range rows {
		at[i], department[i] = r.at, r.department
		for c, v := range [...]string{r.username, r.role, r.action, r.target, r.remote, r.agent, r.result, r.reason, r.detail} {
			text[c][i] = v
		}
	}
	_, err := db.Pool.Exec(ctx, `
INSERT INTO audit_log (at, department_id, username, role, action, target, remote, user_agent, result, reason, detail)
SELECT at, department_id, username, role, action, target, remote, user_agent, result, reason, detail::jsonb
FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[])
     WITH ORDINALITY AS r(at, department_id, username, role, action, target, remote, user_agent, result, reason, detail, n)
ORDER BY n`, at, department, text[0], text[1], text[2], text[3], text[4], text[5], text[6], text[7], text[8])
	return err
}

// AddAudit appends e to the audit log in a transaction of its own (see
// AuditWriter for many writers at once).
func (s *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	r, err := prepareAudit(e)
	if err != nil {
		return err
	}
	if err := insertAudit(ctx, s, []auditRow{r}); err != nil {
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
	if f.DepartmentID != 0 {
		// The department's subtree as the tree is now, and the department
		// itself even once deleted (its id stays in its rows).
		add(`(department_id = $%[1]d OR department_id IN (WITH RECURSIVE sub AS (
    SELECT id FROM departments WHERE parent_id = $%[1]d
    UNION ALL
    SELECT d.id FROM departments d JOIN sub ON d.parent_id = sub.id
) SELECT id FROM sub))`, f.DepartmentID)
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
// chain whole), at most limit of them (0: no bound; the retention job
// takes bounded batches so that no statement holds the table long), and
// returns how many. A cut-off younger than MinAuditRetention before now is
// ErrInvalid.
func (s *DB) PruneAudit(ctx context.Context, before, now time.Time, limit int64) (int64, error) {
	if before.After(now.Add(-MinAuditRetention)) {
		return 0, fmt.Errorf("prune audit before %s: keeps less than %s: %w",
			before.Format(time.RFC3339), MinAuditRetention, store.ErrInvalid)
	}
	if limit < 0 {
		return 0, fmt.Errorf("prune audit: limit %d: %w", limit, store.ErrInvalid)
	}
	var bound *int64 // NULL, which least ignores: no bound
	if limit > 0 {
		bound = &limit
	}
	// The services' role may not delete audit rows itself (migration
	// 00012): prune_audit does, as the log's owner, no younger ones.
	var n int64
	if err := s.Pool.QueryRow(ctx, `SELECT prune_audit($1, $2)`, before, bound).Scan(&n); err != nil {
		return 0, fmt.Errorf("prune audit before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}
