package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// fakeCatalog answers channels with the effective state the read model
// would give them; it has no notifications of its own (the tests publish).
type fakeCatalog []store.Channel

func (f fakeCatalog) Listen(context.Context, []string, func(channel, payload string)) error {
	return nil
}

func (f fakeCatalog) AllChannels(_ context.Context, deviceID string) ([]store.Channel, error) {
	var out []store.Channel
	for _, c := range f {
		if deviceID == "" || c.DeviceID == deviceID {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f fakeCatalog) FindChannel(_ context.Context, id string) (store.Channel, error) {
	for _, c := range f {
		if c.ID == id {
			return c, nil
		}
	}
	return store.Channel{}, store.ErrNotFound
}

func newTestEvents(buffer int, cat EventStore) *Events {
	return &Events{Buffer: buffer, Store: cat, Log: slog.New(slog.DiscardHandler), subs: map[*subscription]struct{}{}, ctx: context.Background()}
}

func TestEventsDropSlowSubscriber(t *testing.T) {
	e := newTestEvents(4, fakeCatalog(nil))
	slow := e.subscribe(Viewer{Username: "a"})
	fast := e.subscribe(Viewer{Username: "b"})
	var got []Event
	for i := range 10 {
		e.publish(store.ChannelCatalog, `{"device_id":"d","added":`+strconv.Itoa(i)+`}`)
		// The fast subscriber keeps up; the slow one never reads.
		for len(fast.ch) > 0 {
			got = append(got, <-fast.ch)
		}
	}
	want := `{"v":1,"type":"catalog.changed","device_id":"d","added":9,"updated":0,"removed":0}`
	if len(got) != 10 || got[9].Name != TypeCatalog || string(got[9].Data) != want {
		t.Fatalf("fast subscriber got %d events, the last %s %s", len(got), got[len(got)-1].Name, got[len(got)-1].Data)
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
	e.publish(store.ChannelCatalog, "not json")
	if len(fast.ch) != 0 {
		t.Error("an unknown channel's or an unreadable notification was delivered")
	}
	e.publish(store.ChannelSession, `{"id":"s1","kind":"play"}`)
	if ev := <-fast.ch; ev.Name != TypeSession {
		t.Errorf("session event named %q", ev.Name)
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
// that an unreadable session event reaches nobody.
func TestEventsOnlyToWhoMaySee(t *testing.T) {
	e := newTestEvents(16, fakeCatalog(nil))
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
			_ = json.Unmarshal(ev.Data, &v)
			ids = append(ids, v.ID+v.DeviceID)
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
		{"admin", root, "p1 d1 l1 x1 d"},
	} {
		if g := got(tc.sub); g != tc.want {
			t.Errorf("%s got %q, want %q", tc.who, g, tc.want)
		}
	}
	e.Close()
}

// TestStatusEventsCarryEffectiveState checks that the browser learns the
// channels' effective state from the catalog, never the notification's own
// value: a device's event lists its channels, a channel's event says what
// the catalog says (offline behind an offline device).
func TestStatusEventsCarryEffectiveState(t *testing.T) {
	cat := fakeCatalog{
		{ID: "c1", DeviceID: "d1", Online: false},
		{ID: "c2", DeviceID: "d1", Online: false},
		{ID: "c3", DeviceID: "d2", Online: true},
	}
	for _, tc := range []struct {
		name, payload, want string
	}{
		{
			"device offline", `{"device_id":"d1","online":false,"cause":"keepalive_timeout","at":"2024-05-01T08:00:00Z"}`,
			`{"v":1,"type":"device.status","device_id":"d1","online":false,"cause":"keepalive_timeout","at":"2024-05-01T08:00:00Z",` +
				`"channels":[{"id":"c1","online":false},{"id":"c2","online":false}]}`,
		},
		{
			"channel online behind an offline device", `{"device_id":"d1","channel_id":"c1","online":true,"cause":"catalog","at":"2024-05-01T08:00:00Z"}`,
			`{"v":1,"type":"channel.status","device_id":"d1","channel_id":"c1","online":false,"cause":"catalog","at":"2024-05-01T08:00:00Z"}`,
		},
		{
			"channel online", `{"device_id":"d2","channel_id":"c3","online":true,"cause":"catalog","at":"2024-05-01T08:00:00Z"}`,
			`{"v":1,"type":"channel.status","device_id":"d2","channel_id":"c3","online":true,"cause":"catalog","at":"2024-05-01T08:00:00Z"}`,
		},
		{
			"device without channels", `{"device_id":"d3","online":true,"cause":"register","at":"2024-05-01T08:00:00Z"}`,
			`{"v":1,"type":"device.status","device_id":"d3","online":true,"cause":"register","at":"2024-05-01T08:00:00Z","channels":[]}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEvents(4, cat)
			s := e.subscribe(Viewer{Username: "olga"})
			e.publish(store.ChannelStatus, tc.payload)
			if len(s.ch) != 1 {
				t.Fatalf("%d events, want 1", len(s.ch))
			}
			if ev := <-s.ch; string(ev.Data) != tc.want {
				t.Errorf("got  %s\nwant %s", ev.Data, tc.want)
			}
			e.Close()
		})
	}
}

// countingCatalog counts the catalog reads a status event makes.
type countingCatalog struct {
	fakeCatalog
	reads int
}

func (c *countingCatalog) AllChannels(ctx context.Context, deviceID string) ([]store.Channel, error) {
	c.reads++
	return c.fakeCatalog.AllChannels(ctx, deviceID)
}

func (c *countingCatalog) FindChannel(ctx context.Context, id string) (store.Channel, error) {
	c.reads++
	return c.fakeCatalog.FindChannel(ctx, id)
}

// TestStatusEventsReadNothingForNobody checks that a status notification
// costs no query while no browser listens: the listener handles
// notifications one by one, and a mass keepalive timeout must not queue a
// query per device.
func TestStatusEventsReadNothingForNobody(t *testing.T) {
	cat := &countingCatalog{fakeCatalog: fakeCatalog{{ID: "c1", DeviceID: "d1"}}}
	e := newTestEvents(4, cat)
	e.publish(store.ChannelStatus, `{"device_id":"d1","online":false,"cause":"keepalive_timeout","at":"2024-05-01T08:00:00Z"}`)
	e.publish(store.ChannelStatus, `{"device_id":"d1","channel_id":"c1","online":false,"cause":"catalog","at":"2024-05-01T08:00:00Z"}`)
	if cat.reads != 0 {
		t.Errorf("%d catalog reads without a client, want 0", cat.reads)
	}
	s := e.subscribe(Viewer{Username: "olga"})
	e.publish(store.ChannelStatus, `{"device_id":"d1","online":false,"cause":"keepalive_timeout","at":"2024-05-01T08:00:00Z"}`)
	if cat.reads != 1 || len(s.ch) != 1 {
		t.Errorf("with a client: %d reads, %d events, want 1 and 1", cat.reads, len(s.ch))
	}
	e.Close()
}
