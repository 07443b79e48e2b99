package console_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/probe"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/internal/vqd"
)

// TestProbeRoutes: a probe of a channel the user may watch answers the
// finding, stores it (listed by GET probes) and keeps the frame as the
// channel's thumbnail; a black picture is a fault; each probe and each
// thumbnail is audited; a channel outside the slice is 404.
func TestProbeRoutes(t *testing.T) {
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	var subjects []string
	p := &probe.Prober{
		Decoder: vqd.Decoder{FFmpeg: ffmpeg},
		Input: func(path, subject string) ([]string, error) {
			subjects = append(subjects, subject)
			graph := "testsrc2=s=640x360:r=25:d=4"
			if strings.HasSuffix(path, channelA2) {
				graph = "color=c=black:s=640x360:r=25:d=4"
			}
			return []string{"-f", "lavfi", "-i", graph}, nil
		},
	}
	e, c := operator(t, envOptions{prober: p})
	base := "/api/v1/channels/"
	mustStatus(t, "thumbnail before a probe", c.do(http.MethodGet, base+channelA1+"/thumbnail", nil), http.StatusNotFound, "not_found")

	var got struct {
		Reachable    bool
		FirstFrameMS *int64 `json:"first_frame_ms"`
		Codec        string
		Width        int
		Height       int
		Verdict      string
		Faults       []string
		Thumbnail    string
		Trigger      string
		RequestedBy  string `json:"requested_by"`
	}
	r := c.do(http.MethodPost, base+channelA1+"/probe", nil)
	mustStatus(t, "probe", r, http.StatusOK, "")
	r.json(t, &got)
	if !got.Reachable || got.Verdict != "ok" || len(got.Faults) != 0 || got.Width != 640 || got.Height != 360 || got.FirstFrameMS == nil ||
		got.Thumbnail != base+channelA1+"/thumbnail" || got.Trigger != "manual" || got.RequestedBy != "olga" {
		t.Fatalf("probe %s", r.Body)
	}
	if !slices.Equal(subjects, []string{"olga"}) {
		t.Errorf("stream read for %v", subjects)
	}
	r = c.do(http.MethodGet, got.Thumbnail, nil)
	mustStatus(t, "thumbnail", r, http.StatusOK, "")
	if r.Header.Get("Content-Type") != "image/jpeg" || len(r.Body) < 1000 {
		t.Fatalf("thumbnail %s, %d bytes", r.Header.Get("Content-Type"), len(r.Body))
	}

	r = c.do(http.MethodPost, base+channelA2+"/probe", nil)
	mustStatus(t, "probe of a black camera", r, http.StatusOK, "")
	r.json(t, &got)
	if got.Verdict != "fault" || !slices.Equal(got.Faults, []string{"black"}) {
		t.Fatalf("black probe %s", r.Body)
	}

	var list struct {
		Items []struct{ Verdict string }
		Total int
	}
	r = c.do(http.MethodGet, base+channelA1+"/probes", nil)
	mustStatus(t, "probes", r, http.StatusOK, "")
	r.json(t, &list)
	if list.Total != 1 || list.Items[0].Verdict != "ok" {
		t.Fatalf("probes %s", r.Body)
	}
	var faults struct {
		Items []struct {
			Fault    string
			ClosedAt *string `json:"closed_at"`
		}
		Total int
	}
	r = c.do(http.MethodGet, base+channelA2+"/faults", nil)
	mustStatus(t, "faults", r, http.StatusOK, "")
	r.json(t, &faults)
	if faults.Total != 1 || faults.Items[0].Fault != "black" || faults.Items[0].ClosedAt != nil {
		t.Fatalf("faults %s", r.Body)
	}
	mustStatus(t, "probes from an hour ago", c.do(http.MethodGet, base+channelA1+"/probes?from="+
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil), http.StatusOK, "")
	mustStatus(t, "probes, bad range", c.do(http.MethodGet, base+channelA1+"/probes?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", nil),
		http.StatusBadRequest, "bad_request")
	mustStatus(t, "probe of an unknown channel", c.do(http.MethodPost, base+"34020000001310009999/probe", nil), http.StatusNotFound, "not_found")
	if n := e.actions("olga"); n["probe"] != 2 || n["thumbnail"] != 1 {
		t.Errorf("audited %v", n)
	}
}

// TestProbeWithoutPlay: a console that cannot play cannot probe.
func TestProbeWithoutPlay(t *testing.T) {
	_, c := operator(t, envOptions{noSigner: true})
	mustStatus(t, "probe", c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/probe", nil), http.StatusServiceUnavailable, "play_disabled")
}
