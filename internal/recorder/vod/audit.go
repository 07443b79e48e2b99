package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// DefaultAuditTimeout bounds one call of AuditClient when Timeout is 0.
const DefaultAuditTimeout = 3 * time.Second

// maxAuditAnswer bounds what is read of the console's answer.
const maxAuditAnswer = 4 << 10

// AuditClient is the Auditor of the console's internal audit API
// (auditapi), with the service token: the recorder posts each playlist
// request as a media open (protocol hls, path recording/<channel>) and
// asks which users' tokens are revoked. Only the console's 204 stores a
// media open; its 403 viewer_revoked wraps auditapi.ErrRevoked.
type AuditClient struct {
	// URL is the console's base URL (http://127.0.0.1:8080).
	URL string
	// Token is the service token.
	Token string
	// Timeout bounds one call; 0 means DefaultAuditTimeout.
	Timeout time.Duration
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
}

func (c *AuditClient) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultAuditTimeout
	}
	return c.Timeout
}

// MediaOpen implements Auditor.
func (c *AuditClient) MediaOpen(ctx context.Context, m auditapi.MediaOpen) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("audit media open: %w", err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("audit media open: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+auditapi.PathMediaOpens,
		bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("audit media open: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("audit media open at console %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxAuditAnswer))
	var answer svcapi.Error
	if resp.StatusCode == http.StatusForbidden && json.Unmarshal(text, &answer) == nil && answer.Code == auditapi.CodeRevoked {
		return fmt.Errorf("console refused the playback of %s by %s: %w", m.Path, m.User, auditapi.ErrRevoked)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("audit media open: console answered %d %s", resp.StatusCode, bytes.TrimSpace(text))
	}
	return nil
}

// CheckViewers implements Auditor.
func (c *AuditClient) CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error) {
	sc := &svcapi.Client{BaseURL: c.URL, Token: c.Token, HTTP: c.Client, Timeout: c.timeout()}
	var out auditapi.ViewersRevoked
	if err := sc.Call(ctx, http.MethodPost, auditapi.PathViewersCheck, auditapi.ViewersCheck{Viewers: viewers}, &out); err != nil {
		return nil, fmt.Errorf("check %d viewers with console %s: %w", len(viewers), c.URL, err)
	}
	return out.Revoked, nil
}
