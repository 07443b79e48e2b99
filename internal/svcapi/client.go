package svcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxAnswer bounds the answers a Client reads.
const maxAnswer = 4 << 20

// ErrUnreachable is wrapped by the errors of calls that got no complete
// answer: the connection failed, the context ended, or the body broke off.
var ErrUnreachable = errors.New("service unreachable")

// unreachableError marks a transport failure without changing its text.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string   { return e.err.Error() }
func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// StatusError is an answer outside 2xx. It unwraps to a CodeError of the
// answer's machine code, so errors.Is(err, sipapi.ErrDeviceOffline) and
// CodeOf(err) read the code, never the text.
type StatusError struct {
	// Code is the HTTP status.
	Code int
	// ErrorCode is the answer's {"code"}, or the shared code of its HTTP
	// status when the answer has none (a proxy's, an older peer's).
	ErrorCode string
	// Message is the answer's {"error"} text, or its body text when it is not
	// such JSON (empty when the body is empty).
	Message string
}

// Error implements error.
func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

// Unwrap returns the answer's code as a CodeError.
func (e *StatusError) Unwrap() error {
	return &CodeError{Status: e.Code, Code: e.ErrorCode, Message: e.Message}
}

// Client calls another service's JSON API (an /internal/v1 of ours) with a
// Bearer token. It only moves bytes: each caller maps StatusError and
// ErrUnreachable to its own sentinel errors.
type Client struct {
	// BaseURL is the service's http://host:port.
	BaseURL string
	// Token is sent as Authorization: Bearer <Token>.
	Token string
	// HTTP is the client; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds one call; 0 leaves it to the caller's context.
	Timeout time.Duration
}

// Call sends method path with body and decodes a 2xx answer into out.
// body is nil (no body), a json.RawMessage (sent as is) or a value encoded
// as JSON. out is nil (answer discarded), a *json.RawMessage (the raw
// answer) or a value the answer is decoded into. An answer outside 2xx is a
// *StatusError; a failed exchange wraps ErrUnreachable. An empty Token
// sends no credentials (for routes outside an API, such as /healthz).
func (c *Client) Call(ctx context.Context, method, path string, body, out any) error {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		raw, ok := body.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode body: %w", err)
			}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &unreachableError{err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &unreachableError{fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		msg, code := strings.TrimSpace(string(raw)), ""
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg, code = e.Error, e.Code
		}
		if code == "" {
			code = codeOfStatus(resp.StatusCode)
		}
		return &StatusError{Code: resp.StatusCode, ErrorCode: code, Message: msg}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		*o = raw
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
