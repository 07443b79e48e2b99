package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestMediagwOutageHangsUp: mediagw stops under four playing cameras and
// stays down; sipserver notices within sessions.media_node_grace and hangs
// every camera up, so none streams to nobody for the whole outage.
func TestMediagwOutageHangsUp(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 2, 2 })

	var chans struct {
		Items []struct {
			ID string `json:"id"`
		}
	}
	if code := s.sip("GET", "/internal/v1/channels", nil, &chans); code != http.StatusOK || len(chans.Items) != 4 {
		t.Fatalf("channels: %d %+v", code, chans)
	}
	var ids []string
	for _, ch := range chans.Items {
		var ss session
		path := "live/" + ch.ID
		if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
			t.Fatalf("needed %s: %d %s", path, code, ss.Error)
		}
		ids = append(ids, ss.ID)
	}
	testsupport.Eventually(t, 20*time.Second, "four cameras streaming", func() bool { return s.sim.Stats().Streams == 4 })

	byes := s.sim.Stats().Byes
	stopped := time.Now()
	s.stopGW()
	grace := s.sipCfg.Sessions.MediaNodeGrace.Std()
	// The bound is the grace, a probe, and the BYE transactions, with room
	// for a loaded machine; the figure itself is logged.
	testsupport.Eventually(t, 3*grace+20*time.Second, "every camera hung up while mediagw is down", func() bool {
		st := s.sim.Stats()
		return st.Byes == byes+4 && st.Streams == 0
	})
	took := time.Since(stopped)
	if resp, err := http.Get(s.gwBase() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("mediagw answers again: the BYEs must come while it is down")
	}
	// The BYE goes out before the row is written: wait for the rows too.
	for _, id := range ids {
		testsupport.Eventually(t, 10*time.Second, "session "+id+" stored as ended media_node_down", func() bool {
			var ss session
			return s.sip("GET", "/internal/v1/sessions/"+id, nil, &ss) == http.StatusOK && ss.State == "ended" &&
				ss.EndReason == "media_node_down"
		})
	}
	t.Logf("4 cameras got their BYE %s after mediagw stopped (sessions.media_node_grace %s)", took.Round(100*time.Millisecond), grace)
}
