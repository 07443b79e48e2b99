package console

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// MaxAuditExport bounds the rows of one audit export: a larger one is
// refused (400) and asks for a narrower filter, so that one request cannot
// hold the console for minutes.
const MaxAuditExport = 100_000

// auditExportPage is the page an export reads at a time.
const auditExportPage = svcapi.MaxLimit

// auditEntryJSON is an audit row as the API shows it.
type auditEntryJSON struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Username string    `json:"username"`
	// DepartmentID is 0 for a row of nobody's department (a failed login
	// of an unknown user, an admin without one, a media open).
	DepartmentID int64          `json:"department_id"`
	Role         string         `json:"role"`
	Action       string         `json:"action"`
	Target       string         `json:"target"`
	Remote       string         `json:"remote"`
	UserAgent    string         `json:"user_agent"`
	Result       string         `json:"result"`
	Reason       string         `json:"reason"`
	Detail       map[string]any `json:"detail"`
}

func toAuditEntryJSON(e store.AuditEntry) auditEntryJSON {
	d := e.Detail
	if d == nil {
		d = map[string]any{}
	}
	return auditEntryJSON{
		ID: e.ID, At: e.At, Username: e.Username, DepartmentID: e.DepartmentID, Role: e.Role, Action: e.Action,
		Target: e.Target, Remote: e.Remote, UserAgent: e.UserAgent, Result: e.Result, Reason: e.Reason, Detail: d,
	}
}

// auditBreakJSON is one break of the chain as the API shows it.
type auditBreakJSON struct {
	Seq     int64  `json:"seq"`
	ID      int64  `json:"id"`
	Problem string `json:"problem"`
}

// auditVerificationJSON is the answer of GET /audit/verify.
type auditVerificationJSON struct {
	OK        bool             `json:"ok"`
	Rows      int64            `json:"rows"`
	FirstSeq  int64            `json:"first_seq"`
	LastSeq   int64            `json:"last_seq"`
	PrunedSeq int64            `json:"pruned_seq"`
	Breaks    []auditBreakJSON `json:"breaks"`
}

// mayReadAudit refuses everybody but admins and auditors.
func (a *API) mayReadAudit(r *http.Request, sess *auth.Session) error {
	switch sess.User.Role {
	case store.RoleAdmin, store.RoleAuditor:
		return nil
	}
	err := fmt.Errorf("read the audit log: %w", ErrForbidden)
	a.deny(r, sess, r.URL.Path, err)
	return err
}

// auditFilter reads the filter parameters: user, department (its subtree),
// channel (the target), action, from, to, limit and offset.
func auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	p, err := svcapi.ParsePage(q)
	if err != nil {
		return store.AuditFilter{}, err
	}
	f := store.AuditFilter{Username: q.Get("user"), Target: q.Get("channel"), Action: q.Get("action"), Limit: p.Limit, Offset: p.Offset}
	for key, v := range map[string]string{"user": f.Username, "channel": f.Target, "action": f.Action} {
		if len(v) > store.MaxUsernameLen {
			return store.AuditFilter{}, badRequest("%s is too long (over %d bytes)", key, store.MaxUsernameLen)
		}
	}
	if v := q.Get("department"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return store.AuditFilter{}, badRequest("department must be a department id (a positive integer), got %q", v)
		}
		f.DepartmentID = id
	}
	if f.From, err = svcapi.ParseTime("from", q.Get("from"), false); err != nil {
		return store.AuditFilter{}, err
	}
	if f.To, err = svcapi.ParseTime("to", q.Get("to"), false); err != nil {
		return store.AuditFilter{}, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return store.AuditFilter{}, badRequest("from must be before to")
	}
	return f, nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.mayReadAudit(r, sess); err != nil {
		return err
	}
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	rows, total, err := a.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, rows, total, toAuditEntryJSON)
	return nil
}

// auditExportColumns are the export's column headings.
var auditExportColumns = []string{
	"id", "at", "username", "department_id", "role", "action", "target", "remote", "user_agent", "result", "reason", "detail",
}

