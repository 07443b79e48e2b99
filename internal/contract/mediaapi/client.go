package mediaapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Route paths of the calls.
const (
	PathReceivers  = "/internal/v1/receivers"
	PathSenders    = "/internal/v1/senders"
	PathStreams    = "/internal/v1/streams"
	PathPlayTokens = "/internal/v1/play-tokens"
	PathWebhook    = "/internal/v1/webhook"
	// PathHealth is the node's liveness route, served beside the control
	// API without a token.
	PathHealth = "/healthz"
)

// ReceiverPath is the route of one receiver.
func ReceiverPath(id string) string { return PathReceivers + "/" + url.PathEscape(id) }

// Client calls one mediagw node's control API with the service token
// (svcapi.Client's fields: BaseURL, Token, HTTP, Timeout); an empty Token
// makes every call fail with svcapi.ErrUnreachable. Its errors name the
// call and wrap either a *svcapi.StatusError (mediagw answered: match the
// code with errors.Is(err, ErrPathBusy), svcapi.ErrNotFound, … or
// svcapi.CodeOf) or svcapi.ErrUnreachable (no answer, or no token to ask
// with).
type Client svcapi.Client

// call sends one request; op names it in errors.
func (c *Client) call(ctx context.Context, op, method, path string, in, out any) error {
	if c.Token == "" {
		return fmt.Errorf("mediagw %s: %w: service_token is not set", op, svcapi.ErrUnreachable)
	}
	if err := (*svcapi.Client)(c).Call(ctx, method, path, in, out); err != nil {
		return fmt.Errorf("mediagw %s: %w", op, err)
	}
	return nil
}

// Open opens a receiver: where the device is to send the media of req.Path.
func (c *Client) Open(ctx context.Context, req OpenRequest) (Receiver, error) {
	var out Receiver
	err := c.call(ctx, "open receiver", http.MethodPost, PathReceivers, req, &out)
	return out, err
}

// Patch changes what a receiver accepts once the device's SDP answer is known.
func (c *Client) Patch(ctx context.Context, id string, req PatchRequest) (Receiver, error) {
	var out Receiver
	err := c.call(ctx, "patch receiver", http.MethodPatch, ReceiverPath(id), req, &out)
	return out, err
}

// Connect makes a tcp-active receiver dial the device.
func (c *Client) Connect(ctx context.Context, id string, req ConnectRequest) (Receiver, error) {
	var out Receiver
	err := c.call(ctx, "connect receiver", http.MethodPost, ReceiverPath(id)+"/connect", req, &out)
	return out, err
}

// Close closes a receiver; one that is gone already is svcapi.ErrNotFound.
func (c *Client) Close(ctx context.Context, id string) error {
	return c.call(ctx, "close receiver", http.MethodDelete, ReceiverPath(id), nil, nil)
}

// Receiver returns one receiver.
func (c *Client) Receiver(ctx context.Context, id string) (Receiver, error) {
	var out Receiver
	err := c.call(ctx, "get receiver", http.MethodGet, ReceiverPath(id), nil, &out)
	return out, err
}

// Receivers lists the receivers by path.
func (c *Client) Receivers(ctx context.Context) ([]Receiver, error) {
	var out svcapi.List[Receiver]
	err := c.call(ctx, "list receivers", http.MethodGet, PathReceivers, nil, &out)
	return out.Items, err
}

// Streams lists the published streams by path.
func (c *Client) Streams(ctx context.Context) ([]Stream, error) {
	var out svcapi.List[Stream]
	err := c.call(ctx, "list streams", http.MethodGet, PathStreams, nil, &out)
	return out.Items, err
}

// Stream returns the stream published at path.
func (c *Client) Stream(ctx context.Context, path string) (Stream, error) {
	// The route takes the path's segments as they are ({path...}); each
	// is escaped on its own.
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	var out Stream
	err := c.call(ctx, "get stream", http.MethodGet, PathStreams+"/"+strings.Join(segs, "/"), nil, &out)
	return out, err
}

// PlayToken mints a play token.
func (c *Client) PlayToken(ctx context.Context, req PlayTokenRequest) (PlayToken, error) {
	var out PlayToken
	err := c.call(ctx, "play token", http.MethodPost, PathPlayTokens, req, &out)
	return out, err
}

// Webhook returns the webhook's status.
func (c *Client) Webhook(ctx context.Context) (WebhookStatus, error) {
	var out WebhookStatus
	err := c.call(ctx, "webhook", http.MethodGet, PathWebhook, nil, &out)
	return out, err
}

// Health asks whether the node is alive (GET /healthz). It sends no token:
// the route is open, so a node answers it even before the token is set
// on either side.
func (c *Client) Health(ctx context.Context) error {
	hc := svcapi.Client{BaseURL: c.BaseURL, HTTP: c.HTTP, Timeout: c.Timeout}
	if err := hc.Call(ctx, http.MethodGet, PathHealth, nil, nil); err != nil {
		return fmt.Errorf("mediagw health: %w", err)
	}
	return nil
}

// SenderPath is the route of one sender.
func SenderPath(id string) string { return PathSenders + "/" + url.PathEscape(id) }

// OpenSender starts sending a stream to a superior platform.
func (c *Client) OpenSender(ctx context.Context, req SenderRequest) (Sender, error) {
	var out Sender
	err := c.call(ctx, "open sender", http.MethodPost, PathSenders, req, &out)
	return out, err
}

// CloseSender stops a sender; one that is gone already is svcapi.ErrNotFound.
func (c *Client) CloseSender(ctx context.Context, id string) error {
	return c.call(ctx, "close sender", http.MethodDelete, SenderPath(id), nil, nil)
}

// Senders lists the open senders.
func (c *Client) Senders(ctx context.Context) ([]Sender, error) {
	var out svcapi.List[Sender]
	err := c.call(ctx, "list senders", http.MethodGet, PathSenders, nil, &out)
	return out.Items, err
}
