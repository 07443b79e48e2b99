package console_test

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"strconv"
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

// from returns a client whose requests come, through the trusted proxy
// 127.0.0.1, from addr.
func (e *env) from(addr string) *client {
	c := e.client()
	c.header = http.Header{"X-Forwarded-For": {addr}}
	return c
}

// sameAnswer fails the test unless r is exactly want: status, body and the
// headers a client could tell apart.
func sameAnswer(t *testing.T, what string, r, want response) {
	t.Helper()
	if r.Status != want.Status || !bytes.Equal(r.Body, want.Body) {
		t.Fatalf("%s: %d %s, want the same as %d %s", what, r.Status, r.Body, want.Status, want.Body)
	}
	for _, h := range []string{"WWW-Authenticate", "Set-Cookie", "Retry-After", "Content-Type", "Content-Length"} {
		if r.Header.Get(h) != want.Header.Get(h) {
			t.Errorf("%s: %s %q, want %q", what, h, r.Header.Get(h), want.Header.Get(h))
		}
	}
}

// TestLoginLockout checks over HTTP what auth's tests check of the
// service: a locked (user, address) pair answers byte for byte like a
// wrong password, and so does an unknown user; other addresses and users
// log in; the failures are audited with the address the trusted proxy
// names. (That each costs one password hash is auth's TestLoginFailuresAlike.)
func TestLoginLockout(t *testing.T) {
	e := newEnv(t, envOptions{maxFailures: 3, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	e.addUser("alice", "alice-password", store.RoleOperator)
	attacker := e.from("198.51.100.1")
	login := func(c *client, user, pw string) response {
		return c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": pw})
	}
	first := login(attacker, "alice", "nope")
	mustStatus(t, "failure 1", first, http.StatusUnauthorized, "invalid_credentials")
	sameAnswer(t, "failure 2", login(attacker, "alice", "nope"), first)
	sameAnswer(t, "failure 3 (locks)", login(attacker, "alice", "nope"), first)
	sameAnswer(t, "right password while locked", login(attacker, "alice", "alice-password"), first)
	sameAnswer(t, "wrong password while locked", login(attacker, "alice", "nope"), first)
	sameAnswer(t, "unknown user", login(attacker, "mallory", "x"), first)
	sameAnswer(t, "over-long username", login(attacker, strings.Repeat("m", 200), "x"), first)
	// alice from her own desk is not locked out by the attacker.
	e.from("198.51.100.2").login("alice", "alice-password")
	// Other accounts are not affected either.
	attacker.login("admin", "admin")

	failed, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "alice", Action: "login_failed"})
	if err != nil || len(failed) != 5 || failed[0].Remote != "198.51.100.1" {
		t.Fatalf("audited failures %+v %v, want 5 from 198.51.100.1", failed, err)
	}
}

// TestLoginAddressLimit checks the per-address limit against spraying: one
// guess per username from one address, then that address is refused (429)
// for everyone, while other addresses log in.
func TestLoginAddressLimit(t *testing.T) {
	e := newEnv(t, envOptions{ipMaxFailures: 3, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	e.addUser("alice", "alice-password", store.RoleOperator)
	sprayer := e.from("203.0.113.50")
	for _, name := range []string{"admin", "alice", "root"} {
		mustStatus(t, "guess "+name, sprayer.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": name, "password": "123456"}),
			http.StatusUnauthorized, "invalid_credentials")
	}
	r := sprayer.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "alice", "password": "alice-password"})
	mustStatus(t, "after spraying", r, http.StatusTooManyRequests, "too_many_attempts")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	e.from("203.0.113.51").login("alice", "alice-password")
}

// TestLoginUndecodable checks that a login whose username is not text (a
// NUL byte, invalid UTF-8, an unpaired surrogate) is a 400 bad_request,
// never a 500, and is audited as a failed login.
func TestLoginUndecodable(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	for _, body := range []string{
		`{"username":"adm\u0000in","password":"x"}`,
		"{\"username\":\"adm\x00in\",\"password\":\"x\"}",
		"{\"username\":\"adm\xffin\",\"password\":\"x\"}",
		`{"username":"adm\ud800in","password":"x"}`,
		`{"username":"admin","password":"\u0000"}`,
	} {
		mustStatus(t, body, c.do(http.MethodPost, "/api/v1/auth/login", body), http.StatusBadRequest, "bad_request")
	}
	failed, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "login_failed"})
	if err != nil || len(failed) != 5 {
		t.Fatalf("audited: %d %v", len(failed), err)
	}
	// The first body (newest row last): an escaped NUL.
	if failed[4].Username != "adm\uFFFDin" || !strings.HasPrefix(failed[4].Detail["reason"].(string), "refused body") ||
		failed[4].Detail["username_quoted"] != `"adm\x00in"` {
		t.Errorf("audit row %+v", failed[4])
	}
}

