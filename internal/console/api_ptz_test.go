package console_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// fakeClock is the API's clock in the PTZ lock tests: time moves only when
// the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// priorities are the users' PTZ priorities by user ID, as the grants
// would give them; a missing user has no PTZ right (0).
type priorities struct {
	mu   sync.Mutex
	byID map[int64]int
}

func (p *priorities) PTZPriority(_ context.Context, user int64, _ store.Channel, _ time.Time) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[user], nil
}

// ptzEnv is the env's database, auth and sipserver double behind an API of
// its own, with the PTZ lock's clock and the users' priorities in the
// test's hands: login creates an operator with a PTZ priority (0: no PTZ
// right) and logs them in.
func ptzEnv(t *testing.T, idle time.Duration) (*env, *fakeClock, func(user string, priority int) *client) {
	t.Helper()
	prios := &priorities{byID: map[int64]int{}}
	e, clock, srv := ptzAPI(t, idle, prios)
	login := func(user string, priority int) *client {
		t.Helper()
		e.addUser(user, user+"-password", store.RoleOperator)
		u, err := e.st.UserByName(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		prios.mu.Lock()
		prios.byID[u.ID] = priority
		prios.mu.Unlock()
		return ptzClient(t, srv, user)
	}
	return e, clock, login
}

// ptzAPI is an API of its own on a new env (seeded) with a fake clock and
// prios (nil: the grants in the env's database), served by the returned
// server.
func ptzAPI(t *testing.T, idle time.Duration, prios console.PTZPriorities) (*env, *fakeClock, *httptest.Server) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.seed()
	clock := &fakeClock{now: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	if prios == nil {
		prios = e.st
	}
	// The locks are sipserver's, on the test's clock.
	e.sip.useLocks(idle, clock.Now)
	api := &console.API{
		Store: e.st, Auth: e.auth, Sip: &sipapi.Client{BaseURL: e.sip.srv.URL, Token: serviceToken, Timeout: console.SipCallTimeout},
		Signer: e.signer, PublicURL: "http://media.example:8888", RTSPURL: "rtsp://media.example:8554",
		Log: quiet, Now: clock.Now, PTZPriorities: prios,
	}
	if err := api.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(validated(t, mux))
	t.Cleanup(api.Close)
	t.Cleanup(srv.Close)
	return e, clock, srv
}

// ptzClient is user logged in on srv.
func ptzClient(t *testing.T, srv *httptest.Server, user string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: srv.URL, hc: &http.Client{Jar: jar}}
	c.login(user, user+"-password")
	return c
}

// ptzLocked is the 409 answer's body.
type ptzLocked struct {
	Code   string    `json:"code"`
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

func TestPTZLock(t *testing.T) {
	const idle = 20 * time.Second
	e, clock, login := ptzEnv(t, idle)
	ann, bob, chief := login("ann", 5), login("bob", 5), login("chief", 8)
	start := clock.Now()
	path := "/api/v1/channels/" + channelA1 + "/ptz"
	ptzKey := "POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz"
	move := `{"action":"move","directions":["left"],"speed":128}`

	refused := func(what string, c *client, holder string, until time.Time) {
		t.Helper()
		sent := len(e.sip.callsTo(ptzKey))
		r := c.do(http.MethodPost, path, move)
		mustStatus(t, what, r, http.StatusConflict, console.CodePTZLocked)
		var body ptzLocked
		r.json(t, &body)
		if body.Holder != holder || !body.Until.Equal(until) {
			t.Fatalf("%s: refused by %s until %s, want %s until %s", what, body.Holder, body.Until, holder, until)
		}
		// Whole seconds, at least one: "0" would invite a retry that fails.
		if ra, want := r.Header.Get("Retry-After"), strconv.Itoa(max(1, int(until.Sub(clock.Now()).Round(time.Second)/time.Second))); ra != want {
			t.Errorf("%s: Retry-After %q, want %s", what, ra, want)
		}
		if len(e.sip.callsTo(ptzKey)) != sent {
			t.Fatalf("%s: a refused command reached sipserver", what)
		}
	}

	mustStatus(t, "ann takes the free camera", ann.do(http.MethodPost, path, move), http.StatusOK, "")
	clock.advance(5 * time.Second)
	refused("bob, equal priority", bob, "ann", start.Add(idle))
	mustStatus(t, "ann's other channel is free for bob", bob.do(http.MethodPost, "/api/v1/channels/"+channelA2+"/ptz", move), http.StatusOK, "")

	// Ann's next command refreshes her lock.
	clock.advance(10 * time.Second)
	mustStatus(t, "ann again", ann.do(http.MethodPost, path, `{"action":"stop"}`), http.StatusOK, "")
	refused("bob after ann's refresh", bob, "ann", clock.Now().Add(idle))

	// A higher priority takes over; ann is then the one refused.
	mustStatus(t, "chief takes over", chief.do(http.MethodPost, path, move), http.StatusOK, "")
	chiefUntil := clock.Now().Add(idle)
	refused("ann after the take-over", ann, "chief", chiefUntil)

	// The lock expires after the idle time, to the nanosecond.
	clock.advance(idle - time.Nanosecond)
	refused("bob just before chief's lock ends", bob, "chief", chiefUntil)
	clock.advance(time.Nanosecond)
	mustStatus(t, "bob once chief's lock ended", bob.do(http.MethodPost, path, move), http.StatusOK, "")

	// Refusals are audited as such, the take-over names whom it took from.
	denied, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "bob", Action: console.ActionDenied})
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) != 3 || denied[0].Detail["code"] != console.CodePTZLocked || denied[0].Target != channelA1 {
		t.Errorf("bob's refusals audited: %+v", denied)
	}
	if got := e.actions("bob")["ptz"]; got != 2 {
		t.Errorf("bob's audited commands: %d, want 2 (the refused ones are refusals)", got)
	}
	took, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Username: "chief", Action: "ptz"})
	if err != nil {
		t.Fatal(err)
	}
	if len(took) != 1 || took[0].Detail["took_over_from"] != "ann" || took[0].Detail["priority"] != float64(8) {
		t.Errorf("chief's take-over audited: %+v", took)
	}
}

