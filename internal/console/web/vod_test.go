package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/console/web"
	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vod"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// recorded is one segment the test writes: its channel, its offset from
// the test's start time and its length in seconds, and the picture size.
type recorded struct {
	channel       string
	offset, secs  int
	width, height int
	// h265 records H.265 instead of H.264.
	h265 bool
}

// writeRecorded writes r as a real segment (H.264 or H.265, 500 ms
// fragments) into the dir store and indexes it, closed, as the recorder
// does.
func writeRecorded(t *testing.T, ctx context.Context, st objstore.Store, db *recordingdb.DB, t0 time.Time, r recorded) {
	t.Helper()
	start := t0.Add(time.Duration(r.offset) * time.Second)
	key := fmt.Sprintf("%s/%s.mp4", r.channel, start.UTC().Format("2006/01/02/150405.000"))
	codec := ps.CodecH264
	var vf format.Format = &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	if r.h265 {
		codec, vf = ps.CodecH265, &format.H265{PayloadTyp: 96}
	}
	clip := mediatest.NewClip(t, codec, r.width, r.height, 25, 2)
	tracks, err := segment.NewTracks(&description.Session{Medias: []*description.Media{{
		Type: description.MediaTypeVideo, Formats: []format.Format{vf},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := st.WritePath(key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &segment.Writer{W: f, Tracks: tracks, FragmentDuration: 500 * time.Millisecond}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	// One frame more than the length: the last fragment is written once the next frame comes.
	for i := range r.secs*clip.FPS + 1 {
		u := clip.Units[i%len(clip.Units)]
		var au [][]byte
		for n := range ps.NALUnits(u.Payload) {
			au = append(au, n)
		}
		if err := w.WriteVideo(tracks[0], int64(i)*90000/int64(clip.FPS), au); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	info := recordingdb.Info{VideoCodec: w.VideoCodec(), Width: r.width, Height: r.height}
	id, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: r.channel, Start: start, End: start.Add(time.Second), ObjectKey: key, Store: st.Name(),
		Info: info, RetentionDays: 30, Node: "rec-a",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CloseSegment(ctx, id, start.Add(w.Duration()), w.Bytes(), info); err != nil {
		t.Fatal(err)
	}
}

// auditLog is the console's internal audit API as the VOD server sees it:
// it keeps every playlist opened and revokes nobody.
type auditLog struct {
	mu    sync.Mutex
	opens []auditapi.MediaOpen
}

func (a *auditLog) MediaOpen(_ context.Context, m auditapi.MediaOpen) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opens = append(a.opens, m)
	return nil
}

func (a *auditLog) CheckViewers(context.Context, []auditapi.Viewer) ([]auditapi.Viewer, error) {
	return nil, nil
}

func (a *auditLog) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.opens)
}

// platformAPI answers the timeline and platform playback of the console
// from the real index and token signer, as the console does, and passes
// everything else to the fake API.
type platformAPI struct {
	next   http.Handler
	db     *recordingdb.DB
	signer *playtoken.Signer
	vodURL string
	mu     sync.Mutex
	// plays are the starts of the platform playbacks asked for.
	plays []string
}

func (p *platformAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/channels/")
	id, op, _ := strings.Cut(rest, "/")
	if !ok || (op != "recordings" && op != "playback") {
		p.next.ServeHTTP(w, r)
		return
	}
	var start, end time.Time
	var err error
	if op == "recordings" {
		start, err = time.Parse(time.RFC3339, r.URL.Query().Get("start"))
		if err == nil {
			end, err = time.Parse(time.RFC3339, r.URL.Query().Get("end"))
		}
	} else {
		var body struct{ Start, Source string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Source != "platform" {
			writeJSON(w, 400, map[string]string{"error": "device playback in this test", "code": "bad_request"})
			return
		}
		start, err = time.Parse(time.RFC3339, body.Start)
		end = start.Add(24 * time.Hour)
		if now := time.Now(); end.After(now) {
			end = now
		}
		p.mu.Lock()
		p.plays = append(p.plays, body.Start)
		p.mu.Unlock()
	}
	if err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error(), "code": "bad_request"})
		return
	}
	tl, err := p.db.Timeline(r.Context(), id, start, end)
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": err.Error(), "code": "internal"})
		return
	}
	segs, gaps := []any{}, []any{}
	for _, s := range tl.Segments {
		segs = append(segs, map[string]any{"start": s.Start, "end": s.End})
	}
	for _, g := range tl.Gaps {
		gaps = append(gaps, map[string]any{"start": g.Start, "end": g.End, "cause": g.Cause})
	}
	if op == "recordings" {
		writeJSON(w, 200, map[string]any{"source": "platform", "segments": segs, "gaps": gaps})
		return
	}
	if len(segs) == 0 {
		writeJSON(w, 404, map[string]string{"error": "nothing recorded", "code": "no_recordings"})
		return
	}
	path := streampath.Recording(id)
	expires := time.Now().Add(time.Hour)
	tok, err := p.signer.Issue(playtoken.Claims{
		Subject: "admin", Paths: []string{path}, Rights: []string{playtoken.RightPlayback},
		Expires: expires.Unix(), IssuedAt: time.Now().Unix(),
	})
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": err.Error(), "code": "internal"})
		return
	}
	q := url.Values{"start": {start.Format(time.RFC3339Nano)}, "end": {end.Format(time.RFC3339Nano)}, "token": {tok}}
	writeJSON(w, 200, map[string]any{
		"source": "platform", "path": path, "hls": p.vodURL + vod.Prefix + path + "/index.m3u8?" + q.Encode(),
		"start": start, "end": end, "speed": 1, "expires": expires, "segments": segs, "gaps": gaps,
	})
}

