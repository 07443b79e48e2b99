package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	name, data string
}

// openEvents connects to /api/v1/events and returns a channel of events
// (closed when the stream ends).
func openEvents(t *testing.T, e *env, token string) (<-chan sseEvent, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(cancel)
	return out, cancel
}

func TestEventsDeliverStatusChanges(t *testing.T) {
	e, c := operator(t, envOptions{})
	lr := c.login("olga", "olga-password")
	events, _ := openEvents(t, e, lr.Token)
	flipUntilDelivered(t, e, events)
}

// flipUntilDelivered flips deviceB's state until one of its changes
// reaches events as a device.status event of version EventVersion: the
// listener connects in the background, and PostgreSQL does not queue
// notifications for a listener not yet there. Bounded by the test binary's
// deadline only: how soon it connects depends on the machine's load.
func flipUntilDelivered(t *testing.T, e *env, events <-chan sseEvent) {
	t.Helper()
	ctx := context.Background()
	deadline := beforeDeadline(t)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	online := false
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			if ev.name != console.TypeDeviceStatus {
				continue
			}
			var se console.DeviceStatusEvent
			if err := json.Unmarshal([]byte(ev.data), &se); err != nil || se.V != console.EventVersion || se.Type != ev.name {
				t.Fatalf("status event %q: %v", ev.data, err)
			}
			// The seed's own change (deviceA's register) may reach the
			// stream first when the listener was slow to deliver it.
			if se.DeviceID == deviceB && se.Cause == "test" {
				return
			}
		case <-tick.C:
			online = !online
			if _, err := e.devices.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: deviceB, Online: online, Cause: "test", At: time.Now()}}); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("no status event before the test's deadline")
		}
	}
}

// TestEventsEndWithTheSession checks that an event stream does not outlive
// its login: after a logout it ends at the next ping.
func TestEventsEndWithTheSession(t *testing.T) {
	e := newEnv(t, envOptions{pingInterval: 20 * time.Millisecond})
	e.addUser("olga", "olga-password", store.RoleOperator)
	c := e.client()
	lr := c.login("olga", "olga-password")
	events, _ := openEvents(t, e, lr.Token)
	b := e.client()
	b.bearer = lr.Token
	mustStatus(t, "logout", b.do(http.MethodPost, "/api/v1/auth/logout", nil), http.StatusNoContent, "")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the event stream still runs 10 s after the logout")
		}
	}
}

// TestEventsMatchTheDocument has the real server send one event of each
// type through the validating server of newEnv, which checks every event
// against the schema openapi.json's Event mapping names for it (apitest):
// a field renamed in eventtypes.go or in the document fails here.
func TestEventsMatchTheDocument(t *testing.T) {
	e, c := operator(t, envOptions{})
	lr := c.login("olga", "olga-password")
	events, _ := openEvents(t, e, lr.Token)
	flipUntilDelivered(t, e, events) // a device.status event: the listener is there
	ctx := context.Background()

	// Notifications keep their order, so each write's event follows the
	// flips' last one.
	if _, err := e.devices.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: deviceA, ChannelID: channelA1, Online: false, Cause: "test", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.devices.SyncCatalog(ctx, deviceB, []store.Channel{{ID: channelB1, Name: "Yard"}, {ID: channelB1[:18] + "99", Name: "Yard north"}}); err != nil {
		t.Fatal(err)
	}
	// A live session as sipserver's store announces it (reason and owner
	// set, which the schema lists as optional).
	b, _ := json.Marshal(store.SessionEvent{
		ID: "s1", Kind: "play", DeviceID: deviceA, ChannelID: channelA1, Path: "live/" + channelA1,
		State: "ended", Reason: "bye", Owner: "olga", At: time.Now(),
	})
	if _, err := e.st.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, store.ChannelSession, string(b)); err != nil {
		t.Fatal(err)
	}

	want := map[string]bool{console.TypeChannelStatus: true, console.TypeCatalog: true, console.TypeSession: true}
	deadline := beforeDeadline(t)
	for len(want) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			delete(want, ev.name)
		case <-deadline:
			t.Fatalf("events %v not received before the test's deadline", want)
		}
	}
}
