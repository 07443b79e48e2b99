package e2e

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// consoleStack is a stack with the console in front.
type consoleStack struct {
	*stack
	cfg *config.Console
}

func (s *stack) withConsole() *consoleStack {
	s.t.Helper()
	c := &config.Console{}
	c.SetDefaults()
	c.Database.URL = config.DatabaseURL(s.dbURL)
	c.HTTP.Listen = addr(peertest.FreePort(s.t, "tcp"))
	c.SipserverURL = s.sipBase()
	c.ServiceToken = serviceToken
	c.Media.PublicURL = s.gwBase()
	c.Media.RTSPURL = "rtsp://" + s.gwCfg.RTSP.Listen
	c.Media.PlayTokenSecret = playSecret
	// No scheduled probes: they would read streams the tests count.
	c.Probe.Interval = 0
	if err := c.Validate(); err != nil {
		s.t.Fatal(err)
	}
	cs := &consoleStack{stack: s, cfg: c}
	runService(s.t, "console", cs.base(), startupWait(&c.Database, c.HTTP), func(ctx context.Context) error {
		return console.Run(ctx, c, logger("console"))
	})
	return cs
}

func (c *consoleStack) base() string { return "http://" + c.cfg.HTTP.Listen }

// page drives the console UI in headless Chromium and collects page errors.
type page struct {
	t        testing.TB
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newPage(t testing.TB, timeout time.Duration) *page {
	ctx := browsertest.New(t)
	p := &page{t: t}
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			p.mu.Lock()
			p.problems = append(p.problems, "exception: "+e.ExceptionDetails.Error())
			p.mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	p.ctx = ctx
	return p
}

func q(id string) string { return fmt.Sprintf(`[data-testid="%s"]`, id) }

func (p *page) run(what string, actions ...chromedp.Action) {
	p.t.Helper()
	if err := chromedp.Run(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *page) poll(what, js string, limit time.Duration) {
	p.t.Helper()
	if err := browsertest.Poll(p.ctx, js, limit); err != nil {
		var text string
		_ = chromedp.Run(p.ctx, chromedp.Evaluate(`document.body.innerText.slice(0, 1500)`, &text))
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

func vis(id string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.offsetParent !== null; })()`, q(id))
}

// login logs in as admin with the first-start password, changes it, and
// waits for the live view.
func (p *page) login(base string) {
	p.t.Helper()
	p.run("open the console", chromedp.Navigate(base+"/"))
	p.poll("login form", vis("login-submit"), 10*time.Second)
	p.run("log in as admin/admin",
		chromedp.SendKeys(q("login-username"), "admin", chromedp.ByQuery),
		chromedp.SendKeys(q("login-password"), "admin", chromedp.ByQuery),
		chromedp.Click(q("login-submit"), chromedp.ByQuery))
	p.poll("forced password change", vis("pw-submit"), 10*time.Second)
	p.run("change the initial password",
		chromedp.SendKeys(q("pw-old"), "admin", chromedp.ByQuery),
		chromedp.SendKeys(q("pw-new"), "Wall-0perator!", chromedp.ByQuery),
		chromedp.SendKeys(q("pw-repeat"), "Wall-0perator!", chromedp.ByQuery),
		chromedp.Click(q("pw-submit"), chromedp.ByQuery))
}

// drop drags a tree channel onto a pane with synthetic HTML5 drag events
// (headless Chromium does not start HTML5 drags from mouse input).
func drop(channel string, pane int) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		const src = document.querySelector(%q), dst = document.querySelector(%q);
		src.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		dst.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
		dst.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
	})()`, q("tree-channel-"+channel), q(fmt.Sprintf("pane-%d", pane))), nil)
}

// decoding is JS that is true once pane i's video decoded frames and, on a
// later call, decoded more since the previous call.
func decoding(i int) string {
	return videoDecoding(fmt.Sprintf("%s video", q(fmt.Sprintf("pane-%d", i))), strconv.Itoa(i))
}

func mixedCameras(c *gbsim.Config) { c.Devices, c.Channels = 1, 4 }