func (p *platformAPI) played() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.plays)
}

// TestPlatformPlaybackInBrowser plays real recorded segments from a real
// VOD server (its own origin, as a recorder is) on the playback page: a
// click on the timeline plays from there across a segment boundary and a
// gap, a click inside the loaded range seeks without asking the console
// again, pause and speed, a snapshot of the frame as a PNG of the video's
// size, and four panes kept at the same wall-clock time, one of them
// showing "no recording" until its recording starts.
func TestPlatformPlaybackInBrowser(t *testing.T) {
	pe := startPlatform(t, nil, []recorded{
		// Channel A: two segments back to back, a 4 s gap, a third.
		{fakeChannel, 0, 6, 320, 240, false},
		{fakeChannel, 6, 6, 320, 240, false},
		{fakeChannel, 16, 20, 320, 240, false},
		// Channel B: recorded from 8 s on.
		{fakeOffline, 8, 28, 352, 288, false},
	})
	t0, pg, plat, audit := pe.t0, pe.pg, pe.plat, pe.audit
	downloads := t.TempDir()
	pg.run("downloads", browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).
		WithDownloadPath(downloads).WithEventsEnabled(true))
	pe.open()
	dblclick := pe.dblclick
	pg.run("pick channel A", dblclick(fakeChannel))
	pg.poll("its recordings", `window.sharpeyesDebug.playback().source === 'platform' && window.sharpeyesDebug.playback().records === 2`+
		` && window.sharpeyesDebug.playback().gaps.length === 0`)
	pe.zoomToMinute(11)
	at := func(sec float64) chromedp.Action { return pe.mouseAt("click", sec) }
	// wallIn is JS true when pane i shows a frame of wall time in [t0+from, t0+to] s.
	wallIn := func(i int, from, to float64) string {
		return fmt.Sprintf(`((p) => !!p && p.wall !== null && Date.parse(p.wall) >= %d && Date.parse(p.wall) <= %d)(window.sharpeyesDebug.playback().panes[%d])`,
			t0.UnixMilli()+int64(from*1000), t0.UnixMilli()+int64(to*1000), i)
	}
	playing := func(i, width int) string {
		return fmt.Sprintf(`((p, v) => p.mode === 'platform' && p.state === 'playing' && v.videoWidth === %d && !v.paused && v.readyState >= 3)`+
			`(window.sharpeyesDebug.playback().panes[%d], document.querySelector(%q))`, width, i, q(fmt.Sprintf("pb-video-%d", i)))
	}

	pg.run("click at +2 s", at(2))
	pg.poll("plays from there", playing(0, 320)+` && `+wallIn(0, 1, 11.5))
	// The page plays the playlist it read: one audited open per playback.
	if plat.played() != 1 || audit.count() != 1 {
		t.Fatalf("platform playbacks %d, audited playlists %d", plat.played(), audit.count())
	}
	// The clock and the cursor follow the frame's wall time.
	pg.poll("clock", fmt.Sprintf(`%s.startsWith(%q)`, text("playback-clock"), t0.Format("15:04:0")))

	// Snapshot: a PNG of the frame, named by the channel and its wall time.
	pg.click("snapshot", "playback-snapshot")
	var shot string
	pg.poll("snapshot taken", `!!window.sharpeyesDebug.playback().snapshot`)
	testsupport.Eventually(t, uiWait, "the snapshot's download", func() bool {
		m, _ := filepath.Glob(filepath.Join(downloads, fakeChannel+"_*.png"))
		if len(m) == 1 {
			shot = m[0]
		}
		return shot != ""
	})
	name := strings.TrimSuffix(filepath.Base(shot), ".png")
	stamp, err := time.ParseInLocation("20060102T150405", strings.TrimPrefix(name, fakeChannel+"_"), time.Local)
	if err != nil || stamp.Before(t0) || stamp.After(t0.Add(36*time.Second)) {
		t.Errorf("snapshot %s: time %v (%v), recorded from %v", name, stamp, err, t0)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != 320 || cfg.Height != 240 {
		t.Errorf("snapshot: %dx%d, %v; want a 320x240 PNG", cfg.Width, cfg.Height, err)
	}

	// Pause holds the frame; speed 4 is the video's rate.
	pg.click("pause", "playback-pause")
	pg.poll("paused", `window.sharpeyesDebug.playback().paused && document.querySelector(`+fmt.Sprintf("%q", q("pb-video-0"))+`).paused`)
	pg.fill("playback-speed", "4")
	pg.click("resume", "playback-pause")
	pg.poll("4x", `document.querySelector(`+fmt.Sprintf("%q", q("pb-video-0"))+`).playbackRate === 4 && !window.sharpeyesDebug.playback().paused`)
	// Across the boundary at +6 s and the gap of +12–16 s: the gap takes no time.
	pg.poll("after the gap", playing(0, 320)+` && `+wallIn(0, 16.5, 36))
	// A click inside the loaded range seeks, with no new call.
	pg.fill("playback-speed", "1")
	pg.run("click at +3 s", at(3))
	pg.poll("seeked back", playing(0, 320)+` && `+wallIn(0, 2.5, 11.5))
	if n := plat.played(); n != 1 {
		t.Errorf("platform playbacks after a seek: %d, want 1", n)
	}

	// Four panes: channel B joins pane 1 at the same wall-clock time,
	// "no recording" until its recording starts at +8 s.
	pg.click("four panes", "pb-layout-4")
	pg.click("select pane 1", "pb-pane-1")
	pg.run("pick channel B", dblclick(fakeOffline))
	pg.poll("the timeline shows B's recording", `window.sharpeyesDebug.playback().selected === 1 && window.sharpeyesDebug.playback().records === 1`)
	pg.run("click at +3 s", at(3))
	pg.poll("no recording in B yet", `window.sharpeyesDebug.playback().panes[1].state === 'norec' && `+text("pb-pane-msg-1")+` === '无录像'`+
		` && `+playing(0, 320))
	sync := `((p) => p[0].wall && p[1].wall && Math.abs(Date.parse(p[0].wall) - Date.parse(p[1].wall)) < 1000)(window.sharpeyesDebug.playback().panes)`
	pg.poll("B joins at its recording, in step with A", playing(0, 320)+` && `+playing(1, 352)+` && `+wallIn(1, 8, 20)+` && `+sync)
	pg.shot("playback-four-panes")
	pe.checkProblems()
}

