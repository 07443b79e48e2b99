package e2e

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestCascadeReplay: the upper plays back and downloads the lower's own
// recordings of the shared camera. The lower's recorder records it; the
// upper's RecordInfo lists the lower's recordings (recorded by the lower
// platform) beside the camera's; its playback of a recorded range is
// served by the lower's recorder — no device session at the lower — and
// its pause and seek reach the replay; its end stops the replay; a
// download of the range ends with the lower's MediaStatus 121; and once
// the camera is gone, its recordings still play upstream.
func TestCascadeReplay(t *testing.T) {
	c := cascadeWith(t, cascadeOptions{
		rights: "{playback,download}", shared: []string{channelID(1)},
		// The lower's sweeps of receivers no session of its owns, often.
		lower: func(sc *config.Sipserver, _ *config.Mediagw) {
			sc.Sessions.InviteTimeout = config.Duration(3 * time.Second)
			sc.Sessions.ReconcileInterval = config.Duration(time.Second)
		},
	})
	lower, upper, shared := c.lower, c.upper, channelID(1)
	rc, _ := lower.startRecorder(filepath.Join(t.TempDir(), "recordings"))
	ctx := context.Background()

	// Four closed segments (8 s) of the shared camera.
	var start, end time.Time
	wait := 2*rc.Recorder.LeaseTTL.Std() + lower.sipCfg.Sessions.InviteTimeout.Std() + 5*rc.Recorder.SegmentDuration.Std() + 30*time.Second
	testsupport.Eventually(t, wait, "8 s of the shared camera recorded", func() bool {
		var n int
		err := c.db.QueryRow(ctx, `SELECT count(*), coalesce(min(start_at), now()), coalesce(max(end_at), now())
			FROM recordings WHERE channel_id = $1 AND NOT open`, shared).Scan(&n, &start, &end)
		return err == nil && n >= 4
	})
	start = start.Truncate(time.Second).Add(time.Second) // t= has whole seconds
	end = end.Truncate(time.Second)

	// RecordInfo through the lower: its own recordings, recorded by it.
	var recs struct {
		Items []struct {
			Start      time.Time `json:"start"`
			End        time.Time `json:"end"`
			RecorderID string    `json:"recorder_id"`
		} `json:"items"`
	}
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
	if code := upper.sip("GET", "/internal/v1/devices/"+cascadeLowerID+"/channels/"+shared+"/records?"+q.Encode(), nil, &recs); code != http.StatusOK {
		t.Fatalf("records: %d", code)
	}
	ours := 0
	for _, r := range recs.Items {
		if r.RecorderID == cascadeLowerID && !r.Start.After(start.Add(time.Second)) && !r.End.Before(end.Add(-time.Second)) {
			ours++
		}
	}
	if ours != 1 {
		t.Fatalf("the lower's recordings of %s–%s: %+v", start, end, recs.Items)
	}

	// The upper plays the range back: the lower's recorder replays it.
	var pb session
	if code := upper.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "playback", "channel_id": shared, "start": start, "end": end,
	}, &pb); code != http.StatusCreated {
		t.Fatalf("the upper's playback: %d %+v", code, pb)
	}
	upper.live(pb.Path, "h264")
	if got := lower.sessions("?kind=playback&state=all"); len(got) != 0 {
		t.Fatalf("the lower asked its camera: %+v", got)
	}
	var replayID, recorderURL string
	if err := c.db.QueryRow(ctx, `SELECT replay_id, recorder_url FROM upward_sessions`).Scan(&replayID, &recorderURL); err != nil || replayID == "" {
		t.Fatalf("the lower's upward session is no replay: %q %v", replayID, err)
	}
	replay := func() recorderapi.Replay {
		var rp recorderapi.Replay
		if code := call(t, "GET", recorderURL+recorderapi.ReplayPath(replayID), nil, &rp); code != http.StatusOK {
			t.Fatalf("replay: %d", code)
		}
		return rp
	}
	control := func(body map[string]any, state string) {
		t.Helper()
		if code := upper.sip("POST", "/internal/v1/sessions/"+pb.ID+"/control", body, nil); code != http.StatusNoContent {
			t.Fatalf("the upper's control %v: %d", body, code)
		}
		if rp := replay(); rp.State != state {
			t.Fatalf("after %v the replay is %+v", body, rp)
		}
	}
	control(map[string]any{"action": "pause"}, recorderapi.ReplayPaused)
	// A long pause: beyond the lower's RTP timeout and its sweep of
	// receivers no session owns, the replay and its stream stay.
	time.Sleep(max(lower.gwCfg.RTP.Timeout.Std(), lower.sipCfg.Sessions.InviteTimeout.Std()+5*time.Second+
		lower.sipCfg.Sessions.ReconcileInterval.Std()) + 2*time.Second)
	if rp := replay(); rp.State != recorderapi.ReplayPaused {
		t.Fatalf("after a long pause the replay is %+v", rp)
	}
	control(map[string]any{"action": "seek", "position": 4}, recorderapi.ReplayRunning)
	testsupport.Eventually(t, 10*time.Second, "the replay went on from 4 s", func() bool {
		return !replay().Position.Before(start.Add(3 * time.Second))
	})
	if _, ok := upper.stream(pb.Path); !ok {
		t.Fatal("the upper's playback ended")
	}
	if code := upper.sip("DELETE", "/internal/v1/sessions/"+pb.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("the upper stops: %d", code)
	}
	testsupport.Eventually(t, 15*time.Second, "the lower's replay, receiver and sender ended", func() bool {
		var snd, rcv struct{ Items []struct{ Path string } }
		if lower.gw("GET", "/internal/v1/senders", nil, &snd) != http.StatusOK || lower.gw("GET", "/internal/v1/receivers", nil, &rcv) != http.StatusOK {
			return false
		}
		for _, r := range rcv.Items {
			if !strings.HasPrefix(r.Path, "live/") { // the recorder's own live streams stay
				return false
			}
		}
		return len(snd.Items) == 0 && replay().State == recorderapi.ReplayStopped
	})

	// A download of the range ends with the replay's end, told as a
	// device tells it (MediaStatus 121).
	var dl session
	if code := upper.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "download", "channel_id": shared, "start": start, "end": end, "speed": 4,
	}, &dl); code != http.StatusCreated {
		t.Fatalf("the upper's download: %d %+v", code, dl)
	}
	testsupport.Eventually(t, 30*time.Second, "the upper's download ended by the lower's MediaStatus 121", func() bool {
		var got session
		return upper.sip("GET", "/internal/v1/sessions/"+dl.ID, nil, &got) == http.StatusOK && got.State == "ended" &&
			got.EndReason == "media_status"
	})
	if got := lower.sessions("?kind=download&state=all"); len(got) != 0 {
		t.Fatalf("the lower asked its camera: %+v", got)
	}

	// The camera goes away: its recordings still play upstream.
	lower.stopSim()
	testsupport.Eventually(t, 30*time.Second, "the lower's camera offline", func() bool {
		var out struct{ Total int }
		return lower.sip("GET", "/internal/v1/channels?online=true", nil, &out) == http.StatusOK && out.Total == 0
	})
	var again session
	if code := upper.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "playback", "channel_id": shared, "start": start, "end": end,
	}, &again); code != http.StatusCreated {
		t.Fatalf("the upper's playback of an offline camera's recordings: %d %+v", code, again)
	}
	upper.live(again.Path, "h264")
	if code := upper.sip("DELETE", "/internal/v1/sessions/"+again.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("the upper stops: %d", code)
	}
}
