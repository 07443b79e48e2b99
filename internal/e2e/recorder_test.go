package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
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
	return s.startRecorderWith(dir, nil)
}

// startRecorderWith is startRecorder with mod applied to the configuration.
func (s *stack) startRecorderWith(dir string, mod func(*config.Recorder)) (cfg *config.Recorder, stop func()) {
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
	if mod != nil {
		mod(rc)
	}
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
// closed when the recorder stops, and play in ffprobe; across a clean
// restart segments and gaps leave no hole.
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
	// The capacity guard's first reading is kept on the node's row, for
	// the console's storage banner, from a new node's very first start.
	var kept bool
	if err := db.Pool.QueryRow(ctx, `SELECT bool_and(capacity IS NOT NULL) FROM recorder_nodes`).Scan(&kept); err != nil || !kept {
		t.Errorf("the capacity guard's first reading is not on the node's row (%v)", err)
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
			if g.open || g.store != "dir://rec-e2e" || g.node != "rec-e2e" {
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

	// A clean restart: from each camera's last segment before the stop to
	// its first after the restart, gaps (the stop's recorder_down, maybe a
	// stream_error while the stream comes back) tile the time — no hole.
	// Raw rows: the timeline merges within a second, which would hide one.
	ends := map[string]time.Time{}
	for _, ch := range cams {
		var end time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT max(end_at) FROM recordings WHERE channel_id = $1`, ch).Scan(&end); err != nil {
			t.Fatal(err)
		}
		ends[ch] = end
	}
	s.startRecorder(dir)
	for _, ch := range cams {
		var next time.Time
		testsupport.Eventually(t, wait, "recording "+ch+" again", func() bool {
			return db.Pool.QueryRow(ctx, `SELECT start_at FROM recordings WHERE channel_id = $1 AND start_at >= $2
				ORDER BY start_at LIMIT 1`, ch, ends[ch]).Scan(&next) == nil
		})
		testsupport.Eventually(t, wait, "the gaps of "+ch+" closed", func() bool {
			gaps, err := db.OpenGaps(ctx, ch)
			return err == nil && len(gaps) == 0
		})
		rows, err := db.Pool.Query(ctx, `SELECT start_at, end_at, cause FROM recording_gaps
			WHERE channel_id = $1 AND start_at >= $2 AND start_at < $3 ORDER BY start_at, id`, ch, ends[ch], next)
		if err != nil {
			t.Fatal(err)
		}
		at, causes := ends[ch], []string{}
		for rows.Next() {
			var start, end time.Time
			var cause string
			if err := rows.Scan(&start, &end, &cause); err != nil {
				t.Fatal(err)
			}
			if !start.Equal(at) {
				t.Errorf("%s: %s gap from %v, the record before ends at %v", ch, cause, start, at)
			}
			at, causes = end, append(causes, cause)
		}
		rows.Close()
		t.Logf("%s: stopped at %v, gaps %v, recording again at %v", ch, ends[ch].Format("15:04:05.000"), causes,
			next.Format("15:04:05.000"))
		if len(causes) == 0 || causes[0] != string(recordingdb.CauseRecorderDown) {
			t.Errorf("%s: gaps %v across the restart, want recorder_down first", ch, causes)
		}
		if !at.Equal(next) {
			t.Errorf("%s: gaps end at %v, the next segment starts at %v", ch, at, next)
		}
	}
}

// TestRecorderRepairsAfterCrash: the recorder stopped with a segment open
// and its last fragment torn (as kill -9 leaves it). At its restart the
// segment is cut after its last complete fragment, closed and playable, and
// recorder_down gaps cover the time until the channel is recorded again.
func TestRecorderRepairsAfterCrash(t *testing.T) {
	ffprobe := testsupport.Tool(t, "ffprobe", "ffmpeg")
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Channels = 1 })
	dir := filepath.Join(t.TempDir(), "recordings")
	rc, stop := s.startRecorder(dir)
	db := recordingdb.New(storetest.Open(t, s.dbURL, 2))
	ctx := context.Background()
	ch := channelID(1)
	wait := 2*rc.Recorder.LeaseTTL.Std() + s.sipCfg.Sessions.InviteTimeout.Std() + 4*rc.Recorder.SegmentDuration.Std() + 30*time.Second
	var id int64
	var key string
	var bytes int64
	testsupport.Eventually(t, wait, "a closed segment", func() bool {
		err := db.Pool.QueryRow(ctx, `SELECT id, object_key, bytes FROM recordings WHERE channel_id = $1 AND NOT open
			ORDER BY start_at LIMIT 1`, ch).Scan(&id, &key, &bytes)
		return err == nil
	})
	stop()
	// The crash: the first segment is open again, with half a fragment
	// more in its file; nothing after it happened (no later segment, no
	// gap of the orderly stop).
	if _, err := db.Pool.Exec(ctx, `DELETE FROM recordings WHERE channel_id = $1 AND id <> $2`, ch, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM recording_gaps WHERE channel_id = $1`, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE recordings SET open = true WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(key))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0, 0, 0x40, 0, 'm', 'o', 'o', 'f', 0, 0, 0, 16}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s.startRecorder(dir)
	seg, err := db.Segment(ctx, id)
	if err != nil || seg.Open || seg.Bytes != bytes {
		t.Fatalf("repaired segment: %+v %v (written %d bytes)", seg, err, bytes)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != bytes {
		t.Fatalf("repaired file: %v %v", fi, err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	if secs, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); time.Duration(secs*float64(time.Second)) != seg.End.Sub(seg.Start) {
		t.Errorf("ffprobe %s s, index %v", out, seg.End.Sub(seg.Start))
	}
	var next time.Time
	testsupport.Eventually(t, wait, "recording again", func() bool {
		return db.Pool.QueryRow(ctx, `SELECT start_at FROM recordings WHERE channel_id = $1 AND id <> $2
			ORDER BY start_at LIMIT 1`, ch, id).Scan(&next) == nil
	})
	testsupport.Eventually(t, wait, "the recorder_down gaps closed", func() bool {
		gaps, err := db.OpenGaps(ctx, ch)
		return err == nil && len(gaps) == 0
	})
	tl, err := db.Timeline(ctx, ch, seg.Start, next)
	if err != nil {
		t.Fatal(err)
	}
	// From the repaired end to the next segment: recorder_down only, no hole.
	at := seg.End
	for _, g := range tl.Gaps {
		if g.Cause != recordingdb.CauseRecorderDown || !g.Start.Equal(at) {
			t.Errorf("gap %+v, want recorder_down from %v", g, at)
		}
		at = g.End
	}
	if !at.Equal(next) {
		t.Errorf("gaps end at %v, the next segment starts at %v: %+v", at, next, tl.Gaps)
	}
	// One hole, one row: the restarted node extends the repair's gap
	// rather than opening a second from where it ends.
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM recording_gaps WHERE channel_id = $1`, ch).Scan(&rows); err != nil ||
		rows != 1 {
		t.Errorf("%d gap rows across the crash, %v; want 1", rows, err)
	}
}