// A user without a PTZ right (priority 0) is refused, audited, and takes no
// lock.
func TestPTZWithoutRight(t *testing.T) {
	e, _, login := ptzEnv(t, 0)
	ann, eve := login("ann", 5), login("eve", 0)
	path := "/api/v1/channels/" + channelA1 + "/ptz"
	mustStatus(t, "eve without a ptz right", eve.do(http.MethodPost, path, `{"action":"stop"}`), http.StatusForbidden, "forbidden")
	if got := e.actions("eve"); got[console.ActionDenied] != 1 || got["ptz"] != 0 {
		t.Errorf("eve's refusal audited as %v", got)
	}
	mustStatus(t, "ann, the camera still free", ann.do(http.MethodPost, path, `{"action":"stop"}`), http.StatusOK, "")
	if n := len(e.sip.callsTo("POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz")); n != 1 {
		t.Errorf("%d commands reached sipserver, want ann's one", n)
	}
}

// The priorities are the grants' (consoledb): a camera's owners control with
// 9, a granted department with its grant's ptz_priority, admins with 9
// without grants; a grant without the ptz right gives no control.
func TestPTZPriorityFromGrants(t *testing.T) {
	e, _, srv := ptzAPI(t, 0, nil)
	ctx := context.Background()
	// ann's department "staff" owns the seeded devices (addUser).
	e.addUser("ann", "ann-password", store.RoleOperator)
	police := e.department("police")
	for _, g := range []consoledb.Grant{
		{
			DepartmentID: police, Scope: consoledb.GrantScope{Kind: consoledb.ScopeDevice, DeviceID: deviceA},
			Rights: []string{catalogview.RightLive, catalogview.RightPTZ}, PTZPriority: 3,
		},
		{
			DepartmentID: e.department("traffic"), Scope: consoledb.GrantScope{Kind: consoledb.ScopeDevice, DeviceID: deviceA},
			Rights: []string{catalogview.RightLive}, PTZPriority: 9,
		},
	} {
		if _, err := e.st.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for user, dept := range map[string]string{"cop": "police", "warden": "traffic"} {
		e.addUser(user, user+"-password", store.RoleOperator)
		e.setDepartment(user, e.department(dept))
	}
	e.addUser("boss", "boss-password", store.RoleAdmin)
	ann, cop, warden, boss := ptzClient(t, srv, "ann"), ptzClient(t, srv, "cop"), ptzClient(t, srv, "warden"), ptzClient(t, srv, "boss")
	path := "/api/v1/channels/" + channelA1 + "/ptz"
	stop := `{"action":"stop"}`

	mustStatus(t, "warden: live but no ptz right", warden.do(http.MethodPost, path, stop), http.StatusForbidden, "forbidden")
	mustStatus(t, "cop (3) takes the free camera", cop.do(http.MethodPost, path, stop), http.StatusOK, "")
	mustStatus(t, "ann (owner, 9) takes over", ann.do(http.MethodPost, path, stop), http.StatusOK, "")
	r := cop.do(http.MethodPost, path, stop)
	mustStatus(t, "cop after the take-over", r, http.StatusConflict, console.CodePTZLocked)
	var body ptzLocked
	r.json(t, &body)
	if body.Holder != "ann" {
		t.Errorf("cop refused by %q, want ann", body.Holder)
	}
	mustStatus(t, "admin (9) does not take over from an owner (9)", boss.do(http.MethodPost, path, stop), http.StatusConflict, console.CodePTZLocked)
}
