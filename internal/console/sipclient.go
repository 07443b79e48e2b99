package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// sipCallTimeout bounds one call to sipserver: its own waits (device answers,
// INVITE) are shorter, so this only catches a hung sipserver.
const sipCallTimeout = 45 * time.Second

// SipserverClient calls sipserver's internal API with the service token.
type SipserverClient struct {
	// BaseURL is sipserver's http://host:port.
	BaseURL string
	// Token is the service token; empty makes every call fail with ErrSipserverUnavailable.
	Token string
	// HTTP is the client; nil means http.DefaultClient.
	HTTP *http.Client
}

// Session is a media session of sipserver (live, playback or download).
type Session struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	DeviceID   string     `json:"device_id"`
	ChannelID  string     `json:"channel_id"`
	Path       string     `json:"path"`
	State      string     `json:"state"`
	Transport  string     `json:"transport,omitempty"`
	RangeStart *time.Time `json:"range_start,omitempty"`
	RangeEnd   *time.Time `json:"range_end,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
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
	Speed     int       `json:"speed,omitempty"`
	// Owner is the console user the session is for (≤ 128 bytes): only
	// they may see, control and stop it.
	Owner string `json:"owner"`
}

// Record is one recording a device reported.
type Record struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Type  string    `json:"type,omitempty"`
}

// Records is a device's answer to a record query.
type Records struct {
	Items   []Record `json:"items"`
	Partial bool     `json:"partial"`
}

// do sends one request: in (when non-nil) as the JSON body; a 2xx answer is
// decoded into out (when non-nil), any other into a *SipError.
func (c *SipserverClient) do(ctx context.Context, op, method, path string, in, out any) error {
	if c.Token == "" {
		return fmt.Errorf("%s: %w: service_token is not set", op, ErrSipserverUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, sipCallTimeout)
	defer cancel()
	api := svcapi.Client{BaseURL: c.BaseURL, Token: c.Token, HTTP: c.HTTP}
	err := api.Call(ctx, method, path, in, out)
	var se *svcapi.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		msg := se.Message
		if msg == "" {
			msg = strconv.Itoa(se.Code) + " " + http.StatusText(se.Code)
		}
		return &SipError{Op: op, Status: se.Code, Message: msg}
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, svcapi.ErrUnreachable):
		return fmt.Errorf("%s: %w: %w", op, ErrSipserverUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func channelPath(deviceID, channelID string) string {
	return "/internal/v1/devices/" + url.PathEscape(deviceID) + "/channels/" + url.PathEscape(channelID)
}

// PTZ sends a PTZ command body (passed through) to a channel and returns sipserver's answer.
func (c *SipserverClient) PTZ(ctx context.Context, deviceID, channelID string, body json.RawMessage) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.do(ctx, "ptz", http.MethodPost, channelPath(deviceID, channelID)+"/ptz", body, &out)
	return out, err
}

// Records queries the recordings of a channel between start and end.
func (c *SipserverClient) Records(ctx context.Context, deviceID, channelID string, start, end time.Time) (Records, error) {
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
	var out Records
	err := c.do(ctx, "records", http.MethodGet, channelPath(deviceID, channelID)+"/records?"+q.Encode(), nil, &out)
	return out, err
}

// StreamNeeded asks sipserver to start the live stream of path (if not running).
func (c *SipserverClient) StreamNeeded(ctx context.Context, path string) error {
	return c.do(ctx, "stream needed", http.MethodPost, "/internal/v1/streams/needed", map[string]string{"path": path}, nil)
}

// StreamIdle tells sipserver nobody watches path any more: it ends the session now.
func (c *SipserverClient) StreamIdle(ctx context.Context, path string) error {
	return c.do(ctx, "stream idle", http.MethodPost, "/internal/v1/streams/idle", map[string]string{"path": path}, nil)
}

// CreateSession starts a playback or download session.
func (c *SipserverClient) CreateSession(ctx context.Context, req SessionRequest) (Session, error) {
	var out Session
	err := c.do(ctx, "create "+req.Kind+" session", http.MethodPost, "/internal/v1/sessions", req, &out)
	return out, err
}

// GetSession returns one session.
func (c *SipserverClient) GetSession(ctx context.Context, id string) (Session, error) {
	var out Session
	err := c.do(ctx, "get session", http.MethodGet, "/internal/v1/sessions/"+url.PathEscape(id), nil, &out)
	return out, err
}

// DeleteSession ends a session (BYE).
func (c *SipserverClient) DeleteSession(ctx context.Context, id string) error {
	return c.do(ctx, "end session", http.MethodDelete, "/internal/v1/sessions/"+url.PathEscape(id), nil, nil)
}

// endSessionTimeout bounds the BYE of a session nobody will use.
const endSessionTimeout = 10 * time.Second

// endSession ends a session nobody will use any more (BYE: a playback
// whose answer failed, a download that finished or failed) and waits for
// sipserver's answer, within endSessionTimeout even when ctx is done (the
// request that made the session is gone, the console is closing). A
// session that already ended (404: the device hung up first) is no error;
// any other failure is logged.
func (c *SipserverClient) endSession(ctx context.Context, id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endSessionTimeout)
	defer cancel()
	var se *SipError
	if err := c.DeleteSession(ctx, id); err != nil && (!errors.As(err, &se) || se.Status != http.StatusNotFound) {
		log.Warn("end session", "session_id", id, "error", err)
	}
}

// ControlRequest is a MANSRTSP command for a playback session.
type ControlRequest struct {
	Action   string   `json:"action"`
	Position *float64 `json:"position,omitempty"`
	Scale    *float64 `json:"scale,omitempty"`
}

// ControlSession sends a playback control (pause, resume, seek, scale).
func (c *SipserverClient) ControlSession(ctx context.Context, id string, req ControlRequest) error {
	return c.do(ctx, "control session", http.MethodPost, "/internal/v1/sessions/"+url.PathEscape(id)+"/control", req, nil)
}
