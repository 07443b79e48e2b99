// Package sipapi is the contract of sipserver's internal API (/internal/v1,
// docs/sipserver-api.md): its request and response types, its error codes
// and the one Client the console and mediagw call it with. sipserver's
// handlers answer with these types, so the two sides cannot drift; the JSON
// field names are the API's and stay as they are.
package sipapi

import (
	"time"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

// Summary is the answer of GET /internal/v1/summary.
type Summary struct {
	Devices    int        `json:"devices"`
	Registered int        `json:"registered"`
	Online     int        `json:"online"`
	SIP        SummarySIP `json:"sip"`
}

// SummarySIP is sipserver's own SIP identity and address.
type SummarySIP struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
	Addr   string `json:"addr"`
}

// Device is a device as the API shows it: stored fields and live state.
type Device struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Manufacturer      string     `json:"manufacturer"`
	Model             string     `json:"model"`
	Firmware          string     `json:"firmware"`
	Transport         string     `json:"transport"`
	RemoteAddr        string     `json:"remote_addr"`
	GBVersion         string     `json:"gb_version"`
	Online            bool       `json:"online"`
	Registered        bool       `json:"registered"`
	RegisteredAt      *time.Time `json:"registered_at,omitempty"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	LastKeepaliveAt   *time.Time `json:"last_keepalive_at,omitempty"`
	HeartbeatInterval int        `json:"heartbeat_interval"`
	HeartbeatCount    int        `json:"heartbeat_count"`
	ChannelCount      int        `json:"channel_count"`
	CatalogSubscribed bool       `json:"catalog_subscribed"`
	StreamTransport   string     `json:"stream_transport"`
	SourceCheck       string     `json:"source_check"`
}

// Channel is a channel as the API shows it. Online is the effective state:
// the catalog's status and its device's being online.
type Channel struct {
	DeviceID        string            `json:"device_id"`
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Manufacturer    string            `json:"manufacturer"`
	Model           string            `json:"model"`
	Owner           string            `json:"owner"`
	CivilCode       string            `json:"civil_code"`
	Address         string            `json:"address"`
	Parental        bool              `json:"parental"`
	ParentID        string            `json:"parent_id"`
	BusinessGroupID string            `json:"business_group_id"`
	Status          string            `json:"status"`
	Online          bool              `json:"online"`
	Longitude       *float64          `json:"longitude,omitempty"`
	Latitude        *float64          `json:"latitude,omitempty"`
	PTZType         int               `json:"ptz_type"`
	RetentionClass  string            `json:"retention_class"`
	Extra           map[string]string `json:"extra,omitempty"`
	StreamTransport string            `json:"stream_transport"`
}

// StatusChange is one online/offline transition of a device (ChannelID
// empty) or of one of its channels.
type StatusChange struct {
	ChannelID string    `json:"channel_id,omitempty"`
	Online    bool      `json:"online"`
	Cause     string    `json:"cause"`
	At        time.Time `json:"at"`
}

// CatalogResult counts what a catalog refresh changed.
type CatalogResult struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Removed   int `json:"removed"`
	Unchanged int `json:"unchanged"`
}

// DeviceInfo is a device's answer to a DeviceInfo query.
type DeviceInfo struct {
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	Firmware     string `json:"firmware"`
	Channels     int    `json:"channels"`
	Result       string `json:"result"`
}

// DeviceStatus is a device's answer to a DeviceStatus query.
type DeviceStatus struct {
	Online     string     `json:"online"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason"`
	Encode     string     `json:"encode"`
	Record     string     `json:"record"`
	Result     string     `json:"result"`
	DeviceTime *time.Time `json:"device_time,omitempty"`
}

// DeviceConfig is a device's answer to a ConfigDownload query.
type DeviceConfig struct {
	Result        string                 `json:"result"`
	BasicParam    *manscdp.BasicParam    `json:"basic_param"`
	VideoParamOpt *manscdp.VideoParamOpt `json:"video_param_opt"`
}

// Heartbeat is the body and answer of PUT /internal/v1/devices/{device}/heartbeat.
type Heartbeat struct {
	// Interval is the keepalive interval in seconds.
	Interval int `json:"interval"`
	// Count is how many missed keepalives make the device offline.
	Count int `json:"count"`
}

// PTZRequest is the body of the PTZ route: the command in words, which
// ptz.Request.Command builds (its doc lists the actions).
type PTZRequest = ptz.Request

// PTZResult is the answer of the PTZ route: the PTZCmd sent, in hex.
type PTZResult struct {
	PTZCmd string `json:"ptz_cmd"`
}

// PTZLockRequest is the body of POST /internal/v1/ptz-locks: a controller
// asks for the control of a camera's PTZ before it sends a command.
type PTZLockRequest struct {
	DeviceID   string        `json:"device_id"`
	ChannelID  string        `json:"channel_id"`
	Controller PTZController `json:"controller"`
}

// PTZController is who controls a camera's PTZ: a console user or a
// superior platform.
type PTZController struct {
	// ID names the controller, 1–128 bytes: "user:<id>" for a console
	// user (all their sessions share the control), "platform:<id>" for a
	// superior platform.
	ID string `json:"id"`
	// Name is shown to the controllers it refuses (≤ 128 bytes).
	Name string `json:"name"`
	// Priority is 1–9: a higher one takes the control over.
	Priority int `json:"priority"`
}

