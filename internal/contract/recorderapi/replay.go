package recorderapi

import (
	"net/url"
	"time"
)

// PathReplays is where replays are started (POST).
const PathReplays = "/internal/v1/replays"

// ReplayPath is the route of one replay.
func ReplayPath(id string) string { return PathReplays + "/" + url.PathEscape(id) }

// ReplayControlPath is the route of one replay's controls (POST).
func ReplayControlPath(id string) string { return ReplayPath(id) + "/control" }

// States of a replay.
const (
	ReplayRunning = "running"
	ReplayPaused  = "paused"
	// ReplayDone: the range was sent whole (as far as it was recorded).
	ReplayDone = "done"
	// ReplayFailed: the receiver could not be reached or went away, or a
	// segment could not be read; Error says which.
	ReplayFailed = "failed"
	// ReplayStopped: ended by DELETE.
	ReplayStopped = "stopped"
)

// Controls of a replay, as MANSRTSP's PAUSE and PLAY map onto them.
const (
	ControlPause  = "pause"
	ControlResume = "resume"
	ControlSeek   = "seek"
	ControlScale  = "scale"
)

// The slowest and fastest a replay is sent (MANSRTSP's Scale range).
const (
	MinReplaySpeed = 0.125
	MaxReplaySpeed = 16
)

// ReplayRequest is the body of POST /internal/v1/replays: send the
// platform's recordings of a channel's range as PS over RTP (RFC 4571
// framing) to a TCP receiver, paced as recorded times Speed. The caller
// (sipserver, for a superior platform) has checked the right to them.
type ReplayRequest struct {
	// ChannelID is the 20-digit channel.
	ChannelID string `json:"channel_id"`
	// Start and End are the range, End after Start, at most MaxRange.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Speed is MinReplaySpeed to MaxReplaySpeed (1: real time); 0 means 1.
	Speed float64 `json:"speed"`
	// Dest is the receiver's address (host:port) the recorder connects to.
	Dest string `json:"dest"`
	// SSRC is the RTP SSRC, in decimal as in an SDP y= line.
	SSRC string `json:"ssrc"`
	// Subject says for whom, for the logs ("platform:<server ID>").
	Subject string `json:"subject"`
}

// Replay is a replay as the API shows it.
type Replay struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channel_id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Dest      string    `json:"dest"`
	SSRC      string    `json:"ssrc"`
	Subject   string    `json:"subject"`
	State     string    `json:"state"`
	Speed     float64   `json:"speed"`
	// Position is the recorded time of the last frame sent (Start before
	// the first).
	Position time.Time `json:"position"`
	// Frames counts the video frames sent.
	Frames int64 `json:"frames"`
	// Error says why a failed replay failed.
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ReplayControl is the body of POST /internal/v1/replays/{id}/control.
type ReplayControl struct {
	// Action is ControlPause, ControlResume, ControlSeek or ControlScale.
	Action string `json:"action"`
	// OffsetMS is where a seek goes, in milliseconds from the range's start.
	OffsetMS int64 `json:"offset_ms,omitempty"`
	// Scale is a scale's new speed, MinReplaySpeed to MaxReplaySpeed.
	Scale float64 `json:"scale,omitempty"`
}
