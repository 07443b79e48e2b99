package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// channelOnline returns the online state of channel id in a channel list
// answer, and whether it is listed.
func channelOnline(t *testing.T, c *client, path, id string) (online, listed bool) {
	t.Helper()
	var out struct {
		Items []struct {
			ID     string `json:"id"`
			Online bool   `json:"online"`
		} `json:"items"`
	}
	r := c.do(http.MethodGet, path, nil)
	mustStatus(t, path, r, http.StatusOK, "")
	r.json(t, &out)
	for _, it := range out.Items {
		if it.ID == id {
			return it.Online, true
		}
	}
	return false, false
}

// treeOnline returns the online state of channel id in GET /tree?by=by.
func treeOnline(t *testing.T, c *client, by, id string) (online, listed bool) {
	t.Helper()
	var out struct {
		Nodes []*console.Node `json:"nodes"`
	}
	r := c.do(http.MethodGet, "/api/v1/tree?by="+by, nil)
	mustStatus(t, "tree by "+by, r, http.StatusOK, "")
	r.json(t, &out)
	var walk func([]*console.Node) (bool, bool)
	walk = func(nodes []*console.Node) (bool, bool) {
		for _, n := range nodes {
			if n.Kind == console.NodeChannel && n.ID == id {
				return n.Online, true
			}
			if on, ok := walk(n.Children); ok {
				return on, ok
			}
		}
		return false, false
	}
	return walk(out.Nodes)
}

// TestOfflineDeviceTakesItsChannelsOffline is issue 12's bug: a channel
// whose own state is online but whose device went offline is offline in
// the channel list, its online filter, both trees, and the event stream.
func TestOfflineDeviceTakesItsChannelsOffline(t *testing.T) {
	e, c := operator(t, envOptions{})
	lr := c.login("olga", "olga-password")
	events, _ := openEvents(t, e, lr.Token)
	ctx := context.Background()

	// channelA1 is online on an online device (the seed).
	if on, ok := channelOnline(t, c, "/api/v1/channels?device_id="+deviceA, channelA1); !on || !ok {
		t.Fatalf("before: channel %s online %v listed %v, want online", channelA1, on, ok)
	}

	// deviceB's flips tell when the listener is there; nothing below reads deviceB.
	flipUntilDelivered(t, e, events)
	deadline := beforeDeadline(t)

	// deviceA goes offline; channelA1's own row still says online.
	if _, err := e.devices.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: deviceA, Online: false, Cause: "keepalive_timeout", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	for {
		var ev sseEvent
		select {
		case got, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			ev = got
		case <-deadline:
			t.Fatal("no event of deviceA going offline before the test's deadline")
		}
		var se console.DeviceStatusEvent
		if ev.name != console.TypeDeviceStatus || json.Unmarshal([]byte(ev.data), &se) != nil || se.DeviceID != deviceA {
			continue
		}
		if se.Online || se.V != console.EventVersion {
			t.Fatalf("deviceA's event %s, want v %d offline", ev.data, console.EventVersion)
		}
		seen := map[string]bool{}
		for _, ch := range se.Channels {
			seen[ch.ID] = true
			if ch.Online {
				t.Errorf("event %s: channel %s online behind its offline device", ev.data, ch.ID)
			}
		}
		if !seen[channelA1] || !seen[channelA2] {
			t.Errorf("event %s lacks deviceA's channels", ev.data)
		}
		break
	}

	for _, path := range []string{"/api/v1/channels?device_id=" + deviceA, "/api/v1/channels"} {
		if on, ok := channelOnline(t, c, path, channelA1); on || !ok {
			t.Errorf("%s: channel %s online %v listed %v, want offline", path, channelA1, on, ok)
		}
	}
	if _, ok := channelOnline(t, c, "/api/v1/channels?online=true", channelA1); ok {
		t.Errorf("/api/v1/channels?online=true lists %s behind an offline device", channelA1)
	}
	for _, by := range []string{"device", "region"} {
		if on, ok := treeOnline(t, c, by, channelA1); on || !ok {
			t.Errorf("tree by %s: channel %s online %v listed %v, want offline", by, channelA1, on, ok)
		}
	}
}
