package rtsp_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// TestAuditAtPlay: an RTSP media open is audited at PLAY (DESCRIBE and
// SETUP send no media), once per session; a refused audit answers PLAY
// with 503.
func TestAuditAtPlay(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	mediatest.Publish(t, h, "live/fake", mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4), false)
	src := &mediatest.AuditingSource{HubSource: access.HubSource{Hub: h}}
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
	if n := len(src.Opens()); n != 0 {
		t.Fatalf("%d audits before PLAY", n)
	}
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	got := src.Opens()
	src.Fail(fmt.Errorf("console: %w", access.ErrUnavailable))
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