// TestSecureCookie checks that the cookie is Secure when a trusted proxy
// says the browser used HTTPS, and only then.
func TestSecureCookie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		secure  bool
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, true},
		{"untrusted peer", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{proxies: tc.proxies})
			c := e.client()
			c.header = http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"192.0.2.9"}}
			r := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "admin", "password": "admin"})
			mustStatus(t, "login", r, http.StatusOK, "")
			if got := strings.Contains(r.Header.Get("Set-Cookie"), "Secure"); got != tc.secure {
				t.Errorf("Set-Cookie %q: Secure %v, want %v", r.Header.Get("Set-Cookie"), got, tc.secure)
			}
			logins, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "login"})
			want := "127.0.0.1"
			if tc.secure {
				want = "192.0.2.9"
			}
			if err != nil || len(logins) != 1 || logins[0].Remote != want {
				t.Errorf("audited login %+v %v, want remote %s", logins, err, want)
			}
		})
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

// TestRefusedBodyFromBlockedAddress checks that once an address reached
// its limit, whatever it sends to the login route — a NUL in the username,
// broken JSON, an empty password — is the 429 of its other logins, and
// writes no audit row: a blocked address cannot fill the audit log.
func TestRefusedBodyFromBlockedAddress(t *testing.T) {
	e := newEnv(t, envOptions{ipMaxFailures: 3, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	attacker := e.from("203.0.113.60")
	for i := range 3 {
		mustStatus(t, "refused body "+strconv.Itoa(i), attacker.do(http.MethodPost, "/api/v1/auth/login", `{"username":"\u0000","password":"x"}`),
			http.StatusBadRequest, "bad_request")
	}
	for _, body := range []string{
		`{"username":"\u0000","password":"x"}`,
		`{`,
		`{"username":"admin","password":""}`,
		`{"username":"admin","password":"admin"}`,
	} {
		r := attacker.do(http.MethodPost, "/api/v1/auth/login", body)
		mustStatus(t, "blocked address, body "+body, r, http.StatusTooManyRequests, "too_many_attempts")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("blocked address, body %s: no Retry-After", body)
		}
	}
	if got := e.actions("")["login_failed"]; got != 3 {
		t.Errorf("%d login_failed rows, want the 3 before the block", got)
	}
	// Another address is not affected.
	e.from("203.0.113.61").login("admin", "admin")
}

// TestPasswordChangeLockoutPerUser checks the answers of auth's scenario
// of the same name over HTTP: wrong old passwords are 400 wrong_password,
// the user's lock (whatever the address: one session through several) is
// 423 locked, and the address's limit, which those guesses count towards,
// is 429 too_many_attempts with Retry-After, for the login too.
func TestPasswordChangeLockoutPerUser(t *testing.T) {
	e := newEnv(t, envOptions{maxFailures: 3, ipMaxFailures: 4, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	e.addUser("alice", "alice-password", store.RoleOperator)
	token := e.from("198.51.100.1").login("alice", "alice-password").Token
	change := func(c *client, old string) response {
		return c.do(http.MethodPost, "/api/v1/auth/password", map[string]string{"old_password": old, "new_password": "a-new-password"})
	}
	// The same session, through four addresses.
	var from []*client
	for _, addr := range []string{"198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"} {
		c := e.from(addr)
		c.bearer = token
		from = append(from, c)
	}
	mustStatus(t, "guess 1", change(from[0], "guess"), http.StatusBadRequest, "wrong_password")
	mustStatus(t, "guess 2", change(from[1], "guess"), http.StatusBadRequest, "wrong_password")
	mustStatus(t, "guess 3", change(from[2], "guess"), http.StatusLocked, "locked")
	mustStatus(t, "right old password from elsewhere while locked", change(from[3], "alice-password"), http.StatusLocked, "locked")
	// Locked or not, the guesses of 198.51.100.2 count towards its limit (4).
	for i := 2; i <= 4; i++ {
		mustStatus(t, "guess "+strconv.Itoa(i)+" from 198.51.100.2", change(from[0], "guess"), http.StatusLocked, "locked")
	}
	r := change(from[0], "guess")
	mustStatus(t, "guess from a blocked address", r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	mustStatus(t, "login from the blocked address", e.from("198.51.100.2").do(http.MethodPost, "/api/v1/auth/login",
		map[string]string{"username": "alice", "password": "alice-password"}), http.StatusTooManyRequests, "too_many_attempts")
}
