package mediagw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
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
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(c.URL, "/") + "/internal/v1/streams/" + what
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("stream %s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("stream %s: sipserver did not answer in time: %w", what, access.ErrUnavailable)
		}
		return fmt.Errorf("stream %s: %w: %w", what, access.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var apiErr struct {
		Error string `json:"error"`
	}
	text := strings.TrimSpace(string(msg))
	if json.Unmarshal(msg, &apiErr) == nil && apiErr.Error != "" {
		text = apiErr.Error
	}
	kind := access.ErrUnavailable
	if resp.StatusCode == http.StatusNotFound {
		kind = access.ErrNotFound
	}
	return fmt.Errorf("stream %s: sipserver answered %d %s: %w", what, resp.StatusCode, text, kind)
}
