package console_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// accountView is a user as /users shows it.
type accountView struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	DepartmentID       *int64 `json:"department_id"`
	Role               string `json:"role"`
	Disabled           bool   `json:"disabled"`
	DisabledReason     string `json:"disabled_reason"`
	MustChangePassword bool   `json:"must_change_password"`
}

// departmentView is a department as /departments shows it.
type departmentView struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
}

// created posts body to path as c and returns the new row's id.
func created(t *testing.T, c *client, path string, body any) int64 {
	t.Helper()
	r := c.do(http.MethodPost, path, body)
	mustStatus(t, "POST "+path, r, http.StatusCreated, "")
	var out struct {
		ID int64 `json:"id"`
	}
	r.json(t, &out)
	return out.ID
}

// firstLogin logs c in as a new user and sets the password it must change.
func firstLogin(t *testing.T, c *client, user, initial, next string) {
	t.Helper()
	if lr := c.login(user, initial); !lr.MustChangePassword {
		t.Fatalf("%s: a new user must change the password", user)
	}
	mustStatus(t, user+" changes the password", c.do(http.MethodPost, "/api/v1/auth/password",
		map[string]string{"old_password": initial, "new_password": next}), http.StatusNoContent, "")
}

func TestDepartmentsAndUsers(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")

	city := created(t, root, "/api/v1/departments", map[string]any{"name": "苏州市", "level": "city", "civil_code": "3205"})
	branch := created(t, root, "/api/v1/departments", map[string]any{"name": "公安分局", "parent_id": city})
	other := created(t, root, "/api/v1/departments", map[string]any{"name": "城管", "level": "unit"})
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"sibling name taken", map[string]any{"name": "公安分局", "parent_id": city}, http.StatusConflict, "conflict"},
		{"odd civil code", map[string]any{"name": "x", "civil_code": "320"}, http.StatusBadRequest, "bad_request"},
		{"unknown parent", map[string]any{"name": "x", "parent_id": 99999}, http.StatusBadRequest, "bad_request"},
		{"no name", map[string]any{"level": "unit"}, http.StatusBadRequest, "bad_request"},
	} {
		mustStatus(t, "department: "+tc.name, root.do(http.MethodPost, "/api/v1/departments", tc.body), tc.status, tc.code)
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"weak password", map[string]any{"username": "weak", "password": "short", "role": "operator"}, http.StatusBadRequest, "weak_password"},
		{"password is the username", map[string]any{"username": "samename1", "password": "samename1", "role": "operator"}, http.StatusBadRequest, "weak_password"},
		{"unknown role", map[string]any{"username": "x", "password": "long-password", "role": "root"}, http.StatusBadRequest, "bad_request"},
		{"unknown department", map[string]any{"username": "x", "password": "long-password", "role": "operator", "department_id": 99999}, http.StatusBadRequest, "bad_request"},
		{"username taken", map[string]any{"username": "root", "password": "long-password", "role": "operator"}, http.StatusConflict, "conflict"},
	} {
		mustStatus(t, "user: "+tc.name, root.do(http.MethodPost, "/api/v1/users", tc.body), tc.status, tc.code)
	}
	created(t, root, "/api/v1/users", map[string]any{"username": "da", "password": "dept-admin-1", "role": "dept_admin", "department_id": city})
	created(t, root, "/api/v1/users", map[string]any{"username": "aud", "password": "auditor-pw-1", "role": "auditor", "department_id": other})
	stranger := created(t, root, "/api/v1/users", map[string]any{"username": "stranger", "password": "stranger-pw-1", "role": "operator", "department_id": other})

	// The department admin manages its subtree and nothing else.
	da := e.client()
	firstLogin(t, da, "da", "dept-admin-1", "dept-admin-2")
	var deps struct {
		Items []departmentView `json:"items"`
		Total int              `json:"total"`
	}
	r := da.do(http.MethodGet, "/api/v1/departments", nil)
	mustStatus(t, "da lists departments", r, http.StatusOK, "")
	r.json(t, &deps)
	if deps.Total != 2 || deps.Items[0].ID != city || deps.Items[1].ID != branch {
		t.Fatalf("da sees %+v, want the city and its branch", deps)
	}
	dep := func(id int64) string { return fmt.Sprintf("/api/v1/departments/%d", id) }
	usr := func(id int64) string { return fmt.Sprintf("/api/v1/users/%d", id) }
	mustStatus(t, "da reads another subtree", da.do(http.MethodGet, dep(other), nil), http.StatusNotFound, "not_found")
	mustStatus(t, "da adds under another subtree", da.do(http.MethodPost, "/api/v1/departments",
		map[string]any{"name": "x", "parent_id": other}), http.StatusForbidden, "forbidden")
	mustStatus(t, "da adds a root", da.do(http.MethodPost, "/api/v1/departments", map[string]any{"name": "x"}), http.StatusForbidden, "forbidden")
	mustStatus(t, "da renames its own department", da.do(http.MethodPatch, dep(city), map[string]any{"name": "x"}), http.StatusForbidden, "forbidden")
	team := created(t, da, "/api/v1/departments", map[string]any{"name": "一中队", "parent_id": branch})
	mustStatus(t, "da makes an admin", da.do(http.MethodPost, "/api/v1/users",
		map[string]any{"username": "x", "password": "long-password", "role": "admin", "department_id": team}), http.StatusForbidden, "forbidden")
	mustStatus(t, "da makes a user elsewhere", da.do(http.MethodPost, "/api/v1/users",
		map[string]any{"username": "x", "password": "long-password", "role": "operator", "department_id": other}), http.StatusForbidden, "forbidden")
	op := created(t, da, "/api/v1/users", map[string]any{"username": "op", "password": "operator-pw-1", "role": "operator", "department_id": team})
	mustStatus(t, "da reads a user elsewhere", da.do(http.MethodGet, usr(stranger), nil), http.StatusNotFound, "not_found")
	var users struct {
		Items []accountView `json:"items"`
	}
	r = da.do(http.MethodGet, "/api/v1/users", nil)
	mustStatus(t, "da lists users", r, http.StatusOK, "")
	r.json(t, &users)
	if len(users.Items) != 2 || users.Items[0].Username != "da" || users.Items[1].Username != "op" {
		t.Fatalf("da sees users %+v", users.Items)
	}

	// Operators and auditors manage nothing; an auditor reads the departments.
	opc := e.client()
	firstLogin(t, opc, "op", "operator-pw-1", "operator-pw-2")
	mustStatus(t, "operator lists departments", opc.do(http.MethodGet, "/api/v1/departments", nil), http.StatusForbidden, "forbidden")
	mustStatus(t, "operator lists users", opc.do(http.MethodGet, "/api/v1/users", nil), http.StatusForbidden, "forbidden")
	aud := e.client()
	firstLogin(t, aud, "aud", "auditor-pw-1", "auditor-pw-2")
	r = aud.do(http.MethodGet, "/api/v1/departments", nil)
	mustStatus(t, "auditor lists departments", r, http.StatusOK, "")
	r.json(t, &deps)
	if deps.Total != 4 {
		t.Fatalf("auditor sees %d departments, want 4", deps.Total)
	}
	mustStatus(t, "auditor lists users", aud.do(http.MethodGet, "/api/v1/users", nil), http.StatusForbidden, "forbidden")

	// Disabling ends the sessions at once and says why; enabling lets the user in again.
	var got accountView
	r = da.do(http.MethodPatch, usr(op), map[string]any{"disabled": true, "disabled_reason": "transferred"})
	mustStatus(t, "da disables op", r, http.StatusOK, "")
	r.json(t, &got)
	if !got.Disabled || got.DisabledReason != "transferred" {
		t.Fatalf("disabled: %+v", got)
	}
	mustStatus(t, "op's session after disabling", opc.do(http.MethodGet, "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	mustStatus(t, "op logs in disabled", opc.do(http.MethodPost, "/api/v1/auth/login",
		map[string]string{"username": "op", "password": "operator-pw-2"}), http.StatusUnauthorized, "invalid_credentials")
	mustStatus(t, "da enables op", da.do(http.MethodPatch, usr(op), map[string]any{"disabled": false}), http.StatusOK, "")

	// A reset forces a change at the next login and refuses a recent password.
	mustStatus(t, "reset to the current password", root.do(http.MethodPost, usr(op)+"/password-reset",
		map[string]string{"password": "operator-pw-2"}), http.StatusBadRequest, "weak_password")
	mustStatus(t, "reset", root.do(http.MethodPost, usr(op)+"/password-reset",
		map[string]string{"password": "operator-pw-3"}), http.StatusOK, "")
	firstLogin(t, opc, "op", "operator-pw-3", "operator-pw-4")

	// Moves and deletes that would change what users see are refused unless asked.
	mustStatus(t, "delete a department in use", root.do(http.MethodDelete, dep(city), nil), http.StatusConflict, "conflict")
	mustStatus(t, "move a subtree with users", root.do(http.MethodPatch, dep(branch), map[string]any{"parent_id": other}), http.StatusConflict, "conflict")
	mustStatus(t, "move under its own subtree", root.do(http.MethodPatch, dep(city), map[string]any{"parent_id": team}), http.StatusConflict, "conflict")
	r = root.do(http.MethodPatch, dep(branch)+"?move_users=true", map[string]any{"parent_id": nil})
	mustStatus(t, "explicit move to the top", r, http.StatusOK, "")
	var moved departmentView
	r.json(t, &moved)
	if moved.ParentID != nil {
		t.Fatalf("moved to the top: %+v", moved)
	}
	mustStatus(t, "delete yourself", root.do(http.MethodDelete, usr(idOf(t, root, "root")), nil), http.StatusConflict, "conflict")
	mustStatus(t, "delete a user", root.do(http.MethodDelete, usr(stranger), nil), http.StatusNoContent, "")
	mustStatus(t, "delete an empty department", root.do(http.MethodDelete, dep(other), nil), http.StatusConflict, "conflict")

	acts := e.actions("root")
	for _, a := range []string{"department_create", "user_create", "password_reset", "department_update", "user_delete"} {
		if acts[a] == 0 {
			t.Errorf("no %s audited for root: %v", a, acts)
		}
	}
	if e.actions("da")["user_update"] != 2 {
		t.Errorf("da's user updates audited: %v", e.actions("da"))
	}
}

// idOf returns the id of username as c sees it in /users.
func idOf(t *testing.T, c *client, username string) int64 {
	t.Helper()
	var users struct {
		Items []accountView `json:"items"`
	}
	c.do(http.MethodGet, "/api/v1/users", nil).json(t, &users)
	for _, u := range users.Items {
		if u.Username == username {
			return u.ID
		}
	}
	t.Fatalf("no user %s", username)
	return 0
}
