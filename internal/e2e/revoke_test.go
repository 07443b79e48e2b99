package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/rtsp"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// signIn logs user in with password, replacing it by next when the
// console asks for a change, and returns the session token.
func (c *consoleStack) signIn(t *testing.T, user, password, next string) string {
	t.Helper()
	var login struct {
		Token              string `json:"token"`
		MustChangePassword bool   `json:"must_change_password"`
	}
	if code := call(t, "POST", c.base()+"/api/v1/auth/login", map[string]string{"username": user, "password": password}, &login); code != http.StatusOK {
		t.Fatalf("login %s: %d", user, code)
	}
	if !login.MustChangePassword {
		return login.Token
	}
	if code := callAs(t, login.Token, "POST", c.base()+"/api/v1/auth/password",
		map[string]string{"old_password": password, "new_password": next}, nil); code/100 != 2 {
		t.Fatalf("password change of %s: %d", user, code)
	}
	return c.signIn(t, user, next, "")
}

// TestDisabledUserStopsWatching is the promise of issue 13: a user plays a
// camera over RTSP, an admin disables the user, and the user's video ends
// within mediagw's revocation round; the same link opens nothing more.
func TestDisabledUserStopsWatching(t *testing.T) {
	interval := config.Duration(500 * time.Millisecond)
	s := newStack(t, func(_ *config.Sipserver, gc *config.Mediagw) { gc.Audit.RevocationInterval = interval })
	// The real console first, so that mediagw audits to it and asks it.
	cs := s.withConsole()
	s.gwCfg.Audit.ConsoleURL = cs.base()
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 1, 1 })

	admin := cs.signIn(t, "admin", "admin", "Revoke-Adm1n!")
	var viewer struct{ ID int64 }
	if code := callAs(t, admin, "POST", cs.base()+"/api/v1/users",
		map[string]string{"username": "viewer", "password": "Viewer-Pass1!", "role": "admin"}, &viewer); code != http.StatusCreated {
		t.Fatalf("create viewer: %d", code)
	}
	token := cs.signIn(t, "viewer", "Viewer-Pass1!", "Viewer-Pass2!")
	ch := channelID(1)
	testsupport.Eventually(t, 20*time.Second, "the camera in the catalog", func() bool {
		var list struct{ Items []struct{ ID string } }
		callAs(t, token, "GET", cs.base()+"/api/v1/channels", nil, &list)
		return len(list.Items) == 1 && list.Items[0].ID == ch
	})
	var play struct{ RTSP string }
	if code := callAs(t, token, "POST", cs.base()+"/api/v1/channels/"+ch+"/play", nil, &play); code != http.StatusOK {
		t.Fatalf("play: %d", code)
	}

	v := mediatest.WatchRTSP(t, play.RTSP)
	testsupport.Eventually(t, 20*time.Second, "the viewer gets video", func() bool { return v.Packets() > 50 })

	if code := callAs(t, admin, "PATCH", cs.base()+fmt.Sprintf("/api/v1/users/%d", viewer.ID),
		map[string]any{"disabled": true, "disabled_reason": "left the unit"}, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	// mediagw asks at the next round and at the latest at the one after,
	// each a console call within audit.timeout; the connection then closes
	// within the RTSP server's write timeout.
	bound := 2*interval.Std() + s.gwCfg.Audit.Timeout.Std() + rtsp.DefaultTimeout
	select {
	case err := <-v.Ended:
		t.Logf("the disabled user's session ended: %v", err)
	case <-time.After(bound):
		t.Fatalf("the disabled user still watches %s after being disabled (%d packets)", bound, v.Packets())
	}

	// The same link, still within its validity, opens nothing more.
	err := mediatest.DescribeRTSP(t, play.RTSP)
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) || bad.Code != base.StatusUnauthorized {
		t.Fatalf("the revoked link: %v, want 401", err)
	}
}
