package console

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Catalog reads devices and channels with their effective state (a
// channel is offline when its device is), computed in SQL by the shared
// read model: the console never overlays it in Go.
type Catalog interface {
	ListDevices(ctx context.Context, f store.DeviceFilter) ([]store.Device, int, error)
	ListChannels(ctx context.Context, f store.ChannelFilter) ([]store.Channel, int, error)
	FindChannel(ctx context.Context, id string) (store.Channel, error)
}

// EventStore is what Events reads: the database's notifications, and the
// catalog for the channels' effective state (consoledb.DB).
type EventStore interface {
	Catalog
	Listen(ctx context.Context, channels []string, fn func(channel, payload string)) error
}

// Event is one server-sent event: a store notification as the console's
// own versioned type (eventtypes.go).
type Event struct {
	// Name is the payload's type (TypeDeviceStatus, …).
	Name string
	// Data is the JSON payload.
	Data []byte
	// private marks the session event of a playback or download: only
	// owner and admins receive it.
	private bool
	owner   string
}

// eventQueryTimeout bounds the reading of the channels' state an event carries.
const eventQueryTimeout = 10 * time.Second

// newEvent makes the event of a notification; ok is false for a channel
// that has no event and for a payload that cannot be read (logged).
func (e *Events) newEvent(ctx context.Context, channel, payload string) (ev Event, ok bool) {
	var v any
	var err error
	switch channel {
	case store.ChannelStatus:
		ev.Name, v, err = e.statusEvent(ctx, payload)
	case store.ChannelCatalog:
		var c store.CatalogEvent
		if err = json.Unmarshal([]byte(payload), &c); err == nil {
			ev.Name, v = TypeCatalog, CatalogEvent{
				EventHeader: header(TypeCatalog), DeviceID: c.DeviceID, Added: c.Added, Updated: c.Updated, Removed: c.Removed,
			}
		}
	case store.ChannelSession:
		var s store.SessionEvent
		if err = json.Unmarshal([]byte(payload), &s); err == nil {
			ev.Name, v = TypeSession, SessionEvent{
				EventHeader: header(TypeSession), ID: s.ID, Kind: s.Kind, DeviceID: s.DeviceID, ChannelID: s.ChannelID,
				Path: s.Path, State: s.State, Reason: s.Reason, Owner: s.Owner, At: s.At,
			}
			// A playback or download is its owner's: nobody else learns of it.
			ev.private, ev.owner = s.Kind != sipapi.KindPlay, s.Owner
		}
	default:
		return ev, false
	}
	if err == nil {
		ev.Data, err = json.Marshal(v)
	}
	if err != nil {
		e.Log.Warn("drop a notification", "channel", channel, "payload", strconv.QuoteToASCII(payload), "error", err)
		return ev, false
	}
	return ev, true
}

// statusEvent is the event of a status notification, with the effective
// state of the channels it changes read from the catalog.
func (e *Events) statusEvent(ctx context.Context, payload string) (name string, v any, err error) {
	var s store.StatusEvent
	if err := json.Unmarshal([]byte(payload), &s); err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, eventQueryTimeout)
	defer cancel()
	if s.ChannelID != "" {
		ch, err := e.Store.FindChannel(ctx, s.ChannelID)
		if err != nil {
			return "", nil, fmt.Errorf("read channel %s: %w", s.ChannelID, err)
		}
		return TypeChannelStatus, ChannelStatusEvent{
			EventHeader: header(TypeChannelStatus), DeviceID: s.DeviceID, ChannelID: s.ChannelID,
			Online: ch.Online, Cause: s.Cause, At: s.At,
		}, nil
	}
	ev := DeviceStatusEvent{EventHeader: header(TypeDeviceStatus), DeviceID: s.DeviceID, Online: s.Online, Cause: s.Cause, At: s.At}
	chs, err := readAll(func(offset int) ([]store.Channel, int, error) {
		return e.Store.ListChannels(ctx, store.ChannelFilter{DeviceID: s.DeviceID, Limit: 1000, Offset: offset})
	})
	if err != nil {
		// The device's own change still goes out; without channels the
		// browser re-reads the tree.
		e.Log.Warn("read the channels of a device status event", "device_id", s.DeviceID, "error", err)
		return TypeDeviceStatus, ev, nil
	}
	ev.Channels = make([]ChannelState, 0, len(chs))
	for _, c := range chs {
		ev.Channels = append(ev.Channels, ChannelState{ID: c.ID, Online: c.Online})
	}
	return TypeDeviceStatus, ev, nil
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
	// Store gives the notifications, and the channels' effective state the
	// status events carry.
	Store EventStore
	// Buffer is each client's queue length (default 64).
	Buffer int
	// PingInterval is the keep-alive comment interval (default 15 s).
	PingInterval time.Duration
	Log          *slog.Logger

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
	ctx    context.Context
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
	e.ctx, e.cancel = context.WithCancel(context.Background())
	channels := []string{store.ChannelStatus, store.ChannelCatalog, store.ChannelSession}
	e.wg.Go(func() {
		if err := e.Store.Listen(e.ctx, channels, e.publish); err != nil {
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

// publish sends a notification to the clients that may see it; it runs on
// the listener's goroutine.
func (e *Events) publish(channel, payload string) {
	// A status event reads the channels' effective state: not for nobody
	// (a mass keepalive timeout would queue one query per device here). A
	// client that connects meanwhile reads the state when it opens.
	if e.Clients() == 0 {
		return
	}
	ev, ok := e.newEvent(e.ctx, channel, payload)
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
