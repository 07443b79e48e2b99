package mediagw

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

// DefaultAuditTimeout bounds one audit call when AuditClient.Timeout is 0.
const DefaultAuditTimeout = 3 * time.Second

// maxAuditAnswer bounds what is read of the console's answer (an error text).
const maxAuditAnswer = 4 << 10

// Auditor stores media opens where the console's audit table gets them.
type Auditor interface {
	// MediaOpen returns nil only once the row is stored, and an error
	// wrapping auditapi.ErrRevoked when the console refuses the viewer's
	// revoked play token.
	MediaOpen(ctx context.Context, m auditapi.MediaOpen) error
}

// AuditClient posts media opens to the console's internal audit API
// (auditapi.PathMediaOpens) with the service token. Only the contract's
// 204 counts as stored; the console's 403 viewer_revoked is an error
// wrapping auditapi.ErrRevoked; anything else, including no answer within
// Timeout, is an error wrapping ErrAuditNotStored. It also asks the console
// which viewers are revoked (revocation.Checker).
type AuditClient struct {
	// URL is the console's base URL (http://127.0.0.1:8080).
	URL string
	// Token is the service token.
	Token string
	// Timeout bounds one call; 0 means DefaultAuditTimeout.
	Timeout time.Duration
	// Client is the HTTP client; nil means http.DefaultClient (each call
	// carries its own deadline).
	Client *http.Client
}

// MediaOpen implements Auditor.
func (c *AuditClient) MediaOpen(ctx context.Context, m auditapi.MediaOpen) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrAuditNotStored, err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: encode: %w", ErrAuditNotStored, err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultAuditTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := strings.TrimSuffix(c.URL, "/") + auditapi.PathMediaOpens
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAuditNotStored, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: console %s: %w", ErrAuditNotStored, c.URL, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxAuditAnswer))
	var answer svcapi.Error
	if resp.StatusCode == http.StatusForbidden && json.Unmarshal(text, &answer) == nil && answer.Code == auditapi.CodeRevoked {
		return fmt.Errorf("console refused the media open of %s by %s: %w", m.Path, m.User, auditapi.ErrRevoked)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: console answered %d %s", ErrAuditNotStored, resp.StatusCode, bytes.TrimSpace(text))
	}
	return nil
}

// CheckViewers implements revocation.Checker: it posts the viewers to
// auditapi.PathViewersCheck and returns those the console says are revoked.
func (c *AuditClient) CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultAuditTimeout
	}
	sc := &svcapi.Client{BaseURL: c.URL, Token: c.Token, HTTP: c.Client, Timeout: timeout}
	var out auditapi.ViewersRevoked
	if err := sc.Call(ctx, http.MethodPost, auditapi.PathViewersCheck, auditapi.ViewersCheck{Viewers: viewers}, &out); err != nil {
		return nil, fmt.Errorf("check %d viewers with console %s: %w", len(viewers), c.URL, err)
	}
	return out.Revoked, nil
}
