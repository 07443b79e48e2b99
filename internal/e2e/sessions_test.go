package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

const devID = "34020000001320000001"

// live checks that path streams H.264 or H.265 at 640x360 and grows.
func (s *stack) live(path, codec string) stream {
	s.t.Helper()
	var first stream
	testsupport.Eventually(s.t, 20*time.Second, path+" streaming "+codec, func() bool {
		st, ok := s.stream(path)
		if ok && st.Width == 640 && st.Height == 360 && strings.EqualFold(st.VideoCodec, codec) && st.Units > 0 {
			first = st
			return true
		}
		return false
	})
	testsupport.Eventually(s.t, 10*time.Second, path+" still growing", func() bool {
		st, ok := s.stream(path)
		return ok && st.Units > first.Units+10
	})
	return first
}

func (s *stack) sessionOf(path string) session {
	s.t.Helper()
	for _, ss := range s.sessions("?state=all") {
		if ss.Path == path {
			return ss
		}
	}
	return session{}
}

// TestLiveSessionTransports starts a live session over each transport the
// way mediagw asks for one, checks the media and tears it down as mediagw
// does when nobody watches: the device gets its BYE, the receiver closes.
func TestLiveSessionTransports(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil)
	path := "live/" + channelID(1)
	for i, tr := range []string{"udp", "tcp-passive", "tcp-active"} {
		t.Run(tr, func(t *testing.T) {
			s.t = t
			if code := s.sip("PATCH", "/internal/v1/devices/"+devID, map[string]string{"stream_transport": tr}, nil); code != http.StatusOK {
				t.Fatalf("set transport: %d", code)
			}
			var ss session
			if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
				t.Fatalf("needed: %d %+v", code, ss)
			}
			if ss.State != "active" || ss.Transport != tr || ss.Receiver == "" {
				t.Fatalf("session %+v", ss)
			}
			s.live(path, "h264")
			byes := s.sim.Stats().Byes
			if code := s.sip("POST", "/internal/v1/streams/idle", map[string]string{"path": path}, nil); code != http.StatusNoContent {
				t.Fatalf("idle: %d", code)
			}
			testsupport.Eventually(t, 10*time.Second, "the camera got its BYE", func() bool {
				return s.sim.Stats().Byes == byes+1 && s.sim.Stats().Streams == 0
			})
			testsupport.Eventually(t, 10*time.Second, "receiver closed", func() bool { _, ok := s.stream(path); return !ok })
			if got := s.sessionOf(path); got.State != "ended" || got.EndReason != "idle" {
				t.Fatalf("stored session %+v", got)
			}
			_ = i
		})
	}
}

