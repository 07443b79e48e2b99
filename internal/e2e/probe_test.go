package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// probeAnswer is the console's answer to a probe.
type probeAnswer struct {
	Reachable    bool
	FirstFrameMS *int64 `json:"first_frame_ms"`
	Codec        string
	Width        int
	Height       int
	Verdict      string
	Faults       []string
	Error        string
	Thumbnail    string
}

// TestProbeStack: the console probes gbsim's cameras through the real
// stack — sipserver starts the stream, mediagw serves it over RTSP to the
// probe's ffmpeg — and finds the H.264 and the H.265 camera reachable,
// their codec and size right and their picture good; a camera whose device
// went away is unreachable, with the reason.
func TestProbeStack(t *testing.T) {
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	s := newStack(t, nil)
	cs := s.withConsole()
	s.gwCfg.Audit.ConsoleURL = cs.base()
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 1, 2 }) // H.264 and H.265
	admin := cs.signIn(t, "admin", "admin", "Probe-Adm1n!")
	probe := func(ch string) probeAnswer {
		t.Helper()
		var p probeAnswer
		if code := callAs(t, admin, "POST", cs.base()+"/api/v1/channels/"+ch+"/probe", nil, &p); code != http.StatusOK {
			t.Fatalf("probe %s: %d", ch, code)
		}
		if p.FirstFrameMS != nil {
			t.Logf("probe %s: %s %dx%d %s %v, first frame after %d ms", ch, p.Codec, p.Width, p.Height, p.Verdict, p.Faults, *p.FirstFrameMS)
		} else {
			t.Logf("probe %s: unreachable: %s", ch, p.Error)
		}
		return p
	}
	for ch, codec := range map[string]string{channelID(1): "H264", channelID(2): "H265"} {
		p := probe(ch)
		if !p.Reachable || p.Codec != codec || p.Width != 640 || p.Height != 360 || p.Verdict != "ok" || p.FirstFrameMS == nil ||
			p.Thumbnail == "" {
			t.Errorf("probe of %s: %+v", ch, p)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, cs.base()+"/api/v1/channels/"+channelID(1)+"/thumbnail", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}

	// The camera goes away: unreachable, and why.
	s.stopSim()
	testsupport.Eventually(t, 30*time.Second, "the cameras offline", func() bool {
		var out struct{ Total int }
		return s.sip("GET", "/internal/v1/channels?online=true", nil, &out) == http.StatusOK && out.Total == 0
	})
	p := probe(channelID(1))
	if p.Reachable || p.Verdict != "fault" || !slices.Equal(p.Faults, []string{"unreachable"}) || !strings.Contains(p.Error, "offline") {
		t.Errorf("probe of an offline camera: %+v", p)
	}
}

// TestProbeFaults: gbsim's cameras told to show each faulty picture are
// found with that fault, through the whole stack, and the clean one with
// none.
func TestProbeFaults(t *testing.T) {
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	kinds := []string{"black", "frozen", "dark", "bright", "blur", "noise", "cast", "occlusion"}
	want := map[string][]string{channelID(1): {}}
	s := newStack(t, nil)
	cs := s.withConsole()
	s.gwCfg.Audit.ConsoleURL = cs.base()
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) {
		c.Devices, c.Channels = 1, 1+len(kinds)
		c.Faults.Pictures = map[string]string{}
		for i, k := range kinds {
			ch := channelID(2 + i)
			c.Faults.Pictures[ch] = k
			if k == "cast" {
				k = "color_cast"
			}
			want[ch] = []string{k}
		}
	})
	admin := cs.signIn(t, "admin", "admin", "Probe-Adm1n!")
	for n := 1; n <= 1+len(kinds); n++ {
		ch := channelID(n)
		var p probeAnswer
		// A channel's clip is made by ffmpeg at its first INVITE: the first
		// probes may see gbsim's synthetic stand-in, which is no picture.
		testsupport.Eventually(t, 90*time.Second, "probe of "+ch, func() bool {
			if code := callAs(t, admin, "POST", cs.base()+"/api/v1/channels/"+ch+"/probe", nil, &p); code != http.StatusOK {
				t.Fatalf("probe %s: %d", ch, code)
			}
			return p.Reachable && p.Width == 640
		})
		t.Logf("%s: %s %v", ch, p.Verdict, p.Faults)
		if !slices.Equal(p.Faults, want[ch]) {
			t.Errorf("%s: faults %v, want %v", ch, p.Faults, want[ch])
		}
	}
}