// TestConsoleVideoWall is the operator's first session: log in, change
// the initial password, open a 4-pane wall, drag four cameras in (two of
// them H.265, played as H.264), see all four decode, move one with PTZ.
func TestConsoleVideoWall(t *testing.T) {
	s := newStack(t, nil)
	// The real console first, so that mediagw audits to it.
	cs := s.withConsole()
	s.gwCfg.Audit.ConsoleURL = cs.base()
	s.startMediagw()
	s.startSipserver()
	s.startSim(mixedCameras)

	p := newPage(t, 90*time.Second)
	p.login(cs.base())
	p.poll("tree with the cameras", vis("tree-channel-"+channelID(4)), 15*time.Second)
	p.run("4-pane layout", chromedp.Click(q("layout-4"), chromedp.ByQuery))
	p.poll("four panes", `window.sharpeyesDebug.panes().length === 4`, 5*time.Second)
	for i := range 4 {
		p.run(fmt.Sprintf("drag camera %d", i+1), drop(channelID(i+1), i))
	}
	for i := range 4 {
		p.poll(fmt.Sprintf("pane %d plays", i), fmt.Sprintf(`window.sharpeyesDebug.panes()[%d].state === 'playing'`, i), 20*time.Second)
		p.poll(fmt.Sprintf("pane %d decodes frames", i), decoding(i), 15*time.Second)
		p.poll(fmt.Sprintf("pane %d keeps decoding", i), decoding(i), 5*time.Second)
	}
	var techs string
	p.run("read techs", chromedp.Evaluate(`window.sharpeyesDebug.panes().map(p => p.tech).join(',')`, &techs))
	t.Logf("pane techs: %s", techs)

	pan0, _, _, _ := s.sim.Position(channelID(1))
	p.run("open PTZ", chromedp.Click(q("ptz-toggle-0"), chromedp.ByQuery))
	p.poll("PTZ panel", vis("ptz-left"), 5*time.Second)
	p.run("hold left", chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent('mousedown', {bubbles: true}))`, q("ptz-left")), nil))
	testsupport.Eventually(t, 10*time.Second, "the camera pans left", func() bool {
		pan, _, _, _ := s.sim.Position(channelID(1))
		left := math.Mod(pan0-pan+360, 360) // degrees turned left, pan wraps at 360
		return left > 1 && left < 180
	})
	p.run("release", chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent('mouseup', {bubbles: true}))`, q("ptz-left")), nil))

	// Every pane's media open at mediagw is a row of the console's audit
	// log: the operator, the path, the browser's address, the protocol.
	st := consoledb.New(storetest.Open(t, s.dbURL, 2))
	opened := map[string]store.AuditEntry{}
	testsupport.Eventually(t, 10*time.Second, "a media_open row per pane", func() bool {
		rows, _, err := st.ListAudit(context.Background(), store.AuditFilter{Action: auditapi.ActionMediaOpen})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			opened[r.Target] = r
		}
		return len(opened) >= 4
	})
	for i := range 4 {
		r, ok := opened["live/"+channelID(i+1)]
		if !ok || r.Username != "admin" || !strings.HasPrefix(r.Remote, "127.0.0.1:") ||
			(r.Detail["protocol"] != auditapi.ProtocolWHEP && r.Detail["protocol"] != auditapi.ProtocolHLS) {
			t.Errorf("media_open of camera %d: %+v", i+1, r)
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		t.Errorf("page problems: %s", strings.Join(p.problems, "; "))
	}
}

// clickSegment clicks the timeline at frac (0–1) of the n-th recording segment.
func clickSegment(n int, frac float64) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const seg = document.querySelectorAll('#view-playback .tl-seg')[%d];
		const tl = document.querySelector(%q);
		const r = seg.getBoundingClientRect(), t = tl.getBoundingClientRect();
		tl.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + r.width * %f, clientY: t.top + t.height / 2}));
	})()`, n, q("playback-timeline"), frac), nil)
}

// clickBeforeSegment clicks the timeline two pixels left of the n-th
// segment drawn.
func clickBeforeSegment(n int) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const seg = document.querySelectorAll('#view-playback .tl-seg')[%d];
		const tl = document.querySelector(%q);
		const r = seg.getBoundingClientRect(), t = tl.getBoundingClientRect();
		tl.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left - 2, clientY: t.top + t.height / 2}));
	})()`, n, q("playback-timeline")), nil)
}

// videoDecoding is JS that is true once the <video> at sel decoded frames
// and, on a later call with the same key, decoded more since that call.
func videoDecoding(sel, key string) string {
	return fmt.Sprintf(`(() => {
		const v = document.querySelector(%q);
		if (!v || !v.getVideoPlaybackQuality) return false;
		const n = v.getVideoPlaybackQuality().totalVideoFrames;
		window.__frames = window.__frames || {};
		const before = window.__frames[%q];
		window.__frames[%[2]q] = n;
		return n > 0 && before !== undefined && n > before;
	})()`, sel, key)
}

