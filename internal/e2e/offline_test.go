package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// sseEvent is one server-sent event as a browser's EventSource gets it.
type sseEvent struct {
	Name string
	Data []byte
}

// openEvents opens the console's event stream with token and delivers its
// events until the test ends.
func openEvents(t *testing.T, url, token string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	events := make(chan sseEvent, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.Name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data = append(ev.Data, strings.TrimSpace(strings.TrimPrefix(line, "data:"))...)
			case line == "" && ev.Data != nil:
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return events
}

// deviceStatus is the console's device.status event, as the web UI reads it.
type deviceStatus struct {
	V        int    `json:"v"`
	Type     string `json:"type"`
	DeviceID string `json:"device_id"`
	Online   bool   `json:"online"`
	Channels []struct {
		ID     string `json:"id"`
		Online bool   `json:"online"`
	} `json:"channels"`
}

// treeNode is a node of the console's /api/v1/tree.
type treeNode struct {
	ID       string      `json:"id"`
	Kind     string      `json:"kind"`
	Online   bool        `json:"online"`
	DeviceID string      `json:"device_id"`
	Children []*treeNode `json:"children"`
}

func (n *treeNode) channels(device string, into map[string]bool) {
	if n.Kind == "channel" && n.DeviceID == device {
		into[n.ID] = n.Online
	}
	for _, c := range n.Children {
		c.channels(device, into)
	}
}

// TestDeviceOfflineTakesItsChannels is issue 12's bug: a channel behind an
// offline device (an NVR switched off) is offline for every reader — the
// console's channel list and tree, sipserver's internal API, and the event
// stream a browser follows — because the rule lives once, in the
// channel_state view all of them read.
func TestDeviceOfflineTakesItsChannels(t *testing.T) {
	s := newStack(t, nil)
	s.startSipserver()
	const channels = 3
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 1, channels })
	cs := s.withConsole()

	var devs struct {
		Items []struct{ ID string } `json:"items"`
	}
	if code := s.sip("GET", "/internal/v1/devices", nil, &devs); code != http.StatusOK || len(devs.Items) != 1 {
		t.Fatalf("sipserver devices: %d %+v", code, devs)
	}
	device := devs.Items[0].ID

	// The operator logs in (and sets a password, as the console asks first).
	var login struct {
		Token string `json:"token"`
	}
	if code := call(t, "POST", cs.base()+"/api/v1/auth/login", map[string]string{"username": "admin", "password": "admin"}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	if code := callAs(t, login.Token, "POST", cs.base()+"/api/v1/auth/password",
		map[string]string{"old_password": "admin", "new_password": "Offline-0perator!"}, nil); code/100 != 2 {
		t.Fatalf("password change: %d", code)
	}
	if code := call(t, "POST", cs.base()+"/api/v1/auth/login", map[string]string{"username": "admin", "password": "Offline-0perator!"}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	api := func(path string, out any) {
		t.Helper()
		if code := callAs(t, login.Token, "GET", cs.base()+path, nil, out); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
	}

	tree := func(by string) map[string]bool {
		var out struct {
			Nodes []*treeNode `json:"nodes"`
		}
		api("/api/v1/tree?by="+by, &out)
		m := map[string]bool{}
		for _, n := range out.Nodes {
			n.channels(device, m)
		}
		return m
	}

	// What each reader says of the device's channels: ID → online.
	type list struct {
		Items []struct {
			ID       string `json:"id"`
			DeviceID string `json:"device_id"`
			Online   bool   `json:"online"`
		} `json:"items"`
		Total int `json:"total"`
	}
	readers := map[string]func() map[string]bool{
		"console /api/v1/channels": func() map[string]bool {
			var l list
			api("/api/v1/channels?device_id="+device, &l)
			m := map[string]bool{}
			for _, c := range l.Items {
				m[c.ID] = c.Online
			}
			return m
		},
		"console /api/v1/tree":           func() map[string]bool { return tree("device") },
		"console /api/v1/tree?by=region": func() map[string]bool { return tree("region") },
		"sipserver /internal/v1/channels": func() map[string]bool {
			var l list
			if code := s.sip("GET", "/internal/v1/channels?device_id="+device, nil, &l); code != http.StatusOK {
				t.Fatalf("sipserver channels: %d", code)
			}
			m := map[string]bool{}
			for _, c := range l.Items {
				m[c.ID] = c.Online
			}
			return m
		},
	}
	check := func(want bool) {
		t.Helper()
		for name, read := range readers {
			got := read()
			if len(got) != channels {
				t.Fatalf("%s: %d channels of %s, want %d: %v", name, len(got), device, channels, got)
			}
			for id, online := range got {
				if online != want {
					t.Errorf("%s: channel %s online %v, want %v", name, id, online, want)
				}
			}
		}
	}
	check(true)

	events := openEvents(t, cs.base()+"/api/v1/events", login.Token)
	s.stopSim() // the device unregisters on its way out

	// The browser learns it from the stream: the device's status event
	// carries the effective state of each of its channels.
	settle := 2*s.sipCfg.SIP.RequestTimeout.Std() + s.sipCfg.SIP.FlushInterval.Std()
	var offline *deviceStatus
	testsupport.Eventually(t, settle, "the device's offline event", func() bool {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			var d deviceStatus
			if ev.Name == "device.status" && json.Unmarshal(ev.Data, &d) == nil && d.DeviceID == device && !d.Online {
				offline = &d
			}
		default:
		}
		return offline != nil
	})
	if len(offline.Channels) != channels {
		t.Fatalf("device.status event has %d channels, want %d: %+v", len(offline.Channels), channels, offline)
	}
	for _, c := range offline.Channels {
		if c.Online {
			t.Errorf("device.status event: channel %s online", c.ID)
		}
	}
	// And every read after it says the same.
	check(false)
}