// auditExportRow is e as the cells of an export row. The detail is its JSON.
func auditExportRow(e store.AuditEntry) []string {
	detail, _ := json.Marshal(toAuditEntryJSON(e).Detail)
	department := ""
	if e.DepartmentID != 0 {
		department = strconv.FormatInt(e.DepartmentID, 10)
	}
	return []string{
		strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Username, department, e.Role, e.Action,
		e.Target, e.Remote, e.UserAgent, e.Result, e.Reason, string(detail),
	}
}

// csvCell defuses a cell a spreadsheet would read as a formula (=, +, -, @,
// a tab or a carriage return first): usernames of failed logins are what
// anyone typed.
func csvCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.mayReadAudit(r, sess); err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "xlsx" {
		return badRequest("format must be csv or xlsx, got %q", format)
	}
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	// Every matching row, not one page.
	f.Limit, f.Offset = auditExportPage, 0
	first, total, err := a.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	if total > MaxAuditExport {
		return badRequest("%d rows match, over the %d one export holds: narrow the filter (from, to, user, department, action, channel)",
			total, MaxAuditExport)
	}
	// The export is an access like any other: audited before it is given.
	if err := a.audit(r, sess, "audit_export", "", map[string]any{"format": format, "rows": total, "query": r.URL.RawQuery}); err != nil {
		return err
	}
	// Rows are read before the answer starts, so that a database failure
	// is still a JSON error and not half a file; newest first, and pages
	// are taken below the first page's newest row so that rows written
	// meanwhile do not shift them.
	rows := first
	if len(first) > 0 {
		f.To = first[0].At.Add(time.Microsecond)
	}
	for f.Offset = len(first); f.Offset < total; f.Offset += auditExportPage {
		page, _, err := a.Store.ListAudit(r.Context(), f)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		rows = append(rows, page...)
	}
	name := "audit-" + a.now().UTC().Format("20060102T150405Z") + "." + format
	if format == "csv" {
		return writeAuditCSV(w, rows, name)
	}
	return writeAuditXLSX(w, rows, name)
}

func writeAuditCSV(w http.ResponseWriter, rows []store.AuditEntry, name string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	// A UTF-8 byte order mark: Excel reads the Chinese names right with it.
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	_ = cw.Write(auditExportColumns)
	for _, e := range rows {
		cells := auditExportRow(e)
		for i := range cells {
			cells[i] = csvCell(cells[i])
		}
		_ = cw.Write(cells)
	}
	cw.Flush()
	// The status is sent; a failure now is the client's going away.
	return nil
}

func writeAuditXLSX(w http.ResponseWriter, rows []store.AuditEntry, name string) error {
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "Sheet1"
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	row := func(n int, cells []string) error {
		vals := make([]any, len(cells))
		for i, c := range cells {
			// Cells are strings, never formulas, whatever their text.
			vals[i] = excelize.Cell{Value: c}
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, vals)
	}
	if err := row(1, auditExportColumns); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	for i, e := range rows {
		if err := row(i+2, auditExportRow(e)); err != nil {
			return fmt.Errorf("audit export row %d: %w", e.ID, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = book.WriteTo(w)
	return nil
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.mayReadAudit(r, sess); err != nil {
		return err
	}
	v, err := a.Store.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	a.note(r, sess, "audit_verify", "", map[string]any{"ok": v.OK, "rows": v.Rows, "breaks": len(v.Breaks)})
	svcapi.WriteJSON(w, http.StatusOK, toAuditVerificationJSON(v))
	return nil
}

func toAuditVerificationJSON(v consoledb.AuditVerification) auditVerificationJSON {
	out := auditVerificationJSON{
		OK: v.OK, Rows: v.Rows, FirstSeq: v.FirstSeq, LastSeq: v.LastSeq, PrunedSeq: v.PrunedSeq,
		Breaks: make([]auditBreakJSON, 0, len(v.Breaks)),
	}
	for _, b := range v.Breaks {
		out.Breaks = append(out.Breaks, auditBreakJSON{Seq: b.Seq, ID: b.ID, Problem: b.Problem})
	}
	return out
}
