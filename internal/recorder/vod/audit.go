package vod

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// DefaultAuditTimeout bounds one call of AuditClient when Timeout is 0.
const DefaultAuditTimeout = 3 * time.Second

// AuditClient is the Auditor of the console's internal audit API
// (auditapi), with the service token: the recorder posts each playlist
// request as a media open (protocol hls, path recording/<channel>) and
// asks which users' tokens are revoked. The console's 403 viewer_revoked
// is an error wrapping auditapi.ErrRevoked.
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

func (c *AuditClient) client() *svcapi.Client {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultAuditTimeout
	}
	return &svcapi.Client{BaseURL: c.URL, Token: c.Token, HTTP: c.Client, Timeout: timeout}
}

// MediaOpen implements Auditor.
func (c *AuditClient) MediaOpen(ctx context.Context, m auditapi.MediaOpen) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("audit media open: %w", err)
	}
	err := c.client().Call(ctx, http.MethodPost, auditapi.PathMediaOpens, m, nil)
	switch {
	case errors.Is(err, auditapi.ErrRevoked):
		return fmt.Errorf("console refused the playback of %s by %s: %w", m.Path, m.User, err)
	case err != nil:
		return fmt.Errorf("audit media open at console %s: %w", c.URL, err)
	}
	return nil
}

// CheckViewers implements Auditor.
func (c *AuditClient) CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error) {
	var out auditapi.ViewersRevoked
	if err := c.client().Call(ctx, http.MethodPost, auditapi.PathViewersCheck, auditapi.ViewersCheck{Viewers: viewers}, &out); err != nil {
		return nil, fmt.Errorf("check %d viewers with console %s: %w", len(viewers), c.URL, err)
	}
	return out.Revoked, nil
}
