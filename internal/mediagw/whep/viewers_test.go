package whep_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/whep"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// TestViewers: a running session is a viewer with its play token; ending
// it ends the session and releases its reader, as a DELETE would.
func TestViewers(t *testing.T) {
	h := mediatest.NewHub(t, &hub.Hub{})
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	const path = "live/34020000001320000001"
	mediatest.Publish(t, h, path, clip, true)
	e := newEnv(t, &access.HubSource{Hub: h})
	if n := len(e.srv.Viewers()); n != 0 {
		t.Fatalf("%d viewers before any session", n)
	}
	c := newClient(t)
	if code := c.post(t, e.url("/whep/"+path+"?token=tok-1")); code != http.StatusCreated {
		t.Fatalf("POST: %d", code)
	}
	firstAccessUnit(t, c, 10*time.Second)
	vs := e.srv.Viewers()
	if len(vs) != 1 || vs[0].Token != "tok-1" {
		t.Fatalf("viewers %+v", vs)
	}
	vs[0].End()
	vs[0].End() // twice is harmless
	testsupport.Eventually(t, whep.DefaultSessionTimeout, "the session ends", func() bool {
		return len(e.srv.Sessions()) == 0 && readers(h, path) == 0
	})
}
