package sipapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Client calls sipserver's internal API with the service token. Its errors
// name the call and wrap either a *svcapi.StatusError (sipserver answered:
// match the code with errors.Is(err, ErrDeviceOffline), svcapi.ErrNotFound,
// … or svcapi.CodeOf) or svcapi.ErrUnreachable (no answer, or no token to
// ask with).
type Client struct {
	// BaseURL is sipserver's http://host:port.
	BaseURL string
	// Token is the service token; empty makes every call fail with
	// svcapi.ErrUnreachable.
	Token string
	// HTTP is the client; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds one call; 0 leaves it to the caller's context.
	Timeout time.Duration
}

// call sends one request; op names it in errors.
func (c *Client) call(ctx context.Context, op, method, path string, in, out any) error {
	if c.Token == "" {
		return fmt.Errorf("%s: %w: service_token is not set", op, svcapi.ErrUnreachable)
	}
	api := svcapi.Client{BaseURL: c.BaseURL, Token: c.Token, HTTP: c.HTTP, Timeout: c.Timeout}
	if err := api.Call(ctx, method, path, in, out); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Route paths of the calls.
const (
	PathStreamNeeded = "/internal/v1/streams/needed"
	PathStreamIdle   = "/internal/v1/streams/idle"
	PathStreamEnded  = "/internal/v1/streams/ended"
	PathSenderEnded  = "/internal/v1/senders/ended"
	PathSessions     = "/internal/v1/sessions"
	PathPTZLocks     = "/internal/v1/ptz-locks"
)

func channelPath(deviceID, channelID string) string {
	return "/internal/v1/devices/" + url.PathEscape(deviceID) + "/channels/" + url.PathEscape(channelID)
}

func sessionPath(id string) string { return PathSessions + "/" + url.PathEscape(id) }

// Channel returns one channel with its effective online state.
func (c *Client) Channel(ctx context.Context, deviceID, channelID string) (Channel, error) {
	var out Channel
	err := c.call(ctx, "get channel", http.MethodGet, channelPath(deviceID, channelID), nil, &out)
	return out, err
}

// PTZ sends a PTZ command to a channel.
func (c *Client) PTZ(ctx context.Context, deviceID, channelID string, req PTZRequest) (PTZResult, error) {
	var out PTZResult
	err := c.call(ctx, "ptz", http.MethodPost, channelPath(deviceID, channelID)+"/ptz", req, &out)
	return out, err
}

// LockPTZ asks for the control of a camera's PTZ: the answer says whether
// the caller has it, or who does and until when.
func (c *Client) LockPTZ(ctx context.Context, req PTZLockRequest) (PTZLock, error) {
	var out PTZLock
	err := c.call(ctx, "lock ptz", http.MethodPost, PathPTZLocks, req, &out)
	return out, err
}

// Records queries the device for the recordings of a channel between start and end.
func (c *Client) Records(ctx context.Context, deviceID, channelID string, start, end time.Time) (Records, error) {
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
	var out Records
	err := c.call(ctx, "records", http.MethodGet, channelPath(deviceID, channelID)+"/records?"+q.Encode(), nil, &out)
	return out, err
}

// StreamNeeded asks sipserver to start the live stream of path (if not
// running). An unknown channel is svcapi.ErrNotFound.
func (c *Client) StreamNeeded(ctx context.Context, path string) error {
	return c.call(ctx, "stream needed", http.MethodPost, PathStreamNeeded, StreamRequest{Path: path}, nil)
}

// StreamIdle tells sipserver nobody watches path any more: it ends the session now.
func (c *Client) StreamIdle(ctx context.Context, path string) error {
	return c.call(ctx, "stream idle", http.MethodPost, PathStreamIdle, StreamRequest{Path: path}, nil)
}

// StreamEnded tells sipserver the media of path stopped, and why.
func (c *Client) StreamEnded(ctx context.Context, path, reason string) error {
	return c.call(ctx, "stream ended", http.MethodPost, PathStreamEnded, StreamRequest{Path: path, Reason: reason}, nil)
}

// SenderEnded tells sipserver an upward sender (cascade) stopped by itself,
// and why: sipserver ends its superior's session with a BYE.
func (c *Client) SenderEnded(ctx context.Context, id, reason string) error {
	return c.call(ctx, "sender ended", http.MethodPost, PathSenderEnded, SenderEndedRequest{Sender: id, Reason: reason}, nil)
}

// CreateSession starts a playback or download session.
func (c *Client) CreateSession(ctx context.Context, req SessionRequest) (Session, error) {
	var out Session
	err := c.call(ctx, "create "+req.Kind+" session", http.MethodPost, PathSessions, req, &out)
	return out, err
}

// GetSession returns one session.
func (c *Client) GetSession(ctx context.Context, id string) (Session, error) {
	var out Session
	err := c.call(ctx, "get session", http.MethodGet, sessionPath(id), nil, &out)
	return out, err
}

// DeleteSession ends a session (BYE).
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	return c.call(ctx, "end session", http.MethodDelete, sessionPath(id), nil, nil)
}

// ControlSession sends a playback control (pause, resume, seek, scale).
func (c *Client) ControlSession(ctx context.Context, id string, req PlaybackControl) error {
	return c.call(ctx, "control session", http.MethodPost, sessionPath(id)+"/control", req, nil)
}
