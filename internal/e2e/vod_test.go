package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestRecorderPlayback: the recorder process records simulated cameras
// and serves them back as HLS VOD on its own listener: a playlist over
// several closed segments plays in ffmpeg, every frame decoded — the H.265
// camera's as H.264 with video=h264 — with the request audited at the
// console's audit API; the public URL the node
// publishes is the one it was given, and a live-only token is refused.
func TestRecorderPlayback(t *testing.T) {
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil)
	sink := newAuditSink(t)

	rc := &config.Recorder{}
	rc.SetDefaults()
	rc.Database.URL = config.DatabaseURL(s.dbURL)
	rc.HTTP.Listen = addr(peertest.FreePort(t, "tcp"))
	rc.ServiceToken = serviceToken
	rc.PlayTokenSecret = playSecret
	rc.Recorder.Node = "rec-vod"
	rc.Recorder.PublicURL = "http://" + rc.HTTP.Listen
	rc.Recorder.ConsoleURL = sink.URL()
	rc.Recorder.MediagwURL = s.gwBase()
	rc.Recorder.RTSPURL = "rtsp://" + s.gwCfg.RTSP.Listen
	rc.Recorder.SegmentDuration = config.Duration(2 * time.Second)
	rc.Recorder.LeaseTTL = config.Duration(3 * time.Second)
	rc.Storage.Dir = filepath.Join(t.TempDir(), "recordings")
	if err := rc.Validate(); err != nil {
		t.Fatal(err)
	}
	runService(t, "recorder", rc.Recorder.PublicURL, startupWait(&rc.Database, rc.HTTP), func(ctx context.Context) error {
		return recorder.Run(ctx, rc, logger("recorder"))
	})

	db := recordingdb.New(storetest.Open(t, s.dbURL, 2))
	ctx := context.Background()
	wait := 2*rc.Recorder.LeaseTTL.Std() + s.sipCfg.Sessions.InviteTimeout.Std() + 4*rc.Recorder.SegmentDuration.Std() + 30*time.Second
	// closed waits for three closed segments of ch in a row.
	closed := func(ch string) []recordingdb.Segment {
		var segs []recordingdb.Segment
		testsupport.Eventually(t, wait, "three closed segments of "+ch, func() bool {
			all, err := db.PlaybackSegments(ctx, ch, time.Now().Add(-time.Hour), time.Now())
			segs = segs[:0]
			for _, g := range all {
				if !g.Open {
					segs = append(segs, g)
				}
			}
			return err == nil && len(segs) >= 3
		})
		return segs[:3]
	}
	ch := channelID(1) // the H.264 camera
	segs := closed(ch)
	urls, err := db.NodeURLs(ctx)
	if err != nil || urls["rec-vod"] != rc.Recorder.PublicURL {
		t.Fatalf("published URLs %v (%v), want %s", urls, err, rc.Recorder.PublicURL)
	}

	// Three segments of one session touch: from the first's start to the
	// third's end, every frame plays (gbsim sends 25 fps). The H.265
	// camera's play as H.264 with video=h264, as a browser that cannot
	// decode H.265 asks for them (the recorder runs ffmpeg for it).
	play := func(ch string, segs []recordingdb.Segment, video string) url.Values {
		start, end := segs[0].Start, segs[2].End
		q := url.Values{
			"start": {start.UTC().Format(time.RFC3339Nano)}, "end": {end.UTC().Format(time.RFC3339Nano)},
			"token": {s.token(streampath.Recording(ch), playtoken.RightPlayback)},
		}
		if video != "" {
			q.Set("video", video)
		}
		playlist := rc.Recorder.PublicURL + "/vod/" + streampath.Recording(ch) + "/index.m3u8?" + q.Encode()
		out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-http_persistent", "0", "-i", playlist,
			"-map", "0:v:0", "-f", "framemd5", "-").CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", playlist, err, out)
		}
		frames := 0
		for line := range strings.Lines(string(out)) {
			if strings.HasPrefix(line, "0,") {
				frames++
			}
		}
		want := int(end.Sub(start).Round(40*time.Millisecond) / (40 * time.Millisecond))
		t.Logf("%s: %d segments, %s: %d frames decoded, %d expected", ch, len(segs), end.Sub(start), frames, want)
		if frames < want-1 || frames > want+1 {
			t.Errorf("%s: decoded %d frames over %s, want %d", ch, frames, end.Sub(start), want)
		}
		return q
	}
	q := play(ch, segs, "")
	h265 := closed(channelID(2))
	if h265[0].VideoCodec != "h265" {
		t.Fatalf("channel 2 recorded %q, want the H.265 camera", h265[0].VideoCodec)
	}
	hq := play(channelID(2), h265, "h264")
	resp, err := http.Get(rc.Recorder.PublicURL + "/vod/" + streampath.Recording(channelID(2)) + "/index.m3u8?" + hq.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "h264/seg/") {
		t.Fatalf("video=h264 playlist of the H.265 camera: %d %v\n%s", resp.StatusCode, err, body)
	}
	var audited bool
	for _, m := range sink.MediaOpens() {
		audited = audited || m.Path == streampath.Recording(ch) && m.Protocol == auditapi.ProtocolHLS && m.User == "e2e" &&
			m.Node == "rec-vod"
	}
	if !audited {
		t.Errorf("the playlist request is not in the audit log: %+v", sink.MediaOpens())
	}

	q.Set("token", s.token(streampath.Recording(ch), playtoken.RightLive))
	resp, err = http.Get(rc.Recorder.PublicURL + "/vod/" + streampath.Recording(ch) + "/index.m3u8?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a live token: %d, want 403", resp.StatusCode)
	}
}
