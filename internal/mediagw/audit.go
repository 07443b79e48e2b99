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
)

// DefaultAuditTimeout bounds one audit call when AuditClient.Timeout is 0.
const DefaultAuditTimeout = 3 * time.Second

// maxAuditAnswer bounds what is read of the console's answer (an error text).
const maxAuditAnswer = 4 << 10

// Auditor stores media opens where the console's audit table gets them.
type Auditor interface {
	// MediaOpen returns nil only once the row is stored.
	MediaOpen(ctx context.Context, m auditapi.MediaOpen) error
}

// AuditClient posts media opens to the console's internal audit API
// (auditapi.PathMediaOpens) with the service token. Only the contract's
// 204 counts as stored; anything else, including no answer within
// Timeout, is an error wrapping ErrAuditNotStored.
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
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: console answered %d %s", ErrAuditNotStored, resp.StatusCode, bytes.TrimSpace(text))
	}
	return nil
}
