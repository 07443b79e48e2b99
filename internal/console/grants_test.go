package console_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
)

// joinStaff puts user into the department "staff", which owns both seeded
// devices (every right): the tests written before grants see the catalog
// as they did.
func (e *env) joinStaff(user string) {
	e.t.Helper()
	ctx := context.Background()
	staff := e.department("staff")
	for _, d := range []string{deviceA, deviceB} {
		if err := e.st.SetDeviceOwner(ctx, d, staff, "test"); err != nil {
			e.t.Fatal(err)
		}
	}
	e.setDepartment(user, staff)
}

// department returns the ID of the root department name, created when missing.
func (e *env) department(name string) int64 {
	e.t.Helper()
	var id int64
	err := e.st.Pool.QueryRow(context.Background(), `
WITH made AS (INSERT INTO departments (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id)
SELECT id FROM made UNION ALL SELECT id FROM departments WHERE name = $1 AND parent_id IS NULL LIMIT 1`, name).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// setDepartment moves user into department dept.
func (e *env) setDepartment(user string, dept int64) {
	e.t.Helper()
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE users SET department_id = $1 WHERE username = $2`, dept, user); err != nil {
		e.t.Fatal(err)
	}
}

// member creates a logged-in user of a new department that owns device.
func (e *env) member(name, role, dept, device string) *client {
	e.t.Helper()
	h, err := auth.HashPassword(name+"-password", cheap)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.CreateUser(context.Background(), store.User{Username: name, PasswordHash: h, Role: role}); err != nil {
		e.t.Fatal(err)
	}
	id := e.department(dept)
	if device != "" {
		if err := e.st.SetDeviceOwner(context.Background(), device, id, "test"); err != nil {
			e.t.Fatal(err)
		}
	}
	e.setDepartment(name, id)
	c := e.client()
	c.login(name, name+"-password")
	return c
}

// playbackOf starts a playback of channel and returns its session's ID.
func (c *client) playbackOf(channel string) string {
	c.t.Helper()
	r := c.do(http.MethodPost, "/api/v1/channels/"+channel+"/playback", isolationBodies["POST /api/v1/channels/{id}/playback"])
	mustStatus(c.t, "playback of "+channel, r, http.StatusOK, "")
	var pb struct {
		SessionID string `json:"session_id"`
	}
	r.json(c.t, &pb)
	return pb.SessionID
}

// IDs of cameras that do not exist.
const (
	unknownChannel = "34020000001310009999"
	unknownDevice  = "34020000001320009999"
)

// isolationBodies are the request bodies the walk sends, by pattern.
var isolationBodies = map[string]any{
	"POST /api/v1/channels/{id}/playback":     map[string]string{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"},
	"POST /api/v1/exports":                    map[string]string{"channel_id": "{id}", "start": "2024-05-01T08:00:00Z", "end": "2024-05-01T08:01:00Z"},
	"POST /api/v1/channels/{id}/ptz":          map[string]any{"action": "stop"},
	"POST /api/v1/playback/{session}/control": map[string]any{"action": "pause"},
	"PUT /api/v1/channels/{id}/owner":         map[string]any{"department_id": 1},
	"PUT /api/v1/devices/{id}/owner":          map[string]any{"department_id": 1},
}

// isolationQueries are the query strings of the walk's GETs, by pattern.
var isolationQueries = map[string]string{
	"GET /api/v1/channels/{id}/records": "?start=2024-05-01T08:00:00Z&end=2024-05-01T09:00:00Z",
}

// TestIsolation walks every route of the console's API (the document,
// which TestOpenAPIRoutes keeps equal to the route table) as a user of
// department A aimed at department B's camera, and as an auditor of A aimed
// at A's: nobody sees, counts, plays, plays back, downloads or controls a
// camera outside their grants — no answer names it, no play token is
// minted, nothing about it reaches sipserver.
func TestIsolation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	bob := e.member("bob", store.RoleOperator, "dept-b", deviceB)
	// Bob's own playback of B's camera: the session routes are aimed at it.
	session := bob.playbackOf(channelB1)
	alice := e.member("alice", store.RoleOperator, "dept-a", deviceA)
	audrey := e.member("audrey", store.RoleAuditor, "dept-a", "")

	patterns := make([]string, 0)
	for p, op := range apitest.Documented(t, console.OpenAPI) {
		// Public routes and logout have nothing of a camera; the event
		// stream never ends (TestEventsIsolation).
		if op.Public() || p == "POST /api/v1/auth/logout" || p == "GET /api/v1/events" {
			continue
		}
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	for _, tc := range []struct {
		who    string
		c      *client
		device string
		ch     string
	}{
		{"operator of A at B", alice, deviceB, channelB1},
		{"auditor at A", audrey, deviceA, channelA1},
	} {
		t.Run(tc.who, func(t *testing.T) {
			e.sip.mu.Lock()
			before := len(e.sip.calls)
			e.sip.mu.Unlock()
			for _, p := range patterns {
				if tc.c == audrey && strings.HasPrefix(p, "GET /api/v1/audit") {
					continue // reading who did what to which camera is the auditor's job
				}
				method, path, _ := strings.Cut(p, " ")
				id := tc.ch
				if strings.HasPrefix(path, "/api/v1/devices/") {
					id = tc.device
				}
				path = strings.NewReplacer("{id}", id, "{session}", session).Replace(path) + isolationQueries[p]
				var body any
				if method != http.MethodGet && method != http.MethodDelete {
					body = isolationBodies[p]
					if body == nil {
						body = map[string]any{}
					}
					// A camera named in the body (an export's channel_id).
					if b, ok := body.(map[string]string); ok && b["channel_id"] == "{id}" {
						body = map[string]string{"channel_id": tc.ch, "start": b["start"], "end": b["end"]}
					}
				}
				r := tc.c.do(method, path, body)
				text := string(r.Body)
				// The same request about a camera that does not exist:
				// an answer that differs tells the camera exists.
				unknown := strings.NewReplacer(tc.ch, unknownChannel, tc.device, unknownDevice)
				u := tc.c.do(method, unknown.Replace(path), body)
				switch {
				case r.Status >= 500:
					t.Errorf("%s: %d %s", p, r.Status, text)
				case r.Status < 300 && (strings.Contains(text, tc.ch) || strings.Contains(text, tc.device)):
					t.Errorf("%s: the answer names the camera: %d %s", p, r.Status, text)
				case strings.Contains(text, "token="):
					t.Errorf("%s: a play token: %s", p, text)
				case strings.Contains(p, "{") && r.Status < 400:
					t.Errorf("%s: %d %s, want a refusal", p, r.Status, text)
				case strings.Contains(p, "{id}") && (r.Status != u.Status || unknown.Replace(text) != string(u.Body)):
					t.Errorf("%s: %d %s, but about an unknown camera %d %s", p, r.Status, text, u.Status, u.Body)
				}
			}
			e.sip.mu.Lock()
			calls := slices.Clone(e.sip.calls[before:])
			e.sip.mu.Unlock()
			for _, c := range calls {
				if strings.Contains(c.Path+c.Query+c.Body, tc.ch) || strings.Contains(c.Path+c.Query+c.Body, tc.device) {
					t.Errorf("sipserver got %s %s %s", c.Method, c.Path, c.Body)
				}
			}
		})
	}
	// The owner still sees and plays their camera: the walk refused for the
	// grants, not for a broken route.
	mustStatus(t, "alice plays A", alice.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", map[string]any{}), http.StatusOK, "")
	var chs struct {
		Total int `json:"total"`
	}
	alice.do(http.MethodGet, "/api/v1/channels", nil).json(t, &chs)
	if chs.Total != 3 {
		t.Errorf("alice sees %d channels, want A's 3", chs.Total)
	}
}

// TestRightsOnAVisibleCamera checks the answers between seeing and
// holding the right: a camera seen without the right is 403 forbidden, one
// not seen the 404 of an unknown one, and a grant outside its hours gives
// nothing.
func TestRightsOnAVisibleCamera(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	dept := e.department("dept-a")
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO grants (department_id, scope_kind, channel_ids, rights)
		VALUES ($1, 'channels', $2, '{live}')`, dept, []string{channelA1}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, "play with live", alice.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/play", map[string]any{}), http.StatusOK, "")
	mustStatus(t, "playback without the right",
		alice.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback", isolationBodies["POST /api/v1/channels/{id}/playback"]),
		http.StatusForbidden, "forbidden")
	mustStatus(t, "a channel not granted",
		alice.do(http.MethodPost, "/api/v1/channels/"+channelA2+"/play", map[string]any{}), http.StatusNotFound, "not_found")
	mustStatus(t, "an unknown channel",
		alice.do(http.MethodPost, "/api/v1/channels/"+unknownChannel+"/play", map[string]any{}), http.StatusNotFound, "not_found")
	var tree struct {
		Nodes []struct {
			ID       string `json:"id"`
			Children []struct {
				ID string `json:"id"`
			} `json:"children"`
		} `json:"nodes"`
	}
	alice.do(http.MethodGet, "/api/v1/tree", nil).json(t, &tree)
	if len(tree.Nodes) != 1 || tree.Nodes[0].ID != deviceA || len(tree.Nodes[0].Children) != 1 || tree.Nodes[0].Children[0].ID != channelA1 {
		t.Errorf("tree %+v", tree)
	}
}

// TestEventsIsolation checks that an event stream carries the status of
// the user's cameras only: a change of B's camera, notified before one of
// A's once the listener is known to run, never reaches a user of A.
func TestEventsIsolation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	alice := e.member("alice", store.RoleOperator, "dept-a", deviceA)
	events, _ := openEvents(t, e, alice.login("alice", "alice-password").Token)
	// Each camera's state, so that every flip is a transition (notified).
	online := map[string]bool{channelA1: true}
	flip := func(device, channel string) {
		t.Helper()
		online[channel] = !online[channel]
		if _, err := e.devices.ApplyStatusChanges(context.Background(), []store.StatusChange{
			{DeviceID: device, ChannelID: channel, Online: online[channel], Cause: "test", At: time.Now()},
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := beforeDeadline(t)
	// next returns the next event, failing on B's camera.
	next := func() sseEvent {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if strings.Contains(ev.data, channelB1) || strings.Contains(ev.data, deviceB) {
				t.Fatalf("alice got B's event %s %s", ev.name, ev.data)
			}
			return ev
		case <-deadline:
			t.Fatal("no event before the test's deadline")
		}
		return sseEvent{}
	}
	// The listener connects in the background and PostgreSQL queues
	// nothing for it before: flip until one of A's changes arrives.
	for delivered := false; !delivered; {
		flip(deviceB, channelB1)
		flip(deviceA, channelA1)
		select {
		case ev := <-events:
			if strings.Contains(ev.data, channelB1) || strings.Contains(ev.data, deviceB) {
				t.Fatalf("alice got B's event %s %s", ev.name, ev.data)
			}
			delivered = strings.Contains(ev.data, channelA1)
		case <-time.After(console.SipCallTimeout / 100):
		case <-deadline:
			t.Fatal("no event before the test's deadline")
		}
	}
	// Now the listener runs: B's change is notified first and must be skipped.
	flip(deviceB, channelB1)
	flip(deviceA, channelA1)
	for {
		if ev := next(); strings.Contains(ev.data, channelA1) {
			return
		}
	}
}

// TestGrantPriorities checks the PTZ priority the grants give ptzlock.
func TestGrantPriorities(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	ctx := context.Background()
	dept := e.department("dept-a")
	if _, err := e.st.Pool.Exec(ctx, `INSERT INTO grants (department_id, scope_kind, channel_ids, rights, ptz_priority)
		VALUES ($1, 'channels', $2, '{live,ptz}', 7)`, dept, []string{channelA1}); err != nil {
		t.Fatal(err)
	}
	e.member("alice", store.RoleOperator, "dept-a", "")
	alice, err := e.st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	ch1, _ := e.st.FindChannel(ctx, channelA1)
	ch2, _ := e.st.FindChannel(ctx, channelA2)
	for _, tt := range []struct {
		name string
		ch   store.Channel
		want int
	}{
		{"granted", ch1, 7},
		{"not granted", ch2, 0},
	} {
		p, err := e.st.PTZPriority(ctx, alice.ID, tt.ch, time.Now())
		if err != nil || p != tt.want {
			t.Errorf("%s: %d, %v; want %d", tt.name, p, err, tt.want)
		}
	}
}

// TestGrantRoutes drives the grant and owner routes as an admin: a grant
// shows the camera to the department's user at once, its deletion hides it
// again, ownership gives every right; bad bodies are 400, an unknown
// department 404, an operator 403.
func TestGrantRoutes(t *testing.T) {
	// Noon: inside the grant's daily hours whenever the test runs (it
	// failed once at 23:59:48 on the wall clock).
	noon := time.Date(2026, 6, 1, 12, 0, 0, 0, time.Local)
	e := newEnv(t, envOptions{now: func() time.Time { return noon }})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	dept := strconv.FormatInt(e.department("dept-a"), 10)
	total := func() int {
		t.Helper()
		var l struct {
			Total int `json:"total"`
		}
		alice.do(http.MethodGet, "/api/v1/channels", nil).json(t, &l)
		return l.Total
	}
	if n := total(); n != 0 {
		t.Fatalf("alice sees %d channels before any grant", n)
	}
	r := root.do(http.MethodPost, "/api/v1/departments/"+dept+"/grants", map[string]any{
		"scope": map[string]any{"kind": "region", "civil_code": "340201"}, "rights": []string{"live", "ptz"},
		"ptz_priority": 6, "hours": "00:00-23:59", "valid_until": "2999-01-01T00:00:00Z",
	})
	mustStatus(t, "create", r, http.StatusCreated, "")
	var g struct {
		ID    int64  `json:"id"`
		Hours string `json:"hours"`
	}
	r.json(t, &g)
	if n := total(); n != 2 || g.Hours != "00:00-23:59" {
		t.Errorf("after the region grant: %d channels, grant %s", n, r.Body)
	}
	var list struct {
		Total int `json:"total"`
	}
	root.do(http.MethodGet, "/api/v1/departments/"+dept+"/grants", nil).json(t, &list)
	if list.Total != 1 {
		t.Errorf("grants of the department: %d", list.Total)
	}
	for name, body := range map[string]any{
		"unknown kind":  map[string]any{"scope": map[string]any{"kind": "city"}, "rights": []string{"live"}},
		"unknown right": map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"fly"}},
		"bad hours":     map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"live"}, "hours": "25:00-26:00"},
		"bad time":      map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"live"}, "valid_from": "yesterday"},
		"unknown field": map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"live"}, "admin": true},
	} {
		mustStatus(t, name, root.do(http.MethodPost, "/api/v1/departments/"+dept+"/grants", body), http.StatusBadRequest, "bad_request")
	}
	mustStatus(t, "unknown department", root.do(http.MethodPost, "/api/v1/departments/999999/grants",
		map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"live"}}),
		http.StatusNotFound, "not_found")
	mustStatus(t, "operator grants", alice.do(http.MethodPost, "/api/v1/departments/"+dept+"/grants",
		map[string]any{"scope": map[string]any{"kind": "device", "device_id": deviceB}, "rights": []string{"live"}}),
		http.StatusForbidden, "forbidden")
	mustStatus(t, "delete", root.do(http.MethodDelete, "/api/v1/grants/"+strconv.FormatInt(g.ID, 10), nil), http.StatusNoContent, "")
	mustStatus(t, "delete again", root.do(http.MethodDelete, "/api/v1/grants/"+strconv.FormatInt(g.ID, 10), nil), http.StatusNotFound, "not_found")
	if n := total(); n != 0 {
		t.Errorf("after the deletion alice sees %d channels", n)
	}
	mustStatus(t, "device owner", root.do(http.MethodPut, "/api/v1/devices/"+deviceB+"/owner", map[string]any{"department_id": e.department("dept-a")}),
		http.StatusOK, "")
	mustStatus(t, "the owning department plays", alice.do(http.MethodPost, "/api/v1/channels/"+channelB1+"/play", map[string]any{}), http.StatusOK, "")
	mustStatus(t, "clear owner", root.do(http.MethodPut, "/api/v1/devices/"+deviceB+"/owner", map[string]any{"department_id": nil}), http.StatusOK, "")
	mustStatus(t, "unknown device", root.do(http.MethodPut, "/api/v1/devices/"+unknownDevice+"/owner", map[string]any{"department_id": 1}),
		http.StatusNotFound, "not_found")
	mustStatus(t, "channel owner", root.do(http.MethodPut, "/api/v1/channels/"+channelA2+"/owner", map[string]any{"department_id": e.department("dept-a")}),
		http.StatusOK, "")
	if n := total(); n != 1 {
		t.Errorf("channel owner: alice sees %d channels", n)
	}
	actions := e.actions("root")
	if actions["grant_create"] != 1 || actions["grant_delete"] != 1 || actions["device_owner"] != 2 || actions["channel_owner"] != 1 {
		t.Errorf("audit %v", actions)
	}
}

