package sipdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
)

// hangGuard only keeps a broken test from hanging; nothing is expected to take this long.
const hangGuard = time.Minute

type notification struct{ channel, payload string }

// listener runs Store.Listen for a test.
type listener struct {
	s      *sipdb.DB
	events chan notification
	seq    int
}

// listen starts Listen on channels and returns once it listens.
// The test's end cancels it and checks that it returns nil.
func listen(t *testing.T, s *sipdb.DB, channels ...string) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, events: make(chan notification, 10000)}
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, channels, func(channel, payload string) { l.events <- notification{channel, payload} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen returned %v", err)
		}
	})
	l.waitListening(t)
	return l
}

// waitListening waits for Listen's ChannelListening call, dropping what
// arrives before it.
func (l *listener) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		select {
		case n := <-l.events:
			if n.channel == store.ChannelListening {
				if n.payload != "" {
					t.Fatalf("listening payload %q", n.payload)
				}
				return
			}
		case <-deadline:
			t.Fatal("Listen did not report listening")
		}
	}
}

// sync sends pings on channel until one comes back, dropping what arrives before
// it. Notifications sent while Listen is not (yet, or no longer) listening are
// lost, so this is how a test knows it is listening. On a loaded machine
// several pings may be on their way when the first returns: every ping has
// its own payload, and next and expectNone skip the late ones.
func (l *listener) sync(t *testing.T, channel string) {
	t.Helper()
	deadline := time.After(hangGuard)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := map[string]bool{}
	for {
		l.seq++
		ping := fmt.Sprintf("%s%d", pingPrefix, l.seq)
		sent[ping] = true
		if _, err := l.s.Pool.Exec(context.Background(), `SELECT pg_notify($1, $2)`, channel, ping); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-l.events:
			if sent[n.payload] {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatal("listener does not receive")
		}
	}
}

// pingPrefix marks sync's payloads; events are JSON, so none starts with it.
const pingPrefix = "ping "

// isPing also reports Listen's ChannelListening calls, which tests of the
// events skip like pings.
func isPing(n notification) bool {
	return strings.HasPrefix(n.payload, pingPrefix) || n.channel == store.ChannelListening
}

// next returns the next notification that is not a ping.
func (l *listener) next(t *testing.T) notification {
	t.Helper()
	timeout := time.After(hangGuard)
	for {
		select {
		case n := <-l.events:
			if !isPing(n) {
				return n
			}
		case <-timeout:
			t.Fatal("no notification")
			return notification{}
		}
	}
}

// expectNone fails when anything but late pings is queued.
func (l *listener) expectNone(t *testing.T) {
	t.Helper()
	for {
		select {
		case n := <-l.events:
			if !isPing(n) {
				t.Fatalf("unexpected %+v", n)
			}
		default:
			return
		}
	}
}

func (l *listener) nextStatus(t *testing.T) store.StatusEvent {
	t.Helper()
	n := l.next(t)
	var ev store.StatusEvent
	if err := json.Unmarshal([]byte(n.payload), &ev); n.channel != store.ChannelStatus || err != nil {
		t.Fatalf("got %+v (%v), want a status event", n, err)
	}
	return ev
}

func (l *listener) nextCatalog(t *testing.T) store.CatalogEvent {
	t.Helper()
	n := l.next(t)
	var ev store.CatalogEvent
	if err := json.Unmarshal([]byte(n.payload), &ev); n.channel != store.ChannelCatalog || err != nil {
		t.Fatalf("got %+v (%v), want a catalog event", n, err)
	}
	return ev
}

