package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// team is an env with two operators and an admin, each logged in.
type team struct {
	*env
	olga, ivan, root *client
	// token is each user's session token.
	token map[string]string
}

func newTeam(t *testing.T, opts envOptions) team {
	t.Helper()
	e := newEnv(t, opts)
	e.seed()
	tm := team{env: e, token: map[string]string{}}
	for _, u := range []struct {
		name, role string
		c          **client
	}{{"olga", store.RoleOperator, &tm.olga}, {"ivan", store.RoleOperator, &tm.ivan}, {"root", store.RoleAdmin, &tm.root}} {
		e.addUser(u.name, u.name+"-password", u.role)
		*u.c = e.client()
		tm.token[u.name] = (*u.c).login(u.name, u.name+"-password").Token
	}
	return tm
}

// denied returns the access_denied rows of user.
func (e *env) denied(user string) []store.AuditEntry {
	e.t.Helper()
	rows, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: user, Action: console.ActionDenied})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// TestPlaybackOwnership checks that a playback session is its starter's:
// another user gets exactly the 404 of an unknown session on control and
// stop (audited as denied, nothing reaches sipserver), and an admin may
// force-stop it (audited as forced).
func TestPlaybackOwnership(t *testing.T) {
	tm := newTeam(t, envOptions{})
	r := tm.olga.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback",
		map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"})
	mustStatus(t, "playback", r, http.StatusOK, "")
	var p playAnswer
	r.json(t, &p)
	var req sipapi.SessionRequest
	if err := json.Unmarshal([]byte(tm.sip.callsTo("POST /internal/v1/sessions")[0].Body), &req); err != nil || req.Owner != "olga" {
		t.Fatalf("session request %+v %v: want owner olga", req, err)
	}

	ctl := "/api/v1/playback/" + p.SessionID + "/control"
	unknown := tm.ivan.do(http.MethodPost, "/api/v1/playback/playback-none/control", `{"action":"pause"}`)
	mustStatus(t, "unknown session", unknown, http.StatusNotFound, "not_found")
	for _, tc := range []struct {
		what string
		c    *client
		r    func(*client) response
	}{
		{"ivan controls", tm.ivan, func(c *client) response { return c.do(http.MethodPost, ctl, `{"action":"pause"}`) }},
		{"ivan stops", tm.ivan, func(c *client) response { return c.do(http.MethodDelete, "/api/v1/playback/"+p.SessionID, nil) }},
		{"the admin controls", tm.root, func(c *client) response { return c.do(http.MethodPost, ctl, `{"action":"pause"}`) }},
	} {
		got := tc.r(tc.c)
		mustStatus(t, tc.what, got, http.StatusNotFound, "not_found")
		// The same answer as an unknown session, but for the id.
		if want := strings.ReplaceAll(string(unknown.Body), "playback-none", p.SessionID); string(got.Body) != want {
			t.Errorf("%s: %s, want %s", tc.what, got.Body, want)
		}
	}
	if n := len(tm.sip.callsTo("POST /internal/v1/sessions/" + p.SessionID + "/control")); n != 0 {
		t.Fatalf("%d controls reached sipserver", n)
	}
	if n := len(tm.sip.callsTo("DELETE /internal/v1/sessions/" + p.SessionID)); n != 0 {
		t.Fatal("another user's stop reached sipserver")
	}
	if d := tm.denied("ivan"); len(d) != 2 || d[0].Target != p.SessionID || d[0].Detail["route"] != "DELETE /api/v1/playback/{session}" {
		t.Errorf("ivan's denials %+v", d)
	}
	if d := tm.denied("root"); len(d) != 1 {
		t.Errorf("the admin's denied control: %+v", d)
	}

	mustStatus(t, "olga controls", tm.olga.do(http.MethodPost, ctl, `{"action":"pause"}`), http.StatusNoContent, "")
	mustStatus(t, "admin force-stops", tm.root.do(http.MethodDelete, "/api/v1/playback/"+p.SessionID, nil), http.StatusNoContent, "")
	if n := len(tm.sip.callsTo("DELETE /internal/v1/sessions/" + p.SessionID)); n != 1 {
		t.Fatalf("force stop: %d DELETEs at sipserver", n)
	}
	stops, _, err := tm.st.ListAudit(context.Background(), store.AuditFilter{Username: "root", Action: "playback_stop"})
	if err != nil || len(stops) != 1 || stops[0].Detail["forced"] != true || stops[0].Detail["owner"] != "olga" {
		t.Fatalf("force stop audit %+v %v", stops, err)
	}

	// A session without owner (from before owners) is nobody's but an admin's to stop.
	tm.sip.mu.Lock()
	tm.sip.sessions["playback-legacy"] = map[string]any{"id": "playback-legacy", "kind": "playback", "state": "active", "path": "playback/playback-legacy"}
	tm.sip.mu.Unlock()
	mustStatus(t, "olga controls an ownerless session", tm.olga.do(http.MethodPost, "/api/v1/playback/playback-legacy/control", `{"action":"pause"}`),
		http.StatusNotFound, "not_found")
	mustStatus(t, "admin stops an ownerless session", tm.root.do(http.MethodDelete, "/api/v1/playback/playback-legacy", nil), http.StatusNoContent, "")
}

