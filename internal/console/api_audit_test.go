package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// auditEnv is an API with an auditor and an operator logged in; the
// operator also failed once with a username a spreadsheet would run.
func auditEnv(t *testing.T) (e *env, auditor, operator *client) {
	e = newEnv(t, envOptions{})
	e.addUser("audrey", "audrey-password-1", store.RoleAuditor)
	e.addUser("olga", "olga-password-1", store.RoleOperator)
	r := e.client().do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "=HYPERLINK(1)", "password": "x"})
	mustStatus(t, "login with a formula", r, http.StatusUnauthorized, console.CodeInvalidCredentials)
	auditor, operator = e.client(), e.client()
	auditor.login("audrey", "audrey-password-1")
	operator.login("olga", "olga-password-1")
	return e, auditor, operator
}

type auditList struct {
	Items []struct {
		ID       int64          `json:"id"`
		Username string         `json:"username"`
		Action   string         `json:"action"`
		Detail   map[string]any `json:"detail"`
	} `json:"items"`
	Total int `json:"total"`
}

func TestAuditList(t *testing.T) {
	e, auditor, _ := auditEnv(t)
	for _, tc := range []struct {
		query string
		total int
	}{
		{"user=olga", 1},
		{"user=audrey&user=olga", 1},
		{"user=olga&action=login", 1},
		{"action=login_failed", 1},
		{"user=nobody", 0},
		{"from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z", 0},
		{"from=2000-01-01T00:00:00&limit=1&action=login_failed", 1},
	} {
		var got auditList
		r := auditor.do(http.MethodGet, "/api/v1/audit?"+tc.query, nil)
		mustStatus(t, tc.query, r, http.StatusOK, "")
		r.json(t, &got)
		if got.Total != tc.total {
			t.Errorf("?%s: total %d, want %d: %s", tc.query, got.Total, tc.total, r.Body)
		}
	}
	for _, query := range []string{
		"from=yesterday", "to=2024-13-01", "from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z",
		"limit=0", "department=x", "user=" + strings.Repeat("u", 129),
	} {
		mustStatus(t, query, auditor.do(http.MethodGet, "/api/v1/audit?"+query, nil), http.StatusBadRequest, console.CodeBadRequest)
	}
	if got := e.actions("audrey")["audit_export"]; got != 0 {
		t.Errorf("searching is not an export: %d audit_export rows", got)
	}
}

// TestAuditRoles: only admins and auditors read the log; the refusals are audited.
func TestAuditRoles(t *testing.T) {
	e, _, operator := auditEnv(t)
	for _, path := range []string{"/api/v1/audit", "/api/v1/audit/export?format=csv", "/api/v1/audit/verify"} {
		mustStatus(t, path, operator.do(http.MethodGet, path, nil), http.StatusForbidden, console.CodeForbidden)
	}
	if n := e.actions("olga")[console.ActionDenied]; n != 3 {
		t.Errorf("olga's refusals audited: %d, want 3", n)
	}
	e.addUser("root", "root-password-1", store.RoleAdmin)
	admin := e.client()
	admin.login("root", "root-password-1")
	mustStatus(t, "admin", admin.do(http.MethodGet, "/api/v1/audit/verify", nil), http.StatusOK, "")
}

