package rtsp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// auditingSource is a HubSource whose media-open audit is recorded, and
// refused while fail is set.
type auditingSource struct {
	access.HubSource
	mu     sync.Mutex
	opened []access.Request
	fail   error
}

func (a *auditingSource) Opened(_ context.Context, req access.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.opened = append(a.opened, req)
	return nil
}

func (a *auditingSource) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.opened)
}

// TestAuditAtPlay: an RTSP media open is audited at PLAY (DESCRIBE and
// SETUP send no media), once per session; a refused audit answers PLAY
// with 503.
func TestAuditAtPlay(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	mediatest.Publish(t, h, "live/fake", mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4), false)
	src := &auditingSource{HubSource: access.HubSource{Hub: h}}
	s := startServer(t, src, false)
	u, err := base.ParseURL(url(s, "live/fake"))
	if err != nil {
		t.Fatal(err)
	}
	session := func() (*gortsplib.Client, error) {
		c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
		if err := c.Start(); err != nil {
			return nil, err
		}
		t.Cleanup(c.Close)
		desc, _, err := c.Describe(u)
		if err != nil {
			return nil, err
		}
		return c, c.SetupAll(desc.BaseURL, desc.Medias)
	}
	c, err := session()
	if err != nil {
		t.Fatal(err)
	}
	if n := src.count(); n != 0 {
		t.Fatalf("%d audits before PLAY", n)
	}
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	got := append([]access.Request(nil), src.opened...)
	src.fail = fmt.Errorf("console: %w", access.ErrUnavailable)
	src.mu.Unlock()
	if len(got) != 1 || got[0].Path != "live/fake" || got[0].Token != "x" || got[0].Protocol != access.ProtocolRTSP || got[0].Remote == "" {
		t.Fatalf("audited %+v", got)
	}
	c2, err := session()
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Play(nil)
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) || bad.Code != base.StatusServiceUnavailable {
		t.Fatalf("PLAY without an audit row: %v", err)
	}
}
