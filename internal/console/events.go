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
	// AllChannels lists the channels of a device ("" every device).
	AllChannels(ctx context.Context, deviceID string) ([]store.Channel, error)
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
	// deviceID and channelID say which camera the event is about, so that
	// only the viewers who may see it receive it; device carries the
	// DeviceStatusEvent whose Channels are narrowed per viewer.
	deviceID, channelID string
	device              *DeviceStatusEvent
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
		switch st := v.(type) {
		case ChannelStatusEvent:
			ev.deviceID, ev.channelID = st.DeviceID, st.ChannelID
		case DeviceStatusEvent:
			ev.deviceID, ev.device = st.DeviceID, &st
		}
	case store.ChannelCatalog:
		var c store.CatalogEvent
		if err = json.Unmarshal([]byte(payload), &c); err == nil {
			ev.deviceID = c.DeviceID
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
			ev.deviceID, ev.channelID = s.DeviceID, s.ChannelID
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
	chs, err := e.Store.AllChannels(ctx, s.DeviceID)
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

// ViewerCatalog is the read model in a viewer's scope
// (catalogview.View.In): the events of a camera outside it never reach the
// viewer.
type ViewerCatalog interface {
	GetDevice(ctx context.Context, id string) (store.Device, error)
	FindChannel(ctx context.Context, id string) (store.Channel, error)
	AllChannels(ctx context.Context, deviceID string) ([]store.Channel, error)
}

// Viewer is who receives an event stream.
type Viewer struct {
	Username string
	// Admin receives every session event (admins may force-stop any).
	Admin bool
	// Catalog returns what the viewer may see now (asked per event: a
	// grant's hours and validity move with the clock); the API sets it for
	// every non-admin. nil filters by nothing (tests of the fan-out only).
	Catalog func() ViewerCatalog
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
	// The grants are read outside the lock (subscribing must not wait for
	// the database); a client gone meanwhile is skipped below.
	e.mu.Lock()
	subs := make([]*subscription, 0, len(e.subs))
	for s := range e.subs {
		subs = append(subs, s)
	}
	e.mu.Unlock()
	out := make(map[*subscription]Event, len(subs))
	for _, s := range subs {
		// Filtered before the queue: an event a client may not see never
		// fills its buffer.
		if !s.viewer.sees(ev) {
			continue
		}
		if sev, ok := e.narrow(s.viewer, ev); ok {
			out[s] = sev
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for s, ev := range out {
		if _, ok := e.subs[s]; !ok {
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

// narrow returns ev as viewer v may see it: not at all when its camera is
// outside v's grants, a device's status with only the channels v sees.
func (e *Events) narrow(v Viewer, ev Event) (Event, bool) {
	if v.Admin || v.Catalog == nil || ev.deviceID == "" {
		return ev, true
	}
	ctx, cancel := context.WithTimeout(e.ctx, eventQueryTimeout)
	defer cancel()
	cat := v.Catalog()
	if ev.channelID != "" {
		_, err := cat.FindChannel(ctx, ev.channelID)
		return ev, err == nil
	}
	if _, err := cat.GetDevice(ctx, ev.deviceID); err != nil {
		return ev, false
	}
	if ev.device == nil {
		return ev, true
	}
	chs, err := cat.AllChannels(ctx, ev.deviceID)
	if err != nil {
		e.Log.Warn("read a viewer's channels of a device status event", "device_id", ev.deviceID, "error", err)
		return ev, false
	}
	d := *ev.device
	d.Channels = make([]ChannelState, 0, len(chs))
	for _, c := range chs {
		d.Channels = append(d.Channels, ChannelState{ID: c.ID, Online: c.Online})
	}
	data, err := json.Marshal(d)
	if err != nil {
		return ev, false
	}
	ev.Data = data
	return ev, true
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
