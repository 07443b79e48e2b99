package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// internalPost posts body to an internal route with the service token.
func (e *env) internalPost(path string, body any) response {
	e.t.Helper()
	c := e.client()
	c.bearer = serviceToken
	return c.do(http.MethodPost, path, body)
}

// userID returns the id of user name.
func (e *env) userID(name string) int64 {
	e.t.Helper()
	u, err := e.st.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// revokeEnv is an operator olga, who played a camera, and an admin root.
func revokeEnv(t *testing.T) (e *env, olga, admin *client, played auditapi.Viewer) {
	t.Helper()
	e, olga = operator(t, envOptions{})
	e.addUser("root", "root-password", store.RoleAdmin)
	admin = e.client()
	admin.login("root", "root-password")
	r := olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", nil)
	mustStatus(t, "play", r, http.StatusOK, "")
	var p playAnswer
	r.json(t, &p)
	return e, olga, admin, auditapi.Viewer{User: "olga", IssuedAt: time.Unix(tokenOf(t, e.signer, p.WHEP).IssuedAt, 0).UTC()}
}

// TestRevokeSessions: an admin revokes a user's sessions at once — the
// console sessions end, the play tokens issued so far are revoked (the
// viewers check lists them, a media open of one is refused 403
// viewer_revoked and audited), newer tokens play.
func TestRevokeSessions(t *testing.T) {
	e, olga, admin, olgas := revokeEnv(t)
	issued := olgas.IssuedAt
	open := func(user string, at time.Time) response {
		return e.internalPost(auditapi.PathMediaOpens, auditapi.MediaOpen{
			At: time.Now(), User: user, Path: "live/" + channelA1, Protocol: auditapi.ProtocolWHEP, Remote: "192.0.2.1:5000", IssuedAt: at,
		})
	}
	check := func(viewers ...auditapi.Viewer) []auditapi.Viewer {
		t.Helper()
		r := e.internalPost(auditapi.PathViewersCheck, auditapi.ViewersCheck{Viewers: viewers})
		mustStatus(t, "viewers check", r, http.StatusOK, "")
		var out auditapi.ViewersRevoked
		r.json(t, &out)
		return out.Revoked
	}

	if got := check(olgas, auditapi.Viewer{User: "nobody", IssuedAt: issued}); len(got) != 1 || got[0].User != "nobody" {
		t.Fatalf("before: revoked %+v, want the unknown user only", got)
	}
	mustStatus(t, "media open before", open("olga", issued), http.StatusNoContent, "")

	path := fmt.Sprintf("/api/v1/users/%d/sessions/revoke", e.userID("olga"))
	mustStatus(t, "operator revokes", olga.do(http.MethodPost, fmt.Sprintf("/api/v1/users/%d/sessions/revoke", e.userID("root")), nil),
		http.StatusForbidden, "forbidden")
	mustStatus(t, "own sessions", admin.do(http.MethodPost, fmt.Sprintf("/api/v1/users/%d/sessions/revoke", e.userID("root")), nil),
		http.StatusConflict, "conflict")
	mustStatus(t, "unknown user", admin.do(http.MethodPost, "/api/v1/users/99999/sessions/revoke", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "revoke", admin.do(http.MethodPost, path, nil), http.StatusNoContent, "")

	mustStatus(t, "olga's console session", olga.do(http.MethodGet, "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	if got := check(olgas); len(got) != 1 || got[0] != olgas {
		t.Fatalf("after: revoked %+v, want olga's token", got)
	}
	mustStatus(t, "media open after", open("olga", issued), http.StatusForbidden, auditapi.CodeRevoked)
	// A token issued later plays; one without issued_at (a service token) is not checked.
	mustStatus(t, "newer token", open("olga", issued.Add(time.Hour)), http.StatusNoContent, "")
	mustStatus(t, "service token", open("recorder", time.Time{}), http.StatusNoContent, "")

	if n := e.actions("root")["user_sessions_revoke"]; n != 1 {
		t.Fatalf("%d user_sessions_revoke rows", n)
	}
	rows, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: auditapi.ActionMediaOpen, Username: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, row := range rows {
		if row.Result == store.AuditRefused && row.Reason == auditapi.CodeRevoked {
			refused++
		}
	}
	if len(rows) != 3 || refused != 1 {
		t.Fatalf("media open rows %+v: want 3, one refused", rows)
	}
}

// TestDisableRevokes: disabling a user revokes its tokens, and they stay
// revoked once it is enabled again.
func TestDisableRevokes(t *testing.T) {
	e, _, admin, v := revokeEnv(t)
	user := fmt.Sprintf("/api/v1/users/%d", e.userID("olga"))
	for _, step := range []struct {
		body    string
		revoked bool
	}{
		{`{"disabled": true, "disabled_reason": "left"}`, true},
		{`{"disabled": false}`, true},
	} {
		mustStatus(t, step.body, admin.do(http.MethodPatch, user, step.body), http.StatusOK, "")
		r := e.internalPost(auditapi.PathViewersCheck, auditapi.ViewersCheck{Viewers: []auditapi.Viewer{v}})
		var out auditapi.ViewersRevoked
		r.json(t, &out)
		if (len(out.Revoked) == 1) != step.revoked {
			t.Fatalf("after %s: revoked %+v", step.body, out.Revoked)
		}
	}
}

// TestViewersCheckInput: the check refuses bad bodies with 400 and a
// missing service token with 401.
func TestViewersCheckInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	at := `"2026-05-01T08:00:00Z"`
	many := make([]string, auditapi.MaxViewers+1)
	for i := range many {
		many[i] = `{"user":"u","issued_at":` + at + `}`
	}
	for _, tc := range []struct {
		name, body string
	}{
		{"no viewers", `{"viewers":[]}`},
		{"too many", `{"viewers":[` + strings.Join(many, ",") + `]}`},
		{"no user", `{"viewers":[{"user":"","issued_at":` + at + `}]}`},
		{"no time", `{"viewers":[{"user":"u"}]}`},
		{"unknown field", `{"viewers":[{"user":"u","issued_at":` + at + `,"x":1}]}`},
		{"not json", `nope`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustStatus(t, tc.name, e.internalPost(auditapi.PathViewersCheck, tc.body), http.StatusBadRequest, "bad_request")
		})
	}
	c := e.client()
	mustStatus(t, "no token", c.do(http.MethodPost, auditapi.PathViewersCheck, `{"viewers":[{"user":"u","issued_at":`+at+`}]}`),
		http.StatusUnauthorized, "")
}