func TestListenStatus(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedDevices(t, s, 1)
	dev := deviceID(1)
	const ch = "34020000001310000001"
	if _, err := s.SyncCatalog(ctx, dev, []store.Channel{{ID: ch}}); err != nil {
		t.Fatal(err)
	}
	l := listen(t, s, store.ChannelStatus, store.ChannelCatalog)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 123456000, time.UTC)
	if _, err := s.ApplyStatusChanges(ctx, []store.StatusChange{
		{DeviceID: dev, Online: true, Cause: "register", At: t0},
		{DeviceID: dev, Online: true, Cause: "keepalive", At: t0}, // not a transition: not published
		{DeviceID: dev, ChannelID: ch, Online: true, Cause: "catalog", At: t0.Add(time.Second)},
		{DeviceID: dev, Online: false, Cause: "unregister", At: t0.Add(2 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []store.StatusEvent{
		{DeviceID: dev, Online: true, Cause: "register", At: t0},
		{DeviceID: dev, ChannelID: ch, Online: true, Cause: "catalog", At: t0.Add(time.Second)},
		{DeviceID: dev, Online: false, Cause: "unregister", At: t0.Add(2 * time.Second)},
	} {
		if got := l.nextStatus(t); got != want {
			t.Fatalf("event %d = %+v, want %+v", i, got, want)
		}
	}
	// A failed batch publishes nothing: the next event is the ping.
	if _, err := s.ApplyStatusChanges(ctx, []store.StatusChange{{DeviceID: dev, Online: true}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	l.sync(t, store.ChannelStatus)
	l.expectNone(t)
}

func TestListenCatalog(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedDevices(t, s, 1)
	dev := deviceID(1)
	l := listen(t, s, store.ChannelCatalog)
	a := store.Channel{ID: "34020000001310000001", Name: "a"}
	b := store.Channel{ID: "34020000001310000002", Name: "b"}
	renamed := store.Channel{ID: a.ID, Name: "a2"}
	for _, tc := range []struct {
		name  string
		write func() error
		want  *store.CatalogEvent // nil: nothing changed, nothing published
		count int                 // channel_count afterwards
	}{
		{"sync adds", func() error {
			_, err := s.SyncCatalog(ctx, dev, []store.Channel{a, b})
			return err
		}, &store.CatalogEvent{DeviceID: dev, Added: 2}, 2},
		{"same sync", func() error {
			_, err := s.SyncCatalog(ctx, dev, []store.Channel{a, b})
			return err
		}, nil, 2},
		{"sync updates and removes", func() error {
			_, err := s.SyncCatalog(ctx, dev, []store.Channel{renamed})
			return err
		}, &store.CatalogEvent{DeviceID: dev, Updated: 1, Removed: 1}, 1},
		{"upsert adds", func() error {
			_, _, err := s.UpsertChannels(ctx, dev, []store.Channel{b, renamed})
			return err
		}, &store.CatalogEvent{DeviceID: dev, Added: 1}, 2},
		{"upsert updates", func() error {
			_, _, err := s.UpsertChannels(ctx, dev, []store.Channel{a})
			return err
		}, &store.CatalogEvent{DeviceID: dev, Updated: 1}, 2},
		{"delete unknown", func() error {
			_, err := s.DeleteChannels(ctx, dev, []string{"nope"})
			return err
		}, nil, 2},
		{"delete", func() error {
			_, err := s.DeleteChannels(ctx, dev, []string{a.ID, b.ID})
			return err
		}, &store.CatalogEvent{DeviceID: dev, Removed: 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.write(); err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				if got := l.nextCatalog(t); got != *tc.want {
					t.Fatalf("event %+v, want %+v", got, *tc.want)
				}
			}
			// Notifications arrive in commit order: nothing else may come before the ping.
			l.sync(t, store.ChannelCatalog)
			l.expectNone(t)
			if d, err := s.GetDevice(ctx, dev); err != nil || d.ChannelCount != tc.count {
				t.Fatalf("channel_count %d (%v), want %d", d.ChannelCount, err, tc.count)
			}
		})
	}
}

func TestListenReconnects(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	l := listen(t, s, store.ChannelStatus)
	const listenerPID = `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`
	var old int
	if err := s.Pool.QueryRow(ctx, listenerPID, store.ListenerApplicationName).Scan(&old); err != nil || old == 0 {
		t.Fatalf("listener session: pid %d, %v", old, err)
	}
	if _, err := s.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	// Only a new session reports listening again; then it receives.
	l.waitListening(t)
	l.sync(t, store.ChannelStatus)
}

func TestListenNoChannels(t *testing.T) {
	s := open(t)
	if err := s.Listen(context.Background(), nil, func(string, string) {}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}