// countingTranscoder counts the H.264 stretches the VOD server asks for.
type countingTranscoder struct {
	*vodtranscode.Transcoder
	mu    sync.Mutex
	parts int
}

func (c *countingTranscoder) Part(ctx context.Context, key string, final bool, rg vodtranscode.Range, open vodtranscode.Opener) ([]byte, error) {
	c.mu.Lock()
	c.parts++
	c.mu.Unlock()
	return c.Transcoder.Part(ctx, key, final, rg, open)
}

func (c *countingTranscoder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parts
}

// TestPlatformPlaybackH265InBrowser: Chromium, which cannot decode H.265,
// plays H.265 recordings on the playback page as the recorder's H.264
// version of them: from a click, across a segment boundary and a gap, at
// the frames' wall-clock time.
func TestPlatformPlaybackH265InBrowser(t *testing.T) {
	tc := &countingTranscoder{Transcoder: &vodtranscode.Transcoder{
		FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg"), Log: mediatest.Log(t),
	}}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close) // after the VOD server's cleanup: registered first
	pe := startPlatform(t, tc, []recorded{
		{fakeChannel, 0, 6, 320, 240, true},
		{fakeChannel, 6, 6, 320, 240, true},
		{fakeChannel, 16, 8, 320, 240, true},
	})
	t0, pg := pe.t0, pe.pg
	// Chromium here cannot decode H.265; a build that can is made to say
	// it cannot, so the test always takes the path it is about.
	pg.run("no H.265", chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := cdppage.AddScriptToEvaluateOnNewDocument(`(() => {
			const no = (type) => /hvc1|hev1/.test(String(type));
			const ts = MediaSource.isTypeSupported.bind(MediaSource);
			MediaSource.isTypeSupported = (type) => !no(type) && ts(type);
			const cp = HTMLMediaElement.prototype.canPlayType;
			HTMLMediaElement.prototype.canPlayType = function (type) { return no(type) ? '' : cp.call(this, type); };
		})()`).Do(ctx)
		return err
	}))
	pe.open()
	pg.run("pick the channel", pe.dblclick(fakeChannel))
	pg.poll("its recordings", `window.sharpeyesDebug.playback().source === 'platform' && window.sharpeyesDebug.playback().records === 2`)
	pe.zoomToMinute(11)
	wallIn := func(from, to float64) string {
		return fmt.Sprintf(`((p) => !!p && p.wall !== null && Date.parse(p.wall) >= %d && Date.parse(p.wall) <= %d)(window.sharpeyesDebug.playback().panes[0])`,
			t0.UnixMilli()+int64(from*1000), t0.UnixMilli()+int64(to*1000))
	}
	playing := fmt.Sprintf(`((p, v) => p.mode === 'platform' && p.state === 'playing' && v.videoWidth === 320 && !v.paused && v.readyState >= 3)`+
		`(window.sharpeyesDebug.playback().panes[0], document.querySelector(%q))`, q("pb-video-0"))
	pg.run("click at +2 s", pe.mouseAt("click", 2))
	pg.poll("plays the H.264 version from there", playing+` && `+wallIn(1, 11.5))
	pg.fill("playback-speed", "2")
	pg.poll("across the boundary and the gap", playing+` && `+wallIn(16.5, 24))
	if tc.count() == 0 {
		t.Fatal("the browser played without asking for the H.264 version")
	}
	pe.checkProblems()
}