// TestConsolePlayback: the playback page shows the device's recordings of
// the day, plays one from a click on the timeline, and seeks within it.
func TestConsolePlayback(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 1, 1 })
	cs := s.withConsole()

	p := newPage(t, 90*time.Second)
	p.login(cs.base())
	p.poll("live view", vis("nav-playback"), 15*time.Second)
	p.run("open playback", chromedp.Click(q("nav-playback"), chromedp.ByQuery))
	sel := fmt.Sprintf(`#view-playback %s`, q("tree-channel-"+channelID(1)))
	p.poll("playback tree", fmt.Sprintf(`!!document.querySelector(%q)`, sel), 15*time.Second)
	p.run("pick the camera", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector(%q).dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`, sel), nil))
	p.poll("timeline shows the recordings", `document.querySelectorAll('#view-playback .tl-seg').length > 0`, 15*time.Second)
	p.run("click a recording", clickSegment(0, 0.3))
	p.poll("playback session", `!!window.sharpeyesDebug.playback().session`, 15*time.Second)
	video := q("pb-video-0")
	p.poll("playback decodes", videoDecoding(video, "pb"), 20*time.Second)
	p.poll("playback keeps decoding", videoDecoding(video, "pb"), 5*time.Second)
	var session string
	p.run("session", chromedp.Evaluate(`window.sharpeyesDebug.playback().session`, &session))
	if open := s.sessions("?kind=playback"); len(open) != 1 || open[0].ID != session {
		t.Fatalf("open playback sessions %+v, page has %q", open, session)
	}

	p.run("seek", clickSegment(0, 0.7))
	p.poll("still decoding after the seek", videoDecoding(video, "pb"), 10*time.Second)
	p.run("pause", chromedp.Click(q("playback-pause"), chromedp.ByQuery))
	// The pause goes console → sipserver → the camera (INFO) and back.
	p.poll("paused", `window.sharpeyesDebug.playback().paused === true`, 2*s.sipCfg.SIP.RequestTimeout.Std())

	// From here a recorder runs beside the stack (make run's): it records the
	// camera, serves it back to the page, and runs the exports.
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	ffprobe := testsupport.Tool(t, "ffprobe", "ffmpeg")
	rc, _ := s.startRecorderWith(filepath.Join(t.TempDir(), "recordings"), func(rc *config.Recorder) {
		rc.PlayTokenSecret = playSecret
		rc.Recorder.ConsoleURL = cs.base()
		rc.Recorder.SipserverURL = s.sipBase()
	})
	var login struct{ Token string }
	if code := call(t, "POST", cs.base()+"/api/v1/auth/login", map[string]string{"username": "admin", "password": "Wall-0perator!"}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	api := func(method, path string, body, out any) int {
		return callAs(t, login.Token, method, cs.base()+path, body, out)
	}

	// A device export of 20 s: the recorder runs the download session at
	// the device's pace, read from mediagw; the console proxies the MP4.
	end := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Add(30 * time.Minute)
	job := exportAs(t, api, channelID(1), "device", end.Add(-20*time.Second), end)
	probeExport(t, ffprobe, login.Token, cs.base(), job, 20*time.Second, 5*time.Second)

	// The platform's own recording: a few closed segments of the camera.
	ch := channelID(1)
	var tl struct {
		Source   string
		Segments []struct{ Start, End time.Time }
	}
	wait := 2*rc.Recorder.LeaseTTL.Std() + s.sipCfg.Sessions.InviteTimeout.Std() + 4*rc.Recorder.SegmentDuration.Std() + 30*time.Second
	testsupport.Eventually(t, wait, "6 s of platform recording of "+ch, func() bool {
		q := url.Values{"start": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "end": {time.Now().UTC().Format(time.RFC3339)}}
		api("GET", "/api/v1/channels/"+ch+"/recordings?"+q.Encode(), nil, &tl)
		return tl.Source == "platform" && len(tl.Segments) > 0 && tl.Segments[0].End.Sub(tl.Segments[0].Start) >= 6*time.Second
	})
	from, to := tl.Segments[0].Start, tl.Segments[0].Start.Add(6*time.Second)

	// Platform playback through the console: the answer's HLS URL, on the
	// recorder, plays in ffmpeg.
	var pb struct {
		Source, HLS, Path string
		Segments          []struct{ Start, End time.Time }
	}
	if code := api("POST", "/api/v1/channels/"+ch+"/playback",
		map[string]any{"start": from, "end": to, "source": "platform", "speed": 1}, &pb); code != http.StatusOK {
		t.Fatalf("platform playback: %d %+v", code, pb)
	}
	if pb.Source != "platform" || !strings.HasPrefix(pb.HLS, "http://"+rc.HTTP.Listen+"/vod/recording/"+ch+"/") || len(pb.Segments) == 0 {
		t.Fatalf("platform playback answer %+v, want the recorder's HLS URL", pb)
	}
	out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-http_persistent", "0", "-i", pb.HLS,
		"-map", "0:v:0", "-f", "framemd5", "-").CombinedOutput()
	if err != nil || strings.Count(string(out), "\n0,") < 100 {
		t.Fatalf("ffmpeg of the platform playback: %v, %d frames\n%s", err, strings.Count(string(out), "\n0,"), out)
	}

	// A platform export of the same 6 s: a remux of the segments.
	job = exportAs(t, api, ch, "platform", from, to)
	probeExport(t, ffprobe, login.Token, cs.base(), job, 6*time.Second, time.Second)

	// The page plays the platform's recording: reopened, the timeline is
	// the platform's, and a click plays the recorder's HLS.
	p.run("reload", chromedp.Reload())
	p.poll("live view again", vis("nav-playback"), 15*time.Second)
	p.run("open playback again", chromedp.Click(q("nav-playback"), chromedp.ByQuery))
	p.poll("playback tree again", fmt.Sprintf(`!!document.querySelector(%q)`, sel), 15*time.Second)
	p.run("pick the camera again", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector(%q).dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`, sel), nil))
	p.poll("platform timeline", `window.sharpeyesDebug.playback().source === 'platform' && document.querySelectorAll('#view-playback .tl-seg').length > 0`, 15*time.Second)
	// Just before it: a recording of seconds is a pixel or less of the day,
	// drawn wider; a click before a recording plays it from its start.
	p.run("click the platform recording", clickBeforeSegment(0))
	p.poll("platform playback decodes", videoDecoding(video, "platform"), 20*time.Second)
	p.poll("platform playback keeps decoding", videoDecoding(video, "platform"), 5*time.Second)

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		t.Errorf("page problems: %s", strings.Join(p.problems, "; "))
	}
}

