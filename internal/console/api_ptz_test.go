package console_test

import (
	"context"
	"fmt"
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

// priorities are the users' PTZ priorities by username, as the grants
// would give them; a missing user has no PTZ right.
type priorities map[string]int

func (p priorities) PTZPriority(_ context.Context, u store.User, _ store.Channel) (int, error) {
	prio, ok := p[u.Username]
	if !ok {
		return 0, fmt.Errorf("user %s has no ptz right: %w", u.Username, console.ErrForbidden)
	}
	return prio, nil
}

// ptzEnv is the env's database, auth and sipserver double behind an API of
// its own, with the PTZ lock's clock and the users' priorities in the
// test's hands.
func ptzEnv(t *testing.T, idle time.Duration, prios priorities) (*env, *fakeClock, func(user string) *client) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.seed()
	clock := &fakeClock{now: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	api := &console.API{
		Store: e.st, Auth: e.auth, Sip: &sipapi.Client{BaseURL: e.sip.srv.URL, Token: serviceToken, Timeout: console.SipCallTimeout},
		Signer: e.signer, PublicURL: "http://media.example:8888", RTSPURL: "rtsp://media.example:8554",
		Log: quiet, Now: clock.Now, PTZPriorities: prios, PTZLockIdle: idle,
	}
	if err := api.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(validated(t, mux))
	t.Cleanup(api.Close)
	t.Cleanup(srv.Close)
	login := func(user string) *client {
		t.Helper()
		e.addUser(user, user+"-password", store.RoleOperator)
		jar, _ := cookiejar.New(nil)
		c := &client{t: t, base: srv.URL, hc: &http.Client{Jar: jar}}
		c.login(user, user+"-password")
		return c
	}
	return e, clock, login
}

// ptzLocked is the 409 answer's body.
type ptzLocked struct {
	Code   string    `json:"code"`
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

func TestPTZLock(t *testing.T) {
	const idle = 20 * time.Second
	e, clock, login := ptzEnv(t, idle, priorities{"ann": 5, "bob": 5, "chief": 8})
	ann, bob, chief := login("ann"), login("bob"), login("chief")
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

// A user without a PTZ priority is refused by the priorities' own answer,
// and takes no lock.
func TestPTZPriorityRefusal(t *testing.T) {
	e, _, login := ptzEnv(t, 0, priorities{"ann": 5})
	ann, eve := login("ann"), login("eve")
	path := "/api/v1/channels/" + channelA1 + "/ptz"
	mustStatus(t, "eve without a ptz right", eve.do(http.MethodPost, path, `{"action":"stop"}`), http.StatusForbidden, "forbidden")
	mustStatus(t, "ann, the camera still free", ann.do(http.MethodPost, path, `{"action":"stop"}`), http.StatusOK, "")
	if n := len(e.sip.callsTo("POST /internal/v1/devices/" + deviceA + "/channels/" + channelA1 + "/ptz")); n != 1 {
		t.Errorf("%d commands reached sipserver, want ann's one", n)
	}
}