// TestOnDemandPlaysAndShares: a viewer asking mediagw for a channel starts
// the session through sipserver (an H.265 camera here, probed over RTSP),
// and concurrent askers share one INVITE.
func TestOnDemandPlaysAndShares(t *testing.T) {
	ffprobe := testsupport.Tool(t, "ffprobe", "ffmpeg")
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil)
	path := "live/" + channelID(2)
	url := "rtsp://" + s.gwCfg.RTSP.Listen + "/" + path + "?token=" + s.token(path, "live")
	out, err := exec.Command(ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", url).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hevc,640,360" {
		t.Fatalf("ffprobe: %v %q", err, out)
	}

	// Five concurrent callers of the other channel: one INVITE, one session.
	other := "live/" + channelID(1)
	var wg sync.WaitGroup
	ids := make([]string, 5)
	for i := range ids {
		wg.Go(func() {
			var ss session
			if code := call(t, "POST", s.sipBase()+"/internal/v1/streams/needed", map[string]string{"path": other}, &ss); code == http.StatusOK {
				ids[i] = ss.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("callers got sessions %v", ids)
		}
	}
	testsupport.Eventually(t, 10*time.Second, "two camera streams", func() bool { return s.sim.Stats().Streams == 2 })

	// Clear errors for what cannot play.
	for _, c := range []struct {
		path string
		code int
	}{
		{"live/34020000001310009999", http.StatusNotFound},
		{"live/nope", http.StatusBadRequest},
		{"playback/" + channelID(1), http.StatusBadRequest},
	} {
		var e session
		if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": c.path}, &e); code != c.code || e.Error == "" {
			t.Errorf("%s: %d %q, want %d with an error", c.path, code, e.Error, c.code)
		}
	}
}

// TestTeardownPaths: a device's own BYE, its unregistration, and mediagw
// losing the receiver each end the session on both sides.
func TestTeardownPaths(t *testing.T) {
	s := newStack(t, func(sc *config.Sipserver, _ *config.Mediagw) {
		sc.Sessions.InviteTimeout = config.Duration(2 * time.Second)
	})
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil)
	path := "live/" + channelID(1)
	need := func() session {
		t.Helper()
		var ss session
		if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
			t.Fatalf("needed: %d", code)
		}
		s.live(path, "h264")
		return ss
	}
	ended := func(id, reason string) {
		t.Helper()
		testsupport.Eventually(t, 15*time.Second, "session ended: "+reason, func() bool {
			var ss session
			return s.sip("GET", "/internal/v1/sessions/"+id, nil, &ss) == http.StatusOK && ss.State == "ended" && ss.EndReason == reason
		})
		testsupport.Eventually(t, 10*time.Second, "receiver closed", func() bool { _, ok := s.stream(path); return !ok })
	}

	t.Run("device bye", func(t *testing.T) {
		ss := need()
		if err := s.sim.Hangup(t.Context(), channelID(1)); err != nil {
			t.Fatal(err)
		}
		ended(ss.ID, "device_bye")
	})
	t.Run("receiver lost", func(t *testing.T) {
		ss := need()
		byes := s.sim.Stats().Byes
		if code := s.gw("DELETE", "/internal/v1/receivers/"+ss.Receiver, nil, nil); code != http.StatusNoContent {
			t.Fatalf("delete receiver: %d", code)
		}
		ended(ss.ID, "receiver_gone")
		testsupport.Eventually(t, 10*time.Second, "the camera got its BYE", func() bool {
			return s.sim.Stats().Byes == byes+1 && s.sim.Stats().Streams == 0
		})
	})
	t.Run("orphan receiver", func(t *testing.T) {
		var r struct{ ID string }
		if code := s.gw("POST", "/internal/v1/receivers", map[string]string{"path": "live/orphan", "ssrc": "0100009999", "transport": "udp"}, &r); code != http.StatusCreated {
			t.Fatalf("open receiver: %d", code)
		}
		testsupport.Eventually(t, 20*time.Second, "reconcile closes a receiver no session owns", func() bool {
			return s.gw("GET", "/internal/v1/receivers/"+r.ID, nil, nil) == http.StatusNotFound
		})
	})
	t.Run("unregister", func(t *testing.T) {
		ss := need()
		byes := s.sim.Stats().Byes
		if err := s.sim.Unregister(t.Context(), devID); err != nil {
			t.Fatal(err)
		}
		ended(ss.ID, "unregister")
		testsupport.Eventually(t, 10*time.Second, "the camera got its BYE", func() bool {
			return s.sim.Stats().Byes == byes+1 && s.sim.Stats().Streams == 0
		})
	})
}

// TestRestarts: a sipserver restart keeps a running session (same ID, the
// stream never stops, the restored dialog still hangs up); a mediagw
// restart ends it cleanly and the next viewer gets a new one.
func TestRestarts(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(nil)
	path := "live/" + channelID(1)
	var ss session
	if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
		t.Fatalf("needed: %d", code)
	}
	s.live(path, "h264")

	s.stopSip()
	s.startSipserver()
	open := s.sessions("")
	if len(open) != 1 || open[0].ID != ss.ID || open[0].State != "active" {
		t.Fatalf("after sipserver restart: %+v", open)
	}
	s.live(path, "h264")
	byes := s.sim.Stats().Byes
	if code := s.sip("POST", "/internal/v1/streams/idle", map[string]string{"path": path}, nil); code != http.StatusNoContent {
		t.Fatalf("idle after restart: %d", code)
	}
	testsupport.Eventually(t, 10*time.Second, "BYE from the restored dialog", func() bool {
		return s.sim.Stats().Byes == byes+1 && s.sim.Stats().Streams == 0
	})

	if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
		t.Fatalf("needed: %d", code)
	}
	s.live(path, "h264")
	byes = s.sim.Stats().Byes
	s.stopGW()
	s.startMediagw()
	testsupport.Eventually(t, 15*time.Second, "session ended after the mediagw restart", func() bool {
		var got session
		return s.sip("GET", "/internal/v1/sessions/"+ss.ID, nil, &got) == http.StatusOK && got.State == "ended"
	})
	testsupport.Eventually(t, 10*time.Second, "the camera got its BYE", func() bool {
		return s.sim.Stats().Byes == byes+1 && s.sim.Stats().Streams == 0
	})
	if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK {
		t.Fatalf("needed after mediagw restart: %d", code)
	}
	s.live(path, "h264")
}

