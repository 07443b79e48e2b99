package whep_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
)

// TestAuditBeforeAnswer: a WHEP session is audited once, before its 201;
// a refused audit answers 503 and leaves no session and no hub reader.
func TestAuditBeforeAnswer(t *testing.T) {
	h := mediatest.NewHub(t, &hub.Hub{})
	publishFake(t, h, "live/fake")
	src := &mediatest.AuditingSource{HubSource: access.HubSource{Hub: h}}
	e := newEnv(t, src)

	if code := newClient(t).post(t, e.url("/whep/live/fake?token=tk")); code != http.StatusCreated {
		t.Fatalf("POST = %d", code)
	}
	opened := src.Opens()
	src.Fail(fmt.Errorf("console: %w", access.ErrUnavailable))
	if len(opened) != 1 || opened[0].Path != "live/fake" || opened[0].Token != "tk" ||
		opened[0].Protocol != access.ProtocolWHEP || opened[0].Remote == "" {
		t.Fatalf("audited %+v", opened)
	}
	if code := newClient(t).post(t, e.url("/whep/live/fake?token=tk")); code != http.StatusServiceUnavailable {
		t.Fatalf("POST without an audit row = %d", code)
	}
	if n := len(e.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions, want only the audited one", n)
	}
	// The refused session's reader was closed before the answer.
	if n := readers(h, "live/fake"); n != 1 {
		t.Fatalf("%d hub readers, want 1", n)
	}
}
