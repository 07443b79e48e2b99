package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/console/web"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// fakeAccounts is the administration part of the fake API: departments,
// users, grants, owners and the audit log, in memory. It records the bodies
// the UI sends.
type fakeAccounts struct {
	mu     sync.Mutex
	depts  []map[string]any
	users  []map[string]any
	grants []map[string]any
	// platforms and platformGrants are the superior platforms and their grants.
	platforms      []map[string]any
	platformGrants []map[string]any
	bodies         map[string][]map[string]any // "METHOD path" → bodies
	audit          []string                    // query strings of GET /audit
	nextID         int
}

var fakeCreated = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC).Format(time.RFC3339)

func newFakeAccounts() *fakeAccounts {
	f := &fakeAccounts{bodies: map[string][]map[string]any{}, nextID: 10, platforms: []map[string]any{}}
	f.depts = []map[string]any{{
		"id": 1, "name": "市公安局", "parent_id": nil, "level": "city", "civil_code": "3402",
		"created_at": fakeCreated, "updated_at": fakeCreated,
	}}
	f.users = []map[string]any{f.account(2, "lisi", 1, "operator")}
	return f
}

func (f *fakeAccounts) account(id int, name string, dept any, role string) map[string]any {
	return map[string]any{
		"id": id, "username": name, "department_id": dept, "role": role, "disabled": false, "disabled_reason": "",
		"disabled_at": nil, "must_change_password": true, "last_login_at": nil, "created_at": fakeCreated,
	}
}

// sent returns the bodies sent to "METHOD path".
func (f *fakeAccounts) sent(call string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.bodies[call]...)
}