// platformEnv is the playback page over real recorded segments served by
// a real VOD server on its own origin, as a recorder is.
type platformEnv struct {
	t        *testing.T
	t0       time.Time
	pg       *page
	url      string
	plat     *platformAPI
	audit    *auditLog
	problems func() []string
}

// startPlatform writes recs (from two hours ago, on a whole minute: the
// playback answer's end is capped at now), starts the VOD server (with tc
// when not nil) and the console, and a browser.
func startPlatform(t *testing.T, tc vod.Transcoder, recs []recorded) *platformEnv {
	t.Helper()
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
	st, err := objstore.New(ctx, objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	for _, r := range recs {
		writeRecorded(t, ctx, st, db, t0, r)
	}
	signer, err := playtoken.NewSigner([]byte("a secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	audit := &auditLog{}
	vodSrv := &vod.Server{Node: "rec-a", Store: st, Index: db, Signer: signer, Auditor: audit, Transcoder: tc, Log: mediatest.Log(t)}
	if err := vodSrv.Initialize(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewServer(vodSrv)
	fake := &fakeAPI{loggedIn: true, stop: make(chan struct{})}
	plat := &platformAPI{next: fake, db: db, signer: signer, vodURL: rec.URL}
	mux := http.NewServeMux()
	mux.Handle("/api/", validated(t, plat))
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(fake.stop)
		srv.Close()
		rec.Close()
		vodSrv.Close()
	})
	bctx := browsertest.New(t)
	problems := watchProblems(bctx)
	// Bounds for a broken build on a busy machine, not expectations.
	bctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancel)
	return &platformEnv{t: t, t0: t0, pg: &page{t: t, ctx: bctx}, url: srv.URL, plat: plat, audit: audit, problems: problems}
}

// open opens the playback page on the recordings' day.
func (e *platformEnv) open() {
	e.pg.run("open the page", chromedp.Navigate(e.url+"/playback"))
	e.pg.poll("playback tree", fmt.Sprintf(`!!document.querySelector('#view-playback %s')`, q("tree-channel-"+fakeChannel)))
	e.pg.fill("playback-day", e.t0.Format("2006-01-02"))
}

// dblclick picks channel id in the tree.
func (e *platformEnv) dblclick(id string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`document.querySelector('#view-playback %s').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`,
		q("tree-channel-"+id)), nil)
}

