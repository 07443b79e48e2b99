package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestFirstLoginMustChangePassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()

	mustStatus(t, "devices before login", c.do(http.MethodGet, "/api/v1/devices", nil), http.StatusUnauthorized, "unauthenticated")
	r := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "admin", "password": "admin"})
	mustStatus(t, "login", r, http.StatusOK, "")
	var lr loginResponse
	r.json(t, &lr)
	c.csrf = lr.CSRFToken
	if !lr.MustChangePassword || lr.Token == "" || lr.CSRFToken == "" || lr.User.Username != "admin" || lr.User.Role != "admin" {
		t.Fatalf("login answer %s", r.Body)
	}
	cookie := r.Header.Get("Set-Cookie")
	for _, want := range []string{auth.CookieName + "=" + lr.Token, "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("Secure cookie over plain HTTP: %q", cookie)
	}

	// Until the password changes, only /me, logout and the password change answer.
	mustStatus(t, "devices", c.do(http.MethodGet, "/api/v1/devices", nil), http.StatusForbidden, "password_change_required")
	mustStatus(t, "play", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil), http.StatusForbidden,
		"password_change_required")
	r = c.do(http.MethodGet, "/api/v1/me", nil)
	mustStatus(t, "me", r, http.StatusOK, "")
	var me struct {
		User struct {
			Username           string `json:"username"`
			MustChangePassword bool   `json:"must_change_password"`
		} `json:"user"`
		CSRFToken string `json:"csrf_token"`
	}
	r.json(t, &me)
	if me.User.Username != "admin" || !me.User.MustChangePassword || me.CSRFToken != lr.CSRFToken {
		t.Fatalf("me: %s", r.Body)
	}

	// The cookie alone cannot change anything: the CSRF header is required.
	csrf := c.csrf
	c.csrf = ""
	mustStatus(t, "password without CSRF", c.do(http.MethodPost, "/api/v1/auth/password",
		map[string]string{"old_password": "admin", "new_password": "a-good-password"}), http.StatusForbidden, "csrf")
	c.csrf = "wrong"
	mustStatus(t, "password with a wrong CSRF", c.do(http.MethodPost, "/api/v1/auth/password",
		map[string]string{"old_password": "admin", "new_password": "a-good-password"}), http.StatusForbidden, "csrf")
	c.csrf = csrf

	for _, tc := range []struct {
		old, new, code string
	}{
		{"wrong", "a-good-password", "wrong_password"},
		{"admin", "short", "weak_password"},
		{"admin", "Admin", "weak_password"},
	} {
		mustStatus(t, "password "+tc.new, c.do(http.MethodPost, "/api/v1/auth/password",
			map[string]string{"old_password": tc.old, "new_password": tc.new}), http.StatusBadRequest, tc.code)
	}
	mustStatus(t, "password bad body", c.do(http.MethodPost, "/api/v1/auth/password", `{"old":1}`), http.StatusBadRequest, "bad_request")
	mustStatus(t, "password", c.do(http.MethodPost, "/api/v1/auth/password",
		map[string]string{"old_password": "admin", "new_password": "a-good-password"}), http.StatusNoContent, "")
	mustStatus(t, "devices after the change", c.do(http.MethodGet, "/api/v1/devices", nil), http.StatusOK, "")

	mustStatus(t, "logout", c.do(http.MethodPost, "/api/v1/auth/logout", nil), http.StatusNoContent, "")
	mustStatus(t, "me after logout", c.do(http.MethodGet, "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	// The old token is dead on the server, not only forgotten by the browser.
	b := e.client()
	b.bearer = lr.Token
	mustStatus(t, "old token", b.do(http.MethodGet, "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")

	c.login("admin", "a-good-password")
	entries, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, en := range entries {
		actions[en.Action]++
	}
	if actions["login"] != 2 || actions["password_change"] != 1 || actions["logout"] != 1 || actions["password_change_failed"] != 1 {
		t.Errorf("audit %v", actions)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, envOptions{maxFailures: 3})
	e.addUser("alice", "alice-password", store.RoleOperator)
	c := e.client()
	login := func(pw string) response {
		return c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "alice", "password": pw})
	}
	mustStatus(t, "failure 1", login("nope"), http.StatusUnauthorized, "invalid_credentials")
	mustStatus(t, "failure 2", login("nope"), http.StatusUnauthorized, "invalid_credentials")
	r := login("nope")
	mustStatus(t, "failure 3", r, http.StatusLocked, "locked")
	if !strings.Contains(string(r.Body), "account locked until ") {
		t.Errorf("locked answer %s", r.Body)
	}
	mustStatus(t, "right password while locked", login("alice-password"), http.StatusLocked, "locked")
	// An unknown user answers like a wrong password.
	mustStatus(t, "unknown user", c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "mallory", "password": "x"}),
		http.StatusUnauthorized, "invalid_credentials")
	// Other accounts are not affected.
	c.login("admin", "admin")

	failed, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "alice", Action: "login_failed"})
	if err != nil || len(failed) != 4 {
		t.Fatalf("audited failures: %d %v", len(failed), err)
	}
	if failed[0].Detail["reason"] != "locked" || failed[1].Detail["locked_until"] == nil {
		t.Errorf("audit details %v / %v", failed[0].Detail, failed[1].Detail)
	}
}

func TestLoginBadRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	mustStatus(t, "empty", c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{}), http.StatusBadRequest, "bad_request")
	mustStatus(t, "not JSON", c.do(http.MethodPost, "/api/v1/auth/login", "{"), http.StatusBadRequest, "bad_request")
	mustStatus(t, "unknown field", c.do(http.MethodPost, "/api/v1/auth/login", `{"user":"a","password":"b"}`),
		http.StatusBadRequest, "bad_request")
	mustStatus(t, "too large", c.do(http.MethodPost, "/api/v1/auth/login", `{"username":"`+strings.Repeat("a", 70<<10)+`"}`),
		http.StatusRequestEntityTooLarge, "too_large")
	// A form post (what another site could make a browser send) is refused.
	resp, err := http.Post(e.srv.URL+"/api/v1/auth/login", "application/x-www-form-urlencoded", strings.NewReader("username=admin&password=admin"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form login: %d", resp.StatusCode)
	}
	mustStatus(t, "unknown API route", c.do(http.MethodGet, "/api/v1/nope", nil), http.StatusNotFound, "not_found")
}

func TestBearerNeedsNoCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("script", "script-password", store.RoleOperator)
	c := e.client()
	lr := c.login("script", "script-password")
	b := e.client() // no cookie jar entry, no CSRF header
	b.bearer = lr.Token
	mustStatus(t, "bearer POST", b.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/ptz", map[string]any{"action": "stop"}),
		http.StatusOK, "")
	b.bearer = lr.Token + "x"
	mustStatus(t, "wrong bearer", b.do(http.MethodGet, "/api/v1/devices", nil), http.StatusUnauthorized, "unauthenticated")
}

func TestSessionSurvivesRestart(t *testing.T) {
	url := ""
	first := newEnv(t, envOptions{})
	c := first.client()
	lr := c.login("admin", "admin")
	url = first.st.Pool.Config().ConnString()
	// A second console on the same database, as after a restart.
	second := newEnv(t, envOptions{storeURL: url})
	b := second.client()
	b.bearer = lr.Token
	r := b.do(http.MethodGet, "/api/v1/me", nil)
	mustStatus(t, "me after restart", r, http.StatusOK, "")
	if !strings.Contains(string(r.Body), lr.CSRFToken) {
		t.Errorf("CSRF token changed across the restart: %s", r.Body)
	}
}