func (f *fakeAccounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		_ = json.NewDecoder(r.Body).Decode(&body)
		call := r.Method + " " + r.URL.Path
		f.bodies[call] = append(f.bodies[call], body)
	}
	f.nextID++
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	list := func(items []map[string]any) map[string]any {
		return map[string]any{"items": items, "total": len(items)}
	}
	switch {
	case path == "/departments" && r.Method == http.MethodGet:
		writeJSON(w, 200, list(f.depts))
	case path == "/departments" && r.Method == http.MethodPost:
		d := map[string]any{
			"id": f.nextID, "name": body["name"], "parent_id": body["parent_id"], "level": body["level"],
			"civil_code": body["civil_code"], "created_at": fakeCreated, "updated_at": fakeCreated,
		}
		f.depts = append(f.depts, d)
		writeJSON(w, 201, d)
	case strings.HasPrefix(path, "/departments/") && r.Method == http.MethodPatch:
		for _, d := range f.depts {
			if fmt.Sprint(d["id"]) != strings.TrimPrefix(path, "/departments/") {
				continue
			}
			if fmt.Sprint(d["parent_id"]) != fmt.Sprint(body["parent_id"]) && r.URL.Query().Get("move_users") != "true" {
				writeJSON(w, 409, map[string]string{"error": "the department has users; move them with it", "code": "conflict"})
				return
			}
			for k, v := range body {
				d[k] = v
			}
			writeJSON(w, 200, d)
			return
		}
		writeJSON(w, 404, map[string]string{"error": "no department", "code": "not_found"})
	case path == "/users" && r.Method == http.MethodGet:
		writeJSON(w, 200, list(f.users))
	case path == "/users" && r.Method == http.MethodPost:
		if body["username"] == "lisi" {
			writeJSON(w, 409, map[string]string{"error": "username lisi is taken", "code": "conflict"})
			return
		}
		u := f.account(f.nextID, body["username"].(string), body["department_id"], body["role"].(string))
		f.users = append(f.users, u)
		writeJSON(w, 201, u)
	case strings.HasPrefix(path, "/users/") && strings.HasSuffix(path, "/sessions/revoke"):
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "/users/") && strings.HasSuffix(path, "/password-reset"):
		writeJSON(w, 200, map[string]any{"sessions_ended": 1, "must_change_password": true})
	case strings.HasPrefix(path, "/users/") && r.Method == http.MethodPatch:
		id, _ := strconv.Atoi(strings.TrimPrefix(path, "/users/"))
		for _, u := range f.users {
			if u["id"] == id {
				u["disabled"] = body["disabled"]
				u["disabled_reason"] = body["disabled_reason"]
				if u["disabled_reason"] == nil {
					u["disabled_reason"] = ""
				}
				writeJSON(w, 200, u)
				return
			}
		}
		writeJSON(w, 404, map[string]string{"error": "no user", "code": "not_found"})
	case strings.HasPrefix(path, "/departments/") && strings.HasSuffix(path, "/grants") && r.Method == http.MethodGet:
		dept, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/departments/"), "/grants"))
		out := []map[string]any{}
		for _, g := range f.grants {
			if g["department_id"] == dept {
				out = append(out, g)
			}
		}
		writeJSON(w, 200, list(out))
	case strings.HasPrefix(path, "/departments/") && strings.HasSuffix(path, "/grants"):
		dept, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/departments/"), "/grants"))
		g := map[string]any{
			"id": f.nextID, "department_id": dept, "scope": body["scope"], "rights": body["rights"], "ptz_priority": 5,
			"created_by": "admin", "created_at": fakeCreated,
		}
		if p, ok := body["ptz_priority"]; ok {
			g["ptz_priority"] = p
		}
		if hrs, ok := body["hours"]; ok {
			g["hours"] = hrs
		}
		f.grants = append(f.grants, g)
		writeJSON(w, 201, g)
	case strings.HasPrefix(path, "/devices/") && strings.HasSuffix(path, "/owner"),
		strings.HasPrefix(path, "/channels/") && strings.HasSuffix(path, "/owner"):
		id := strings.Split(path, "/")[2]
		writeJSON(w, 200, map[string]any{"id": id, "department_id": body["department_id"]})
	case path == "/platforms" && r.Method == http.MethodGet:
		writeJSON(w, 200, list(f.platforms))
	case path == "/platforms" && r.Method == http.MethodPost:
		p := map[string]any{
			"id": f.nextID, "password_set": body["password"] != nil, "status": "failing",
			"last_error": "uplink: no answer: REGISTER to 10.1.2.3:5060 within 10s", "last_keepalive": nil,
			"registered_at": nil, "shared_channels": 0, "upward_streams": 0, "created_by": "admin",
			"created_at": fakeCreated, "updated_at": fakeCreated,
		}
		for k, v := range body {
			if k != "password" {
				p[k] = v
			}
		}
		if p["domain"] == "" {
			p["domain"] = p["server_id"].(string)[:10]
		}
		if p["local_id"] == "" {
			p["local_id"] = "34020000002000000001"
		}
		f.platforms = append(f.platforms, p)
		writeJSON(w, 201, p)
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/names") && r.Method == http.MethodGet:
		writeJSON(w, 200, list([]map[string]any{}))
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/names"):
		items, _ := body["items"].([]any)
		writeJSON(w, 200, map[string]any{"items": items, "total": len(items)})
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/groups") && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"groups": []any{}, "channels": []any{}})
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/groups"):
		writeJSON(w, 200, map[string]any{"groups": body["groups"], "channels": body["channels"]})
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/grants") && r.Method == http.MethodGet:
		id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/platforms/"), "/grants"))
		out := []map[string]any{}
		for _, g := range f.platformGrants {
			if g["platform_id"] == id {
				out = append(out, g)
			}
		}
		writeJSON(w, 200, list(out))
	case strings.HasPrefix(path, "/platforms/") && strings.HasSuffix(path, "/grants"):
		id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/platforms/"), "/grants"))
		g := map[string]any{
			"id": f.nextID, "platform_id": id, "scope": body["scope"], "rights": body["rights"], "ptz_priority": 5,
			"created_by": "admin", "created_at": fakeCreated,
		}
		f.platformGrants = append(f.platformGrants, g)
		for _, p := range f.platforms {
			if p["id"] == id {
				// The sipserver registered meanwhile.
				p["status"], p["last_error"], p["shared_channels"] = "registered", "", 1
				p["last_keepalive"] = fakeCreated
			}
		}
		writeJSON(w, 201, g)
	case path == "/audit":
		f.audit = append(f.audit, r.URL.RawQuery)
		writeJSON(w, 200, list([]map[string]any{{
			"id": 7, "at": fakeCreated, "username": "lisi", "department_id": 1, "role": "operator", "action": "play",
			"target": fakeChannel, "remote": "192.0.2.7", "user_agent": "test", "result": "refused", "reason": "no live right",
			"detail": map[string]any{},
		}}))
	case path == "/audit/verify":
		writeJSON(w, 200, map[string]any{"ok": true, "rows": 1, "first_seq": 1, "last_seq": 1, "pruned_seq": 0, "breaks": []any{}})
	default:
		writeJSON(w, 404, map[string]string{"error": "no route " + r.URL.Path, "code": "not_found"})
	}
}