// mouseAt sends a mouse event of type on the timeline at t0 + sec.
func (e *platformEnv) mouseAt(typ string, sec float64) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const tl = document.querySelector(%q), r = tl.getBoundingClientRect(), d = window.sharpeyesDebug.playback();
		const f = (%d - (d.startOffset + new Date(%d).setHours(0, 0, 0, 0))) / d.span;
		const init = {bubbles: true, cancelable: true, clientX: r.left + r.width * f, clientY: r.top + 5, deltaY: -100};
		tl.dispatchEvent(%q === 'wheel' ? new WheelEvent('wheel', init) : new MouseEvent(%q, init));
	})()`, q("playback-timeline"), e.t0.UnixMilli()+int64(sec*1000), e.t0.UnixMilli(), typ, typ), nil)
}

// zoomToMinute wheels the timeline in around t0 + sec down to the minute
// scale, where a pixel is a fraction of a second.
func (e *platformEnv) zoomToMinute(sec float64) {
	for _, scale := range []string{"6 小时", "1 小时", "10 分钟", "1 分钟"} {
		e.pg.run("wheel in", e.mouseAt("wheel", sec))
		e.pg.poll(scale, text("playback-scale")+fmt.Sprintf(` === %q`, scale))
	}
}

// checkProblems fails the test for what the browser reported.
func (e *platformEnv) checkProblems() {
	for _, p := range e.problems() {
		e.t.Errorf("browser: %s", p)
	}
}
