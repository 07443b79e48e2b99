package store

import (
	"errors"
	"time"
)

// Session states.
const (
	SessionInviting = "inviting"
	SessionActive   = "active"
	SessionEnded    = "ended"
)

// ErrPathBusy means another open session already serves the path.
var ErrPathBusy = errors.New("store: path has an open session")

// StreamSession is a media session between a device and a mediagw node.
type StreamSession struct {
	ID        string
	Kind      string // play, playback or download
	DeviceID  string
	ChannelID string
	Path      string
	MediaNode string
	// ReceiverID, Transport and SSRC describe the mediagw receiver.
	ReceiverID string
	Transport  string
	SSRC       string
	// CallID, FromTag and ToTag identify the INVITE dialog; RemoteTarget
	// (the device's Contact) and CSeq (of our last request) let in-dialog
	// requests be sent after a restart.
	CallID, FromTag, ToTag string
	RemoteTarget           string
	CSeq                   int
	State                  string
	// RangeStart and RangeEnd bound playback and download; nil for live.
	RangeStart, RangeEnd *time.Time
	StartedAt            time.Time
	ActiveAt, EndedAt    *time.Time
	EndReason            string
	// Owner is the console user who started a playback or download; empty
	// for live sessions.
	Owner string
}

// SessionFilter selects sessions for ListSessions. Zero values select everything.
type SessionFilter struct {
	DeviceID, ChannelID, Kind string
	// Open selects sessions not ended; false lists ended ones too, newest first.
	Open bool
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