func TestAuditExport(t *testing.T) {
	e, auditor, _ := auditEnv(t)
	r := auditor.do(http.MethodGet, "/api/v1/audit/export?format=csv", nil)
	mustStatus(t, "csv", r, http.StatusOK, "")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), `attachment; filename="audit-`) {
		t.Fatalf("csv headers: %v", r.Header)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The heading and every row but the export's own, written after the read.
	_, total, err := e.st.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+total-1 || strings.Join(rows[0], ",") != "id,at,username,department_id,role,action,target,remote,user_agent,result,reason,detail" {
		t.Fatalf("csv: %q", rows)
	}
	found := false
	for _, row := range rows[1:] {
		if row[5] == "login_failed" {
			found = row[2] == "'=HYPERLINK(1)"
		}
	}
	if !found {
		t.Errorf("the formula username is not defused: %q", rows)
	}
	if e.actions("audrey")["audit_export"] != 1 {
		t.Errorf("the export is not audited: %v", e.actions("audrey"))
	}

	r = auditor.do(http.MethodGet, "/api/v1/audit/export?format=xlsx&user=olga", nil)
	mustStatus(t, "xlsx", r, http.StatusOK, "")
	book, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	sheet, err := book.GetRows("Sheet1")
	if err != nil || len(sheet) != 2 || sheet[1][2] != "olga" || sheet[1][4] != store.RoleOperator || sheet[1][5] != "login" || sheet[1][9] != store.AuditOK {
		t.Fatalf("xlsx: %q %v", sheet, err)
	}

	for _, query := range []string{"", "format=pdf", "format=csv&from=never"} {
		mustStatus(t, query, auditor.do(http.MethodGet, "/api/v1/audit/export?"+query, nil), http.StatusBadRequest, console.CodeBadRequest)
	}
	e.breakAudit()
	mustStatus(t, "export without audit", auditor.do(http.MethodGet, "/api/v1/audit/export?format=csv", nil),
		http.StatusServiceUnavailable, console.CodeAuditUnavailable)
}

type verification struct {
	OK     bool  `json:"ok"`
	Rows   int64 `json:"rows"`
	Breaks []struct {
		Seq     int64  `json:"seq"`
		Problem string `json:"problem"`
	} `json:"breaks"`
}