// PTZLock is the answer of POST /internal/v1/ptz-locks.
type PTZLock struct {
	// Granted is true when the caller controls the camera now.
	Granted bool `json:"granted"`
	// Holder controls the camera: the caller when Granted, else the one
	// who refuses it (an equal or higher priority).
	Holder PTZController `json:"holder"`
	// Until is when the holder's control ends unless it sends another command.
	Until time.Time `json:"until"`
	// TookOver is whom the caller's higher priority took the camera from.
	TookOver *PTZController `json:"took_over,omitempty"`
}

// ControlRequest is the body of the DeviceControl routes.
type ControlRequest struct {
	// Command: record_start, record_stop, guard_set, guard_reset, alarm_reset,
	// iframe, reboot, home_position, drag_zoom_in, drag_zoom_out.
	Command string `json:"command"`
	// HomePosition for home_position.
	HomePosition *manscdp.HomePosition `json:"home_position,omitempty"`
	// DragZoom for drag_zoom_in and drag_zoom_out.
	DragZoom *manscdp.DragZoom `json:"drag_zoom,omitempty"`
}

// ControlResult is the answer of the DeviceControl routes.
type ControlResult struct {
	Command string `json:"command"`
	// Result is the device's answer (OK, ERROR), empty for commands without one.
	Result string `json:"result"`
}

// Record is one recording a device reported.
type Record struct {
	Name       string    `json:"name"`
	FilePath   string    `json:"file_path,omitempty"`
	Address    string    `json:"address,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Type       string    `json:"type,omitempty"`
	FileSize   int64     `json:"file_size,omitempty"`
	Secrecy    int       `json:"secrecy"`
	RecorderID string    `json:"recorder_id,omitempty"`
}

// Records is a device's answer to a record query.
type Records struct {
	svcapi.List[Record]
	// SumNum is the total the device announced.
	SumNum int `json:"sum_num"`
	// Partial is true when the device sent fewer than it announced in time.
	Partial bool `json:"partial"`
}

// Preset is one PTZ preset of a channel.
type Preset struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Alarm is one alarm a device reported.
type Alarm struct {
	ID          int64             `json:"id"`
	DeviceID    string            `json:"device_id"`
	ChannelID   string            `json:"channel_id"`
	Priority    int               `json:"priority"`
	Method      string            `json:"method"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Longitude   *float64          `json:"longitude,omitempty"`
	Latitude    *float64          `json:"latitude,omitempty"`
	At          time.Time         `json:"at"`
	ReceivedAt  time.Time         `json:"received_at"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// DevicePatch is the body of PATCH /internal/v1/devices/{device}: any of
// its fields, at least one.
type DevicePatch struct {
	// StreamTransport: udp, tcp-passive, tcp-active, or "" to inherit.
	StreamTransport *string `json:"stream_transport"`
	// SourceCheck: strict or ip (docs/security.md).
	SourceCheck *string `json:"source_check"`
}

// ChannelPatch is the body of PATCH /internal/v1/devices/{device}/channels/{channel}.
type ChannelPatch struct {
	// StreamTransport: udp, tcp-passive, tcp-active, or "" to inherit; required.
	StreamTransport *string `json:"stream_transport"`
}

// StreamRequest is the body of mediagw's stream calls (needed, idle, ended).
type StreamRequest struct {
	// Path is the stream path (live/<channel>, playback/<session>, …).
	Path string `json:"path"`
	// Reason says why the media ended (ended only; ≤ 64 bytes).
	Reason string `json:"reason,omitempty"`
}

// SenderEndedRequest is the body of mediagw's sender-ended call.
type SenderEndedRequest struct {
	// Sender is the mediagw sender's id.
	Sender string `json:"sender"`
	// Reason says why it ended (≤ 64 bytes).
	Reason string `json:"reason,omitempty"`
}

// Session kinds.
const (
	KindPlay     = "play"
	KindPlayback = "playback"
	KindDownload = "download"
)

// Session is a media session of sipserver (live, playback or download).
type Session struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	DeviceID   string     `json:"device_id"`
	ChannelID  string     `json:"channel_id"`
	Path       string     `json:"path"`
	State      string     `json:"state"`
	Transport  string     `json:"transport,omitempty"`
	SSRC       string     `json:"ssrc,omitempty"`
	Receiver   string     `json:"receiver,omitempty"`
	RangeStart *time.Time `json:"range_start,omitempty"`
	RangeEnd   *time.Time `json:"range_end,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	ActiveAt   *time.Time `json:"active_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndReason  string     `json:"end_reason,omitempty"`
	// Owner is the console user who started a playback or download.
	Owner string `json:"owner,omitempty"`
}

// SessionRequest asks sipserver for a playback or download session.
type SessionRequest struct {
	Kind      string    `json:"kind"`
	ChannelID string    `json:"channel_id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	// Speed is the download speed (1, 2, 4, 8); 0 means 1.
	Speed int `json:"speed,omitempty"`
	// Owner is the console user the session is for (≤ 128 bytes): only
	// they may see, control and stop it.
	Owner string `json:"owner"`
}

// PlaybackControl is a MANSRTSP command for a playback session.
type PlaybackControl struct {
	// Action: pause, resume, seek (Position), scale (Scale).
	Action string `json:"action"`
	// Position is seconds from the range start (seek), 0–604800.
	Position *float64 `json:"position,omitempty"`
	// Scale is the playback speed (scale), 0.125–16.
	Scale *float64 `json:"scale,omitempty"`
}
