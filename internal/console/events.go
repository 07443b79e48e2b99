package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// SSE event names, one per store notification channel.
const (
	EventStatus  = "status"
	EventCatalog = "catalog"
	EventSession = "session"
)

// eventNames maps the store's notification channels to SSE event names.
var eventNames = map[string]string{
	store.ChannelStatus:  EventStatus,
	store.ChannelCatalog: EventCatalog,
	store.ChannelSession: EventSession,
}

// Event is one server-sent event: a store notification.
type Event struct {
	// Name is status, catalog or session.
	Name string
	// Data is the notification's JSON payload, passed on unchanged.
	Data string
	// private marks the session event of a playback or download (or one
	// that cannot be read): only owner and admins receive it.
	private bool
	owner   string
}

// newEvent makes the event of a notification; ok is false for a channel
// that has no event.
func newEvent(channel, payload string) (ev Event, ok bool) {
	ev = Event{Name: eventNames[channel], Data: payload}
	if ev.Name == "" {
		return ev, false
	}
	if channel == store.ChannelSession {
		var se store.SessionEvent
		if err := json.Unmarshal([]byte(payload), &se); err != nil || se.Kind != KindPlay {
			// A playback or download is its owner's: nobody else learns of it.
			ev.private, ev.owner = true, se.Owner
		}
	}
	return ev, true
}

// Viewer is who receives an event stream.
type Viewer struct {
	Username string
	// Admin receives every session event (admins may force-stop any).
	Admin bool
}

// sees reports whether v may receive ev: live sessions, status and catalog
// changes go to every user, a playback's or download's events to its owner
// and the admins.
func (v Viewer) sees(ev Event) bool {
	return !ev.private || v.Admin || (ev.owner != "" && ev.owner == v.Username)
}

// Events fans the store's notifications out to the SSE clients: one
// database listener for every client. Each client has a bounded buffer;
// one that does not keep up is dropped (its browser reconnects and re-reads
// the state), so that it never delays the others.
type Events struct {
	Store *store.Store
	// Buffer is each client's queue length (default 64).
	Buffer int
	// PingInterval is the keep-alive comment interval (default 15 s).
	PingInterval time.Duration
	Log          *slog.Logger

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// subscription is one client's queue; ch is closed when it is dropped.
type subscription struct {
	ch     chan Event
	viewer Viewer
}

// Initialize starts listening.
func (e *Events) Initialize() error {
	if e.Buffer <= 0 {
		e.Buffer = 64
	}
	if e.PingInterval <= 0 {
		e.PingInterval = 15 * time.Second
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	e.subs = map[*subscription]struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	channels := []string{store.ChannelStatus, store.ChannelCatalog, store.ChannelSession}
	e.wg.Go(func() {
		if err := e.Store.Listen(ctx, channels, e.publish); err != nil {
			e.Log.Error("event listener stopped", "error", err)
		}
	})
	return nil
}

// Close stops listening and ends every client's stream.
func (e *Events) Close() {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for s := range e.subs {
		close(s.ch)
		delete(e.subs, s)
	}
}

// Clients returns the number of connected clients.
func (e *Events) Clients() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.subs)
}

func (e *Events) publish(channel, payload string) {
	ev, ok := newEvent(channel, payload)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.subs {
		// Filtered before the queue: an event a client may not see never
		// fills its buffer.
		if !s.viewer.sees(ev) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			close(s.ch)
			delete(e.subs, s)
			e.Log.Info("dropped a slow event client", "buffer", e.Buffer)
		}
	}
}

func (e *Events) subscribe(v Viewer) *subscription {
	s := &subscription{ch: make(chan Event, e.Buffer), viewer: v}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		close(s.ch)
		return s
	}
	e.subs[s] = struct{}{}
	return s
}

func (e *Events) unsubscribe(s *subscription) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.subs[s]; ok {
		close(s.ch)
		delete(e.subs, s)
	}
}