// platformID is the ID of the last platform created, as in its paths.
func (f *fakeAccounts) platformID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprint(f.platforms[len(f.platforms)-1]["id"])
}

// idOf is the ID of the user or department the fake knows by name, as in
// its paths.
func (f *fakeAccounts) idOf(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range append(append([]map[string]any(nil), f.users...), f.depts...) {
		if x["username"] == name || x["name"] == name {
			return fmt.Sprint(x["id"])
		}
	}
	return ""
}

func (f *fakeAccounts) auditQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.audit...)
}

// adminPage serves the UI against the fake API (validated against the
// OpenAPI document) signed in with role and opens path.
func adminPage(t *testing.T, role, path string) (*page, *fakeAPI, *fakeAccounts, func() []string) {
	t.Helper()
	accounts := newFakeAccounts()
	api := &fakeAPI{loggedIn: true, role: role, accounts: accounts, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/api/", validated(t, api))
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	api.base = srv.URL
	t.Cleanup(func() {
		close(api.stop)
		srv.Close()
	})
	ctx := browsertest.New(t)
	problems := watchProblems(ctx)
	// Bounds for a broken build on a busy machine, not expectations.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	pg := &page{t: t, ctx: ctx}
	pg.run("open the page", chromedp.Navigate(srv.URL+path))
	pg.poll("shell shown", vis("logout"))
	return pg, api, accounts, problems
}

// TestAdminInBrowser creates a department, a user and a grant, sets an
// owner and searches the audit log, as an admin.
func TestAdminInBrowser(t *testing.T) {
	pg, api, acc, problems := adminPage(t, "admin", "/admin")
	pg.poll("admin area", vis("dept-1")+` && location.pathname === '/admin' && `+text("nav-admin")+` === '系统管理'`)

	// A department: the form checks the civil code before sending.
	pg.click("new department", "dept-new")
	pg.fill("dept-name", "城东分局")
	pg.fill("dept-parent", "1")
	pg.fill("dept-level", "unit")
	pg.fill("dept-civil", "340")
	pg.click("save", "dept-save")
	pg.poll("bad civil code refused", vis("dept-error")+` && `+text("dept-error")+`.includes('行政区划代码')`)
	if n := len(acc.sent("POST /api/v1/departments")); n != 0 {
		t.Fatalf("%d departments sent with a bad civil code", n)
	}
	pg.fill("dept-civil", "340201")
	pg.click("save", "dept-save")
	pg.poll("department listed", `[...document.querySelectorAll('[data-testid="dept-list"] .admin-row')].some(e => e.textContent.includes('城东分局'))`)
	if got := acc.sent("POST /api/v1/departments"); len(got) != 1 || fmt.Sprint(got[0]) != "map[civil_code:340201 level:unit name:城东分局 parent_id:1]" {
		t.Errorf("department bodies %v", got)
	}

	pg.shot("admin-departments")

	// Moving it to the top is refused while it has users, then done with
	// them; under itself is refused before asking.
	dept := acc.idOf("城东分局")
	pg.click("edit the department", "dept-"+dept)
	pg.fill("dept-parent", dept)
	pg.click("save", "dept-save")
	pg.poll("cycle refused", text("dept-error")+`.includes('下级')`)
	pg.fill("dept-parent", "")
	pg.click("save", "dept-save")
	pg.poll("move asked", vis("ask-ok")+` && document.querySelector('dialog').textContent.includes('the department has users')`)
	pg.click("move with users", "ask-ok")
	testsupport.Eventually(t, uiWait, "moved with its users", func() bool {
		return len(acc.sent("PATCH /api/v1/departments/"+dept)) == 2
	})
	pg.poll("moved to the top", `document.querySelector('[data-testid="dept-`+dept+`"]').style.paddingLeft === '8px'`)

	// A user: a taken name shows the server's message.
	pg.click("users tab", "admin-tab-users")
	pg.poll("user table", vis("user-row-lisi"))
	pg.fill("user-username", "lisi")
	pg.fill("user-password", "Initial-pw1")
	pg.fill("user-dept", "1")
	pg.fill("user-role", "operator")
	pg.click("create", "user-create")
	pg.poll("conflict shown", text("user-error")+` === 'username lisi is taken'`)
	pg.fill("user-username", "zhangsan")
	pg.click("create", "user-create")
	pg.poll("user listed", vis("user-row-zhangsan"))
	zhangsan := acc.idOf("zhangsan")
	got := acc.sent("POST /api/v1/users")
	if len(got) != 2 || fmt.Sprint(got[1]) != "map[department_id:1 password:Initial-pw1 role:operator username:zhangsan]" {
		t.Errorf("user bodies %v", got)
	}
	// Disabling asks for a reason in a dialog.
	pg.click("disable", "user-disable-lisi")
	pg.poll("dialog", vis("ask-reason"))
	pg.fill("ask-reason", "调离")
	pg.click("confirm", "ask-ok")
	pg.poll("user disabled", text("user-row-lisi")+`.includes('已停用（调离）')`)
	pg.shot("admin-users")
	// A reset password is checked before it is sent; revoking asks first.
	pg.click("reset", "user-reset-zhangsan")
	pg.fill("ask-password", "short")
	pg.click("confirm", "ask-ok")
	pg.poll("short password refused", text("ask-error")+`.includes('8')`)
	pg.fill("ask-password", "Reset-pw-22")
	pg.click("confirm", "ask-ok")
	pg.click("revoke", "user-revoke-zhangsan")
	pg.click("confirm", "ask-ok")
	testsupport.Eventually(t, uiWait, "reset and revoke sent", func() bool {
		return api.called("POST /api/v1/users/"+zhangsan+"/sessions/revoke") && len(acc.sent("POST /api/v1/users/"+zhangsan+"/password-reset")) == 1
	})
	if got := acc.sent("POST /api/v1/users/" + zhangsan + "/password-reset"); fmt.Sprint(got) != "[map[password:Reset-pw-22]]" {
		t.Errorf("reset bodies %v", got)
	}

	// A grant of one channel picked in the tree, with PTZ and daily hours.
	pg.click("grants tab", "admin-tab-grants")
	pg.fill("grant-dept", "1")
	pg.click("pick channels", "grant-kind-channels")
	pg.poll("tree with checkboxes", vis("tree-check-"+fakeChannel))
	pg.click("tick a channel", "tree-check-"+fakeChannel)
	pg.poll("pick summarised", text("grant-summary")+`.includes('东门入口')`)
	pg.click("tick playback", "grant-right-playback")
	pg.click("tick ptz", "grant-right-ptz")
	pg.fill("grant-ptz", "7")
	pg.fill("grant-hours-from", "08:00")
	pg.click("grant", "grant-create")
	pg.poll("hours checked", text("grant-error")+`.includes('每日时段')`)
	pg.fill("grant-hours-to", "20:00")
	pg.click("grant", "grant-create")
	pg.poll("grant listed", `!!document.querySelector('[data-testid="grant-list"] .grant-item')`)
	pg.click("tick again to show the picker", "tree-check-"+fakeChannel)
	pg.shot("admin-grants")
	if got := acc.sent("POST /api/v1/departments/1/grants"); len(got) != 1 ||
		fmt.Sprint(got[0]) != "map[hours:08:00-20:00 ptz_priority:7 rights:[live playback ptz] scope:map[channel_ids:["+fakeChannel+"] kind:channels]]" {
		t.Errorf("grant bodies %v", got)
	}

	// Ownership of a device.
	pg.click("ownership tab", "admin-tab-ownership")
	pg.click("pick devices", "owner-kind-device")
	pg.poll("device pick button", vis("tree-add-"+fakeDevice))
	pg.click("pick the device", "tree-add-"+fakeDevice)
	pg.fill("owner-dept", "1")
	pg.shot("admin-ownership")
	pg.click("set owner", "owner-set")
	testsupport.Eventually(t, uiWait, "owner set", func() bool { return len(acc.sent("PUT /api/v1/devices/"+fakeDevice+"/owner")) == 1 })

	// A superior platform: the form checks the ID, the list shows the link
	// state, and a device picked in the tree is shared with it.
	pg.click("platforms tab", "admin-tab-platforms")
	pg.poll("platform panel", vis("plat-save")+` && `+text("plat-list")+`.includes('还没有上级平台')`)
	pg.fill("plat-name", "市级平台")
	pg.fill("plat-server-id", "3402000000200")
	pg.fill("plat-host", "10.1.2.3")
	pg.fill("plat-password", "s3cret")
	pg.click("save", "plat-save")
	pg.poll("short ID refused", text("plat-error")+`.includes('20 位数字')`)
	pg.fill("plat-server-id", "34020000002000000009")
	pg.click("save", "plat-save")
	plat := ""
	testsupport.Eventually(t, uiWait, "platform created", func() bool {
		got := acc.sent("POST /api/v1/platforms")
		if len(got) == 1 {
			plat = acc.platformID()
		}
		return len(got) == 1
	})
	pg.poll("failing shown with the reason", text("plat-status-"+plat)+` === '注册失败' && `+text("plat-list")+`.includes('REGISTER to 10.1.2.3:5060')`)
	if got := acc.sent("POST /api/v1/platforms"); fmt.Sprint(got[0]) != "map[charset:GB2312 domain: enabled:true expires:3600 gb_version:2016 "+
		"host:10.1.2.3 keepalive_count:3 keepalive_interval:60 local_id: name:市级平台 password:s3cret port:5060 server_id:34020000002000000009 transport:udp]" {
		t.Errorf("platform body %v", got[0])
	}
	pg.poll("grants of the platform", vis("pgrant-create")+` && `+text("pgrant-list")+`.includes('尚未共享')`)
	pg.click("pick devices", "pgrant-kind-device")
	pg.poll("device pick button", vis("tree-add-"+fakeDevice))
	pg.click("pick the device", "tree-add-"+fakeDevice)
	pg.click("share", "pgrant-create")
	pg.poll("shared and registered", `!!document.querySelector('[data-testid="pgrant-list"] .grant-item') && `+text("plat-status-"+plat)+` === '已注册'`)
	if got := acc.sent("POST /api/v1/platforms/" + plat + "/grants"); len(got) != 1 ||
		fmt.Sprint(got[0]) != "map[rights:[live playback] scope:map[device_id:"+fakeDevice+" kind:device]]" {
		t.Errorf("platform grant bodies %v", got)
	}
	// Its renumbering: a bad line is refused in the page, a good one sent.
	pg.fill("pnames", fakeChannel+",123")
	pg.click("save names", "pnames-save")
	pg.poll("bad line refused", text("pnames-error")+`.includes('第 1 行')`)
	pg.fill("pnames", fakeChannel+",34010000001310000042,城市编号\n")
	pg.click("save names", "pnames-save")
	testsupport.Eventually(t, uiWait, "names sent", func() bool { return len(acc.sent("PUT /api/v1/platforms/"+plat+"/names")) == 1 })
	if got := acc.sent("PUT /api/v1/platforms/" + plat + "/names"); fmt.Sprint(got[0]) !=
		"map[items:[map[channel_id:"+fakeChannel+" exposed_id:34010000001310000042 name:城市编号]]]" {
		t.Errorf("names body %v", got[0])
	}
	// Its virtual organisation: a bad line is refused in the page, good ones sent.
	pg.fill("pgroups", "34020000002150000001")
	pg.click("save groups", "pgroups-save")
	pg.poll("bad group line refused", text("pgroups-error")+`.includes('分组第 1 行')`)
	pg.fill("pgroups", "34020000002150000001,治安监控\n34020000002160000001,城区,路口,34020000002150000001\n")
	pg.fill("pgroup-channels", fakeChannel+",34020000002160000001")
	pg.click("save groups", "pgroups-save")
	testsupport.Eventually(t, uiWait, "groups sent", func() bool { return len(acc.sent("PUT /api/v1/platforms/"+plat+"/groups")) == 1 })
	if got := acc.sent("PUT /api/v1/platforms/" + plat + "/groups"); fmt.Sprint(got[0]) !=
		"map[channels:[map[channel_id:"+fakeChannel+" group_id:34020000002160000001]] groups:[map[id:34020000002150000001 name:治安监控 parent_id:] "+
			"map[id:34020000002160000001 name:城区,路口 parent_id:34020000002150000001]]]" {
		t.Errorf("groups body %v", got[0])
	}
	pg.shot("admin-platforms")

	// The audit page: a filter goes into the query and the export links.
	pg.click("audit", "nav-audit")
	pg.poll("audit rows", vis("audit-row-7"))
	pg.fill("audit-user", "lisi")
	pg.fill("audit-action", "play")
	pg.click("search", "audit-search")
	testsupport.Eventually(t, uiWait, "filtered search", func() bool {
		qs := acc.auditQueries()
		return len(qs) == 2 && strings.Contains(qs[1], "user=lisi") && strings.Contains(qs[1], "action=play")
	})
	pg.poll("export links", `document.querySelector('[data-testid="audit-xlsx"]').getAttribute('href').startsWith('/api/v1/audit/export?format=xlsx&user=lisi&action=play')`)
	pg.click("verify", "audit-verify")
	pg.poll("verified", text("audit-verify-result")+`.includes('完整')`)
	pg.shot("audit")

	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
}

// TestRolesInBrowser checks that the UI shows each role only what it may
// use: an auditor the audit page and no video, an operator no
// administration, a dept_admin no audit page and no ownership.
func TestRolesInBrowser(t *testing.T) {
	tests := []struct {
		role, path, home string
		views            string
		shown, hidden    []string
	}{
		{"auditor", "/live", "/audit", "audit", []string{"nav-audit", "audit-table"}, []string{"nav-live", "nav-playback", "nav-admin", "stat-channels"}},
		{"operator", "/admin", "/live", "live,playback", []string{"nav-live", "nav-playback", "pane-0"}, []string{"nav-admin", "nav-audit"}},
		{"dept_admin", "/audit", "/live", "live,playback,admin", []string{"nav-admin", "nav-live"}, []string{"nav-audit"}},
		{"admin", "/audit", "/audit", "live,playback,admin,audit", []string{"nav-admin", "nav-audit", "audit-table"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			pg, api, _, problems := adminPage(t, tt.role, tt.path)
			pg.poll("home", fmt.Sprintf(`location.pathname === %q && window.sharpeyesDebug.views().join() === %q`, tt.home, tt.views))
			for _, id := range tt.shown {
				pg.poll(id+" shown", vis(id))
			}
			for _, id := range tt.hidden {
				pg.poll(id+" hidden", "!"+vis(id))
			}
			pg.shot("role-" + tt.role)
			if tt.role == "auditor" {
				pg.poll("no panes", `window.sharpeyesDebug.panes().length === 0 && !document.querySelector('video')`)
				if api.called("GET /api/v1/tree") || api.called("GET /api/v1/events") {
					t.Error("an auditor's page asked for the tree or the events")
				}
			}
			if tt.role == "dept_admin" {
				pg.click("admin", "nav-admin")
				pg.click("users", "admin-tab-users")
				pg.poll("no ownership tab, no admin role", "!"+vis("admin-tab-ownership")+
					` && ![...document.querySelector('[data-testid="user-role"]').options].some(o => o.value === 'admin' || o.value === 'auditor')`)
			}
			for _, p := range problems() {
				t.Errorf("browser: %s", p)
			}
		})
	}
}
