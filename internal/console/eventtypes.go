package console

import "time"

// EventVersion is the version of the event payloads, their "v": a new
// field keeps it, a field whose meaning changes or that goes away raises it.
const EventVersion = 1

// Event types: each is both the SSE event name and the payload's "type".
const (
	// TypeDeviceStatus is a DeviceStatusEvent.
	TypeDeviceStatus = "device.status"
	// TypeChannelStatus is a ChannelStatusEvent.
	TypeChannelStatus = "channel.status"
	// TypeCatalog is a CatalogEvent.
	TypeCatalog = "catalog.changed"
	// TypeSession is a SessionEvent.
	TypeSession = "session.state"
)

// EventHeader starts every event payload: its version and type.
type EventHeader struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

func header(typ string) EventHeader { return EventHeader{V: EventVersion, Type: typ} }

// ChannelState is a channel's effective state: offline when its device is.
type ChannelState struct {
	ID     string `json:"id"`
	Online bool   `json:"online"`
}

// DeviceStatusEvent says a device went online or offline. Channels is the
// effective state of each of its channels after the change, so that a
// browser applies "a channel is offline when its device is" without
// deciding it itself; it is null when they could not be read (re-read
// the tree then).
type DeviceStatusEvent struct {
	EventHeader
	DeviceID string         `json:"device_id"`
	Online   bool           `json:"online"`
	Cause    string         `json:"cause"`
	At       time.Time      `json:"at"`
	Channels []ChannelState `json:"channels"`
}

// ChannelStatusEvent says a channel's own status changed. Online is its
// effective state (false while its device is offline, whatever the
// channel reports).
type ChannelStatusEvent struct {
	EventHeader
	DeviceID  string    `json:"device_id"`
	ChannelID string    `json:"channel_id"`
	Online    bool      `json:"online"`
	Cause     string    `json:"cause"`
	At        time.Time `json:"at"`
}

// CatalogEvent says how many channels of a device one catalog update
// added, updated and removed.
type CatalogEvent struct {
	EventHeader
	DeviceID string `json:"device_id"`
	Added    int    `json:"added"`
	Updated  int    `json:"updated"`
	Removed  int    `json:"removed"`
}

// SessionEvent is a state change of a media session: a shared live one
// (kind play), or a user's playback or download (only its owner and the
// admins receive those).
type SessionEvent struct {
	EventHeader
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	DeviceID  string    `json:"device_id"`
	ChannelID string    `json:"channel_id"`
	Path      string    `json:"path"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	At        time.Time `json:"at"`
}
