package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/recorder"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// startRecorder runs the recorder against the stack's database and mediagw,
// recording into dir with short segments.
func (s *stack) startRecorder(dir string) (cfg *config.Recorder, stop func()) {
	s.t.Helper()
	rc := &config.Recorder{}
	rc.SetDefaults()
	rc.Database.URL = config.DatabaseURL(s.dbURL)
	rc.HTTP.Listen = addr(peertest.FreePort(s.t, "tcp"))
	rc.ServiceToken = serviceToken
	rc.Recorder.Node = "rec-e2e"
	rc.Recorder.MediagwURL = s.gwBase()
	rc.Recorder.RTSPURL = "rtsp://" + s.gwCfg.RTSP.Listen
	rc.Recorder.SegmentDuration = config.Duration(2 * time.Second)
	rc.Recorder.FragmentDuration = config.Duration(500 * time.Millisecond)
	rc.Recorder.LeaseTTL = config.Duration(3 * time.Second)
	rc.Storage.Dir = dir
	if err := rc.Validate(); err != nil {
		s.t.Fatal(err)
	}
	stop = runService(s.t, "recorder", "http://"+rc.HTTP.Listen, startupWait(&rc.Database, rc.HTTP), func(ctx context.Context) error {
		return recorder.Run(ctx, rc, logger("recorder"))
	})
	return rc, stop
}

// TestRecorderRecordsCameras: the stack of make run with a recorder: every
// simulated camera is recorded by default (plan "always"), through
// mediagw's RTSP with a play token of its own; its segments are indexed,
// closed when the recorder stops, and play in ffprobe.
func TestRecorderRecordsCameras(t *testing.T) {
	ffprobe := testsupport.Tool(t, "ffprobe", "ffmpeg")
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil) // 1 device, 2 cameras: H.264 and H.265
	dir := filepath.Join(t.TempDir(), "recordings")
	rc, stop := s.startRecorder(dir)

	db := recordingdb.New(storetest.Open(t, s.dbURL, 2))
	ctx := context.Background()
	cams := []string{channelID(1), channelID(2)}
	closed := func(ch string) int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM recordings WHERE channel_id = $1 AND NOT open`, ch).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A camera's stream starts on demand (INVITE), then segments close
	// every segment_duration; the bound leaves room for a loaded machine.
	wait := 2*rc.Recorder.LeaseTTL.Std() + s.sipCfg.Sessions.InviteTimeout.Std() + 4*rc.Recorder.SegmentDuration.Std() + 30*time.Second
	for _, ch := range cams {
		testsupport.Eventually(t, wait, "two closed segments of "+ch, func() bool { return closed(ch) >= 2 })
	}
	stop()

	for _, ch := range cams {
		rows, err := db.Pool.Query(ctx, `SELECT start_at, end_at, open, object_key, store, node FROM recordings
			WHERE channel_id = $1 ORDER BY start_at`, ch)
		if err != nil {
			t.Fatal(err)
		}
		type seg struct {
			start, end       time.Time
			open             bool
			key, store, node string
		}
		var segs []seg
		for rows.Next() {
			var g seg
			if err := rows.Scan(&g.start, &g.end, &g.open, &g.key, &g.store, &g.node); err != nil {
				t.Fatal(err)
			}
			segs = append(segs, g)
		}
		rows.Close()
		for _, g := range segs {
			if g.open || g.store != "dir" || g.node != "rec-e2e" {
				t.Errorf("%s: %+v after the recorder stopped", ch, g)
			}
		}
		// Segments of one session touch; a full one plays for its length.
		g := segs[0]
		// The video's duration: the index counts video (audio may run a
		// few packets past the last frame).
		out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration", "-of", "csv=p=0",
			filepath.Join(dir, filepath.FromSlash(g.key))).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", g.key, err)
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || time.Duration(secs*float64(time.Second)) <= 0 {
			t.Fatalf("ffprobe %s: duration %q", g.key, out)
		}
		if d := time.Duration(secs * float64(time.Second)); d-g.end.Sub(g.start) > 50*time.Millisecond || g.end.Sub(g.start)-d > 50*time.Millisecond {
			t.Errorf("%s: ffprobe %v, index %v", g.key, d, g.end.Sub(g.start))
		}
		tl, err := db.Timeline(ctx, ch, segs[0].start, segs[len(segs)-1].end)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d segments, timeline %d spans, %d gaps", ch, len(segs), len(tl.Segments), len(tl.Gaps))
		if len(tl.Segments) == 0 {
			t.Errorf("%s: empty timeline", ch)
		}
	}
}
