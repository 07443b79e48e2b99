package recorderapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Client calls one recorder node's internal API with the service token
// (svcapi.Client's fields: BaseURL, Token, HTTP, Timeout); an empty Token
// makes every call fail with svcapi.ErrUnreachable. Its errors name the
// call and wrap either a *svcapi.StatusError (the recorder answered: match
// with errors.Is(err, svcapi.ErrNotFound), ErrNotDone, … or svcapi.CodeOf)
// or svcapi.ErrUnreachable.
type Client svcapi.Client

// call sends one request; op names it in errors.
func (c *Client) call(ctx context.Context, op, method, path string, in, out any) error {
	if c.Token == "" {
		return fmt.Errorf("recorder %s: %w: service_token is not set", op, svcapi.ErrUnreachable)
	}
	if err := (*svcapi.Client)(c).Call(ctx, method, path, in, out); err != nil {
		return fmt.Errorf("recorder %s: %w", op, err)
	}
	return nil
}

// CreateExport queues an export job.
func (c *Client) CreateExport(ctx context.Context, req ExportRequest) (Export, error) {
	var out Export
	err := c.call(ctx, "create export", http.MethodPost, PathExports, req, &out)
	return out, err
}

// Export returns a job, whoever owns it (the caller filters by owner).
func (c *Client) Export(ctx context.Context, id string) (Export, error) {
	var out Export
	err := c.call(ctx, "get export", http.MethodGet, ExportPath(id), nil, &out)
	return out, err
}

// DeleteExport stops a job or deletes its file; the job stays, expired.
func (c *Client) DeleteExport(ctx context.Context, id string) error {
	return c.call(ctx, "delete export", http.MethodDelete, ExportPath(id), nil, nil)
}

// ExportFile requests a done job's file; rangeHeader (a Range header's
// value, "" for all) is passed on. A 200 or 206 answer is returned with
// its body open for the caller to copy and close; any other answer is
// read and returned as an error like the other calls'. Client.Timeout is
// not applied (a file takes as long as it takes): bound ctx instead.
func (c *Client) ExportFile(ctx context.Context, id, rangeHeader string) (*http.Response, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("recorder export file: %w: service_token is not set", svcapi.ErrUnreachable)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.BaseURL, "/")+ExportFilePath(id), nil)
	if err != nil {
		return nil, fmt.Errorf("recorder export file: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("recorder export file: %w: %w", svcapi.ErrUnreachable, err)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, fmt.Errorf("recorder export file: %w", statusError(resp))
}

// statusError reads a refusal the way svcapi.Client does: the answer's
// {"error","code"}, else its text and the code of its status.
func statusError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e svcapi.Error
	msg, code := strings.TrimSpace(string(raw)), ""
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		msg, code = e.Error, e.Code
	}
	if code == "" {
		code = statusCodes[resp.StatusCode]
	}
	if code == "" {
		code = svcapi.CodeInternal
	}
	return &svcapi.StatusError{Code: resp.StatusCode, ErrorCode: code, Message: msg}
}

// statusCodes are the shared codes of the statuses a file fetch meets.
var statusCodes = map[int]string{
	http.StatusBadRequest:                   svcapi.CodeBadRequest,
	http.StatusUnauthorized:                 svcapi.CodeUnauthorized,
	http.StatusNotFound:                     svcapi.CodeNotFound,
	http.StatusConflict:                     svcapi.CodeConflict,
	http.StatusServiceUnavailable:           svcapi.CodeUnavailable,
	http.StatusGatewayTimeout:               svcapi.CodeTimeout,
	http.StatusBadGateway:                   svcapi.CodeBadGateway,
	http.StatusRequestedRangeNotSatisfiable: svcapi.CodeBadRequest,
}

// StartReplay starts sending a range of recordings to a receiver.
func (c *Client) StartReplay(ctx context.Context, req ReplayRequest) (Replay, error) {
	var out Replay
	err := c.call(ctx, "start replay", http.MethodPost, PathReplays, req, &out)
	return out, err
}

// Replay returns a replay; one that ended stays for a minute.
func (c *Client) Replay(ctx context.Context, id string) (Replay, error) {
	var out Replay
	err := c.call(ctx, "get replay", http.MethodGet, ReplayPath(id), nil, &out)
	return out, err
}

// ControlReplay pauses, resumes, moves or speeds up a replay.
func (c *Client) ControlReplay(ctx context.Context, id string, ctl ReplayControl) (Replay, error) {
	var out Replay
	err := c.call(ctx, "control replay", http.MethodPost, ReplayControlPath(id), ctl, &out)
	return out, err
}

// StopReplay ends a replay.
func (c *Client) StopReplay(ctx context.Context, id string) error {
	return c.call(ctx, "stop replay", http.MethodDelete, ReplayPath(id), nil, nil)
}