// subDepartment returns the ID of a new department name under parent.
func (e *env) subDepartment(name string, parent int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.st.Pool.QueryRow(context.Background(), `INSERT INTO departments (name, parent_id) VALUES ($1, $2) RETURNING id`,
		name, parent).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestDeptAdminShare checks a dept_admin's re-granting: within what its
// department may share and strictly below it 201, beyond its rights 403, a
// camera it cannot see or a department outside its subtree the 404 of an
// unknown one, every refusal audited.
func TestDeptAdminShare(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	dora := e.member("dora", store.RoleDeptAdmin, "top", "")
	top := e.department("top")
	sub := e.subDepartment("sub", top)
	outside := e.department("outside")
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO grants (department_id, scope_kind, civil_code, rights)
		VALUES ($1, 'region', '3402', '{live,share}'), ($1, 'region', '3402', '{playback}')`, top); err != nil {
		t.Fatal(err)
	}
	grants := func(dept int64) string { return "/api/v1/departments/" + strconv.FormatInt(dept, 10) + "/grants" }
	body := func(scope map[string]any, rights ...string) map[string]any {
		return map[string]any{"scope": scope, "rights": rights}
	}
	region := map[string]any{"kind": "region", "civil_code": "340201"}
	r := dora.do(http.MethodPost, grants(sub), body(region, "live"))
	mustStatus(t, "within", r, http.StatusCreated, "")
	var g struct {
		ID int64 `json:"id"`
	}
	r.json(t, &g)
	for _, tc := range []struct {
		name   string
		dept   int64
		body   map[string]any
		status int
		code   string
	}{
		{"a right held without share", sub, body(region, "playback"), http.StatusForbidden, "forbidden"},
		{"a right not held", sub, body(region, "download"), http.StatusForbidden, "forbidden"},
		{"a wider region", sub, body(map[string]any{"kind": "region", "civil_code": "34"}, "live"), http.StatusForbidden, "forbidden"},
		{"a device it cannot see", sub, body(map[string]any{"kind": "device", "device_id": deviceB}, "live"), http.StatusNotFound, "not_found"},
		{"a channel it cannot see", sub, body(map[string]any{"kind": "channels", "channel_ids": []string{channelB1}}, "live"), http.StatusNotFound, "not_found"},
		{"its own department", top, body(region, "live"), http.StatusNotFound, "not_found"},
		{"outside its subtree", outside, body(region, "live"), http.StatusNotFound, "not_found"},
		{"a bad grant", sub, body(map[string]any{"kind": "region", "civil_code": "3"}, "live"), http.StatusBadRequest, "bad_request"},
	} {
		mustStatus(t, tc.name, dora.do(http.MethodPost, grants(tc.dept), tc.body), tc.status, tc.code)
	}
	var list struct {
		Total int `json:"total"`
	}
	dora.do(http.MethodGet, grants(sub), nil).json(t, &list)
	if list.Total != 1 {
		t.Errorf("grants below: %d", list.Total)
	}
	dora.do(http.MethodGet, grants(top), nil).json(t, &list)
	if list.Total != 2 {
		t.Errorf("its own department's grants: %d", list.Total)
	}
	mustStatus(t, "list outside", dora.do(http.MethodGet, grants(outside), nil), http.StatusNotFound, "not_found")
	own, err := e.st.ListGrants(context.Background(), top)
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, "delete its own department's grant",
		dora.do(http.MethodDelete, "/api/v1/grants/"+strconv.FormatInt(own[0].ID, 10), nil), http.StatusNotFound, "not_found")
	mustStatus(t, "delete below", dora.do(http.MethodDelete, "/api/v1/grants/"+strconv.FormatInt(g.ID, 10), nil), http.StatusNoContent, "")
	mustStatus(t, "owners are the admins'", dora.do(http.MethodPut, "/api/v1/regions/3402/owner", map[string]any{"department_id": sub}),
		http.StatusForbidden, "forbidden")
	actions := e.actions("dora")
	if actions["grant_create"] != 1 || actions["grant_delete"] != 1 || actions[console.ActionDenied] != 10 {
		t.Errorf("audit %v", actions)
	}
}

// TestLocationAndCounts checks what a user's slice shows of a camera:
// coordinates only with the location right, a device's channel_count only
// of the channels it sees; an admin sees everything.
func TestLocationAndCounts(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	ctx := context.Background()
	if _, err := e.st.Pool.Exec(ctx, `UPDATE channels SET longitude = 118.8, latitude = 32.1 WHERE id IN ($1, $2)`,
		channelA1, channelA2); err != nil {
		t.Fatal(err)
	}
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	if _, err := e.st.Pool.Exec(ctx, `INSERT INTO grants (department_id, scope_kind, channel_ids, rights)
		VALUES ($1, 'channels', $2, '{live}'), ($1, 'channels', $3, '{live,location}')`,
		e.department("dept-a"), []string{channelA1}, []string{channelA2}); err != nil {
		t.Fatal(err)
	}
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	type channel struct {
		ID        string   `json:"id"`
		Longitude *float64 `json:"longitude"`
		Latitude  *float64 `json:"latitude"`
	}
	type device struct {
		ID           string `json:"id"`
		ChannelCount int    `json:"channel_count"`
	}
	for _, tc := range []struct {
		who     string
		c       *client
		located map[string]bool
		count   int
	}{
		{"alice", alice, map[string]bool{channelA1: false, channelA2: true}, 2},
		{"the admin", root, map[string]bool{channelA1: true, channelA2: true}, 3},
	} {
		var chs struct {
			Items []channel `json:"items"`
		}
		tc.c.do(http.MethodGet, "/api/v1/channels?device_id="+deviceA, nil).json(t, &chs)
		seen := 0
		for _, ch := range chs.Items {
			want, ok := tc.located[ch.ID]
			if !ok {
				continue
			}
			seen++
			if (ch.Longitude != nil) != want || (ch.Latitude != nil) != want {
				t.Errorf("%s: %s located %v, want %v", tc.who, ch.ID, ch.Longitude != nil, want)
			}
		}
		if seen != 2 {
			t.Errorf("%s sees %+v", tc.who, chs.Items)
		}
		var devs struct {
			Items []device `json:"items"`
		}
		tc.c.do(http.MethodGet, "/api/v1/devices", nil).json(t, &devs)
		for _, d := range devs.Items {
			if d.ID == deviceA && d.ChannelCount != tc.count {
				t.Errorf("%s: channel_count %d, want %d", tc.who, d.ChannelCount, tc.count)
			}
		}
	}
}

// TestRegionOwnerRoute checks PUT /regions/{code}/owner and GET /owners:
// the owning department sees the region's cameras, present and future,
// with every right; null clears; a bad code is 400.
func TestRegionOwnerRoute(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	dept := e.department("dept-a")
	total := func() int {
		t.Helper()
		var l struct {
			Total int `json:"total"`
		}
		alice.do(http.MethodGet, "/api/v1/channels", nil).json(t, &l)
		return l.Total
	}
	mustStatus(t, "set", root.do(http.MethodPut, "/api/v1/regions/340201/owner", map[string]any{"department_id": dept}), http.StatusOK, "")
	if n := total(); n != 2 {
		t.Errorf("owner of 340201 sees %d channels, want 2", n)
	}
	mustStatus(t, "playback with ownership", alice.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/playback",
		isolationBodies["POST /api/v1/channels/{id}/playback"]), http.StatusOK, "")
	var owners struct {
		Items []struct {
			Kind         string `json:"kind"`
			ID           string `json:"id"`
			DepartmentID int64  `json:"department_id"`
		} `json:"items"`
	}
	root.do(http.MethodGet, "/api/v1/owners", nil).json(t, &owners)
	if len(owners.Items) != 1 || owners.Items[0].Kind != "region" || owners.Items[0].ID != "340201" || owners.Items[0].DepartmentID != dept {
		t.Errorf("owners %+v", owners)
	}
	mustStatus(t, "operator lists owners", alice.do(http.MethodGet, "/api/v1/owners", nil), http.StatusForbidden, "forbidden")
	mustStatus(t, "bad code", root.do(http.MethodPut, "/api/v1/regions/3402x/owner", map[string]any{"department_id": dept}),
		http.StatusBadRequest, "bad_request")
	mustStatus(t, "unknown department", root.do(http.MethodPut, "/api/v1/regions/3402/owner", map[string]any{"department_id": 999999}),
		http.StatusNotFound, "not_found")
	mustStatus(t, "clear", root.do(http.MethodPut, "/api/v1/regions/340201/owner", map[string]any{"department_id": nil}), http.StatusOK, "")
	if n := total(); n != 0 {
		t.Errorf("after clearing alice sees %d channels", n)
	}
	if a := e.actions("root"); a["region_owner"] != 2 {
		t.Errorf("audit %v", a)
	}
}

// TestSessionRechecksGrants checks that a playback session's control asks
// the grants now: once the user's department loses the camera, the owner's
// control is refused like an unknown camera's, its stop still goes.
func TestSessionRechecksGrants(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	bob := e.member("bob", store.RoleOperator, "dept-b", deviceB)
	session := bob.playbackOf(channelB1)
	ctl := "/api/v1/playback/" + session + "/control"
	mustStatus(t, "control while granted", bob.do(http.MethodPost, ctl, `{"action":"pause"}`), http.StatusNoContent, "")
	if err := e.st.SetDeviceOwner(context.Background(), deviceB, 0, "test"); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, "control after the loss", bob.do(http.MethodPost, ctl, `{"action":"pause"}`), http.StatusNotFound, "not_found")
	mustStatus(t, "stop after the loss", bob.do(http.MethodDelete, "/api/v1/playback/"+session, nil), http.StatusNoContent, "")
}