// TestEventsOnlyToOwners checks on a real listener that a playback's
// session events reach its owner and the admins, never another operator,
// while live session events reach everyone.
func TestEventsOnlyToOwners(t *testing.T) {
	tm := newTeam(t, envOptions{})
	olga, _ := openEvents(t, tm.env, tm.token["olga"])
	ivan, _ := openEvents(t, tm.env, tm.token["ivan"])
	root, _ := openEvents(t, tm.env, tm.token["root"])

	notify := func(v store.SessionEvent) {
		b, _ := json.Marshal(v)
		if _, err := tm.st.Pool.Exec(context.Background(), `SELECT pg_notify($1, $2)`, store.ChannelSession, string(b)); err != nil {
			t.Fatal(err)
		}
	}
	// The listener connects in the background: send pairs (olga's playback,
	// then a live session) until ivan has received two live events: the
	// playback events sent between them reached his subscription, and were
	// not delivered. Notifications keep their order.
	var olgaSaw, rootSaw, ivanFirst, ivanLast int
	// Bounded by the test binary's deadline only: how soon the listener
	// connects depends on the machine's load, not on a timeout of ours.
	deadline := beforeDeadline(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	seq := 0
	seqOf := func(ev sseEvent) (string, int) {
		if ev.name != console.TypeSession {
			return "", 0
		}
		var se console.SessionEvent
		if err := json.Unmarshal([]byte(ev.data), &se); err != nil {
			t.Fatalf("event %q: %v", ev.data, err)
		}
		n, _ := strconv.Atoi(se.ID)
		return se.Kind, n
	}
	for olgaSaw == 0 || rootSaw == 0 || ivanLast <= ivanFirst {
		select {
		case ev := <-olga:
			if kind, n := seqOf(ev); kind == "playback" && olgaSaw == 0 {
				olgaSaw = n
			}
		case ev := <-root:
			if kind, n := seqOf(ev); kind == "playback" && rootSaw == 0 {
				rootSaw = n
			}
		case ev := <-ivan:
			switch kind, n := seqOf(ev); kind {
			case "play":
				if ivanFirst == 0 {
					ivanFirst = n
				}
				ivanLast = n
			case "playback":
				t.Fatalf("ivan received olga's playback: %s", ev.data)
			}
		case <-tick.C:
			seq++
			notify(store.SessionEvent{ID: strconv.Itoa(seq), Kind: "playback", Owner: "olga", State: "active"})
			notify(store.SessionEvent{ID: strconv.Itoa(seq), Kind: "play", State: "active"})
		case <-deadline:
			t.Fatalf("before the test's deadline: olga saw %d, root %d, ivan %d–%d", olgaSaw, rootSaw, ivanFirst, ivanLast)
		}
	}
}