// TestConsoleSurvivesMediagwRestart: mediagw dies under a playing pane;
// the pane says so and its retry plays again once mediagw is back.
func TestConsoleSurvivesMediagwRestart(t *testing.T) {
	s := newStack(t, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(func(c *gbsim.Config) { c.Devices, c.Channels = 1, 1 })
	cs := s.withConsole()

	p := newPage(t, 120*time.Second)
	p.login(cs.base())
	p.poll("tree", vis("tree-channel-"+channelID(1)), 15*time.Second)
	p.run("play", drop(channelID(1), 0))
	p.poll("pane decodes", decoding(0), 20*time.Second)

	s.stopGW()
	p.poll("the pane reports the failure", `window.sharpeyesDebug.panes()[0].state === 'error'`, 30*time.Second)
	p.poll("retry offered", vis("pane-retry-0"), 5*time.Second)
	var msg string
	p.run("error text", chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).textContent`, q("pane-state-0")), &msg))
	t.Logf("pane says: %q", msg)

	s.startMediagw()
	p.run("retry", chromedp.Click(q("pane-retry-0"), chromedp.ByQuery))
	p.poll("plays again", `window.sharpeyesDebug.panes()[0].state === 'playing'`, 30*time.Second)
	p.run("forget the old count", chromedp.Evaluate(`window.__frames = {}`, nil))
	p.poll("decodes again", decoding(0), 20*time.Second)
	p.poll("keeps decoding", decoding(0), 5*time.Second)
}

// exportAs asks the console for an export and waits until it is done.
func exportAs(t *testing.T, api func(method, path string, body, out any) int, ch, source string, start, end time.Time) string {
	t.Helper()
	var job struct{ ID, State, Error string }
	if code := api("POST", "/api/v1/exports", map[string]any{
		"channel_id": ch, "start": start, "end": end, "source": source,
	}, &job); code != http.StatusAccepted {
		t.Fatalf("%s export: %d %+v", source, code, job)
	}
	testsupport.Eventually(t, 60*time.Second+end.Sub(start), source+" export done", func() bool {
		api("GET", "/api/v1/exports/"+job.ID, nil, &job)
		if job.State == "failed" {
			t.Fatalf("%s export failed: %s", source, job.Error)
		}
		return job.State == "done"
	})
	return job.ID
}

// probeExport fetches an export's file through the console and checks it
// in ffprobe: H.264 640 wide (gbsim's first camera), lasting want ± tol.
func probeExport(t *testing.T, ffprobe, token, base, id string, want, tol time.Duration) {
	t.Helper()
	file := filepath.Join(t.TempDir(), id+".mp4")
	if err := fetchTo(token, base+"/api/v1/exports/"+id+"/file", file); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height",
		"-of", "default=nw=1", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "codec_name=h264") || !strings.Contains(string(out), "width=640") {
		t.Fatalf("ffprobe of the export: %v\n%s", err, out)
	}
	var dur float64
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "duration="); ok {
			dur, _ = strconv.ParseFloat(v, 64)
		}
	}
	if got := time.Duration(dur * float64(time.Second)); got < want-tol || got > want+tol {
		t.Errorf("export lasts %v, want %v ± %v\n%s", got, want, tol, out)
	}
}

// fetchTo downloads url with a bearer token into file.
func fetchTo(token, url, file string) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