func TestAuditVerify(t *testing.T) {
	e, auditor, _ := auditEnv(t)
	var v verification
	r := auditor.do(http.MethodGet, "/api/v1/audit/verify", nil)
	mustStatus(t, "verify", r, http.StatusOK, "")
	r.json(t, &v)
	if !v.OK || v.Rows < 3 || len(v.Breaks) != 0 {
		t.Fatalf("intact log: %s", r.Body)
	}
	// The database owner edits a row behind the console's back.
	_, err := e.st.Pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard;
UPDATE audit_log SET username = 'someone' WHERE action = 'login' AND username = 'olga';
ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard`)
	if err != nil {
		t.Fatal(err)
	}
	r = auditor.do(http.MethodGet, "/api/v1/audit/verify", nil)
	mustStatus(t, "verify", r, http.StatusOK, "")
	r.json(t, &v)
	if v.OK || len(v.Breaks) != 1 || !strings.Contains(v.Breaks[0].Problem, "edited") {
		t.Fatalf("edited log: %s", r.Body)
	}
	var rows auditList
	auditor.do(http.MethodGet, "/api/v1/audit?action=audit_verify&"+url.Values{"user": {"audrey"}}.Encode(), nil).json(t, &rows)
	if rows.Total != 2 {
		t.Errorf("verify audited %d times, want 2", rows.Total)
	}
}

// TestAuditRefusalAnswer: a refusal's row records the status and code the
// client got (one mapping: someone else's session is the 404 of an unknown
// one, not a 500), as a refusal with its reason, the user's role and
// department, and the user agent.
func TestAuditRefusalAnswer(t *testing.T) {
	tm := newTeam(t, envOptions{})
	r := tm.olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback",
		map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"})
	mustStatus(t, "playback", r, http.StatusOK, "")
	var p playAnswer
	r.json(t, &p)
	noCSRF := tm.client()
	noCSRF.login("olga", "olga-password")
	noCSRF.csrf = ""
	for _, tc := range []struct {
		name   string
		user   string
		do     func() response
		status int
		code   string
	}{
		{
			"operator reads the audit log", "olga", func() response { return tm.olga.do(http.MethodGet, "/api/v1/audit", nil) },
			http.StatusForbidden, console.CodeForbidden,
		},
		{"someone else's playback", "ivan", func() response {
			return tm.ivan.do(http.MethodPost, "/api/v1/playback/"+p.SessionID+"/control", `{"action":"pause"}`)
		}, http.StatusNotFound, console.CodeNotFound},
		{"an admin's control of it", "root", func() response {
			return tm.root.do(http.MethodPost, "/api/v1/playback/"+p.SessionID+"/control", `{"action":"pause"}`)
		}, http.StatusNotFound, console.CodeNotFound},
		{"no CSRF token", "olga", func() response {
			return noCSRF.do(http.MethodDelete, "/api/v1/playback/"+p.SessionID, nil)
		}, http.StatusForbidden, console.CodeCSRF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.do()
			mustStatus(t, tc.name, got, tc.status, tc.code)
			rows, _, err := tm.st.ListAudit(context.Background(), store.AuditFilter{Username: tc.user, Action: console.ActionDenied, Limit: 1})
			if err != nil || len(rows) != 1 {
				t.Fatalf("%+v %v", rows, err)
			}
			e := rows[0]
			if e.Detail["status"] != float64(tc.status) || e.Detail["code"] != tc.code {
				t.Errorf("row records %v %v, the client got %d %s", e.Detail["status"], e.Detail["code"], tc.status, tc.code)
			}
			u, err := tm.st.UserByName(context.Background(), tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if e.Result != store.AuditRefused || e.Reason == "" || e.Reason != e.Detail["reason"] || e.Role != u.Role ||
				e.DepartmentID != u.DepartmentID || e.UserAgent == "" {
				t.Errorf("row %+v", e)
			}
		})
	}
}

// TestAuditWho: the answer and the exports show department, role, user
// agent, result and reason; ?department= selects a department's subtree.
func TestAuditWho(t *testing.T) {
	e, auditor, operator := auditEnv(t)
	mustStatus(t, "operator", operator.do(http.MethodGet, "/api/v1/audit/verify", nil), http.StatusForbidden, console.CodeForbidden)
	olga, err := e.st.UserByName(context.Background(), "olga")
	if err != nil || olga.DepartmentID == 0 {
		t.Fatalf("%+v %v", olga, err)
	}
	var got struct {
		Items []struct {
			Username     string `json:"username"`
			DepartmentID int64  `json:"department_id"`
			Role         string `json:"role"`
			Action       string `json:"action"`
			UserAgent    string `json:"user_agent"`
			Result       string `json:"result"`
			Reason       string `json:"reason"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r := auditor.do(http.MethodGet, "/api/v1/audit?department="+strconv.FormatInt(olga.DepartmentID, 10), nil)
	mustStatus(t, "by department", r, http.StatusOK, "")
	r.json(t, &got)
	// olga's login and refusal (the auditor, also of the department, logged in too), each with its client's user agent.
	byAction := map[string]int{}
	for _, it := range got.Items {
		if it.DepartmentID != olga.DepartmentID || it.Role == "" || it.UserAgent == "" {
			t.Errorf("row %+v", it)
		}
		if it.Username == "olga" {
			byAction[it.Action+"/"+it.Result]++
		}
	}
	if byAction["login/ok"] != 1 || byAction[console.ActionDenied+"/refused"] != 1 {
		t.Errorf("olga's rows by department: %v in %+v", byAction, got.Items)
	}
	r = auditor.do(http.MethodGet, "/api/v1/audit?action=login_failed", nil)
	r.json(t, &got)
	if got.Total != 1 || got.Items[0].Result != store.AuditRefused || got.Items[0].Reason != "unknown user" || got.Items[0].DepartmentID != 0 {
		t.Errorf("failed login: %+v", got.Items)
	}
	r = auditor.do(http.MethodGet, "/api/v1/audit?department=99999999", nil)
	r.json(t, &got)
	if got.Total != 0 {
		t.Errorf("unknown department: %d rows", got.Total)
	}
	for _, q := range []string{"department=x", "department=0", "department=-1"} {
		mustStatus(t, q, auditor.do(http.MethodGet, "/api/v1/audit?"+q, nil), http.StatusBadRequest, console.CodeBadRequest)
	}
	r = auditor.do(http.MethodGet, "/api/v1/audit/export?format=csv&user=olga", nil)
	mustStatus(t, "csv", r, http.StatusOK, "")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%q %v", recs, err)
	}
	want := []string{"id", "at", "username", "department_id", "role", "action", "target", "remote", "user_agent", "result", "reason", "detail"}
	if strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Fatalf("columns %q", recs[0])
	}
	// Newest first: the refusal, then the login.
	if row := recs[1]; row[3] != strconv.FormatInt(olga.DepartmentID, 10) || row[4] != store.RoleOperator || row[8] == "" ||
		row[9] != store.AuditRefused || row[10] == "" {
		t.Errorf("refusal row %q", row)
	}
}