// TestPlaybackAndDownload: device playback with MANSRTSP control, and a
// download that ends itself with MediaStatus 121.
func TestPlaybackAndDownload(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Channels = 1 })
	end := time.Now().Add(-time.Hour).Truncate(time.Second)
	var pb session
	code := s.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "playback", "channel_id": channelID(1), "start": end.Add(-10 * time.Minute), "end": end,
	}, &pb)
	if code != http.StatusCreated || pb.Kind != "playback" || !strings.HasPrefix(pb.Path, "playback/") {
		t.Fatalf("playback: %d %+v", code, pb)
	}
	s.live(pb.Path, "h264")
	for _, c := range []map[string]any{
		{"action": "pause"}, {"action": "resume"}, {"action": "scale", "scale": 2}, {"action": "seek", "position": 60},
	} {
		if code := s.sip("POST", "/internal/v1/sessions/"+pb.ID+"/control", c, nil); code != http.StatusNoContent {
			t.Fatalf("control %v: %d", c, code)
		}
	}
	if code := s.sip("POST", "/internal/v1/sessions/"+pb.ID+"/control", map[string]any{"action": "rewind"}, nil); code != http.StatusBadRequest {
		t.Fatalf("bad action: %d", code)
	}
	byes := s.sim.Stats().Byes
	if code := s.sip("DELETE", "/internal/v1/sessions/"+pb.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("stop playback: %d", code)
	}
	testsupport.Eventually(t, 10*time.Second, "playback BYE", func() bool { return s.sim.Stats().Byes == byes+1 })

	var dl session
	code = s.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "download", "channel_id": channelID(1), "start": end.Add(-8 * time.Second), "end": end, "speed": 4,
	}, &dl)
	if code != http.StatusCreated {
		t.Fatalf("download: %d %+v", code, dl)
	}
	testsupport.Eventually(t, 30*time.Second, "download ended by MediaStatus 121", func() bool {
		var got session
		return s.sip("GET", "/internal/v1/sessions/"+dl.ID, nil, &got) == http.StatusOK && got.State == "ended" &&
			got.EndReason == "media_status"
	})
	for _, bad := range []map[string]any{
		{"kind": "live", "channel_id": channelID(1), "start": end.Add(-time.Minute), "end": end},
		{"kind": "playback", "channel_id": channelID(1), "start": end, "end": end.Add(-time.Minute)},
		{"kind": "download", "channel_id": channelID(1), "start": end.Add(-time.Minute), "end": end, "speed": 3},
	} {
		if code := s.sip("POST", "/internal/v1/sessions", bad, nil); code != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, code)
		}
	}
}

// TestInviteTimeoutCancels: a camera that only says Trying gets a CANCEL
// after sessions.invite_timeout, the caller a 504 naming the timeout, and
// no receiver is left behind.
func TestInviteTimeoutCancels(t *testing.T) {
	s := newStack(t, func(sc *config.Sipserver, _ *config.Mediagw) {
		sc.Sessions.InviteTimeout = config.Duration(time.Second)
	})
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Channels = 1; c.Faults.InviteDelay = time.Minute })
	path := "live/" + channelID(1)
	var e session
	if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &e); code != http.StatusGatewayTimeout ||
		!strings.Contains(e.Error, "no answer within 1s") {
		t.Fatalf("needed: %d %q", code, e.Error)
	}
	testsupport.Eventually(t, 10*time.Second, "the camera saw the CANCEL", func() bool { return s.sim.Stats().Cancels == 1 })
	var rcvs struct{ Items []any }
	if s.gw("GET", "/internal/v1/receivers", nil, &rcvs); len(rcvs.Items) != 0 {
		t.Fatalf("receivers left: %+v", rcvs.Items)
	}
	if got := s.sessionOf(path); got.State != "ended" || got.EndReason != "invite_failed" {
		t.Fatalf("stored session %+v", got)
	}
}
