package mediagw

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// SipserverClient makes the gateway's calls to sipserver's internal API:
//
//	POST /internal/v1/streams/needed {"path"}          start the live stream of path
//	POST /internal/v1/streams/idle   {"path"}          nobody watches path: BYE
//	POST /internal/v1/streams/ended  {"path","reason"} the media of path stopped
//
// each with Authorization: Bearer <service token>.
type SipserverClient struct {
	// URL is sipserver's base URL (http://127.0.0.1:8081).
	URL string
	// Token is the service token.
	Token string
	// Client is the HTTP client; nil means http.DefaultClient (the calls
	// carry their own deadlines).
	Client *http.Client
}

// StreamNeeded implements Signalling. A 404 (unknown channel) maps to
// access.ErrNotFound, other refusals (device offline, busy, refused) to
// access.ErrUnavailable, each with sipserver's message.
func (c *SipserverClient) StreamNeeded(ctx context.Context, path string) error {
	return c.post(ctx, "needed", map[string]string{"path": path})
}

// StreamIdle implements Signalling.
func (c *SipserverClient) StreamIdle(ctx context.Context, path string) error {
	return c.post(ctx, "idle", map[string]string{"path": path})
}

// StreamEnded implements Signalling.
func (c *SipserverClient) StreamEnded(ctx context.Context, path, reason string) error {
	return c.post(ctx, "ended", map[string]string{"path": path, "reason": reason})
}

func (c *SipserverClient) post(ctx context.Context, what string, body any) error {
	api := svcapi.Client{BaseURL: c.URL, Token: c.Token, HTTP: c.Client}
	err := api.Call(ctx, http.MethodPost, "/internal/v1/streams/"+what, body, nil)
	var se *svcapi.StatusError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return fmt.Errorf("stream %s: sipserver did not answer in time: %w", what, access.ErrUnavailable)
	case errors.Is(err, svcapi.ErrUnreachable):
		return fmt.Errorf("stream %s: %w: %w", what, access.ErrUnavailable, err)
	case !errors.As(err, &se):
		return fmt.Errorf("stream %s: %w", what, err)
	}
	kind := access.ErrUnavailable
	if se.Code == http.StatusNotFound {
		kind = access.ErrNotFound
	}
	return fmt.Errorf("stream %s: sipserver answered %d %s: %w", what, se.Code, se.Message, kind)
}
