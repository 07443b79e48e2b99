package console

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestEventsDropSlowSubscriber(t *testing.T) {
	e := &Events{Buffer: 4, Log: slog.New(slog.DiscardHandler), subs: map[*subscription]struct{}{}}
	slow := e.subscribe(Viewer{Username: "a"})
	fast := e.subscribe(Viewer{Username: "b"})
	var got []Event
	for i := range 10 {
		e.publish(store.ChannelStatus, `{"n":`+strconv.Itoa(i)+`}`)
		// The fast subscriber keeps up; the slow one never reads.
		for len(fast.ch) > 0 {
			got = append(got, <-fast.ch)
		}
	}
	if len(got) != 10 || got[9].Name != EventStatus || got[9].Data != `{"n":9}` {
		t.Fatalf("fast subscriber got %+v", got)
	}
	// The slow one got its buffer's worth, then its queue was closed.
	n := 0
	for range slow.ch {
		n++
	}
	if n != 4 || e.Clients() != 1 {
		t.Fatalf("slow subscriber: %d queued, %d clients", n, e.Clients())
	}
	e.unsubscribe(slow) // already dropped: must not close twice
	e.publish("unknown_channel", "{}")
	if len(fast.ch) != 0 {
		t.Error("an unknown channel's notification was delivered")
	}
	e.publish(store.ChannelSession, `{"id":"s1","kind":"play"}`)
	if ev := <-fast.ch; ev.Name != EventSession {
		t.Errorf("session event named %q", ev.Name)
	}
	e.publish(store.ChannelCatalog, `{}`)
	if ev := <-fast.ch; ev.Name != EventCatalog {
		t.Errorf("catalog event named %q", ev.Name)
	}
	e.Close()
	if _, ok := <-fast.ch; ok {
		t.Error("Close left a subscriber open")
	}
	if late := e.subscribe(Viewer{}); late != nil {
		if _, ok := <-late.ch; ok {
			t.Error("subscribe after Close returned an open queue")
		}
	}
}

// TestEventsOnlyToWhoMaySee checks that a playback's or download's session
// events reach its owner and the admins only, live sessions everyone, and
// an unreadable session event nobody but the admins.
func TestEventsOnlyToWhoMaySee(t *testing.T) {
	e := &Events{Buffer: 16, Log: slog.New(slog.DiscardHandler), subs: map[*subscription]struct{}{}}
	olga := e.subscribe(Viewer{Username: "olga"})
	ivan := e.subscribe(Viewer{Username: "ivan"})
	root := e.subscribe(Viewer{Username: "root", Admin: true})
	for _, payload := range []string{
		`{"id":"p1","kind":"playback","owner":"olga","state":"active"}`,
		`{"id":"d1","kind":"download","owner":"ivan","state":"active"}`,
		`{"id":"l1","kind":"play","state":"active"}`,
		`{"id":"x1","kind":"playback","state":"active"}`,
		`not json`,
	} {
		e.publish(store.ChannelSession, payload)
	}
	e.publish(store.ChannelStatus, `{"device_id":"d"}`)
	got := func(s *subscription) string {
		var ids []string
		for len(s.ch) > 0 {
			ev := <-s.ch
			var v struct {
				ID       string `json:"id"`
				DeviceID string `json:"device_id"`
			}
			_ = json.Unmarshal([]byte(ev.Data), &v)
			ids = append(ids, v.ID+v.DeviceID)
			if v.ID == "" && v.DeviceID == "" {
				ids[len(ids)-1] = ev.Data
			}
		}
		return strings.Join(ids, " ")
	}
	for _, tc := range []struct {
		who  string
		sub  *subscription
		want string
	}{
		{"olga", olga, "p1 l1 d"},
		{"ivan", ivan, "d1 l1 d"},
		{"admin", root, "p1 d1 l1 x1 not json d"},
	} {
		if g := got(tc.sub); g != tc.want {
			t.Errorf("%s got %q, want %q", tc.who, g, tc.want)
		}
	}
	e.Close()
}
