package e2e

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// cascadeStacks starts two stacks on loopback, the lower one with gbsim
// cameras, registered to the upper one as a lower platform that shares one
// camera with rights; it returns the lower's database, the platform's ID
// there and the shared camera, once the upper has it online.
func cascadeStacks(t *testing.T, rights string) (lower, upper *stack, db *pgx.Conn, id int64, shared string) {
	t.Helper()
	c := cascadeWith(t, cascadeOptions{rights: rights, shared: []string{channelID(1)}})
	return c.lower, c.upper, c.db, c.id, channelID(1)
}

// cascadeOptions say what cascadeWith builds.
type cascadeOptions struct {
	rights string
	// shared are the lower's channels the grant lists.
	shared []string
	// cameras is the lower's gbsim channel count (default 2).
	cameras int
	// console puts a console (and its audit) in front of the upper.
	console bool
	// lower changes the lower stack's configuration.
	lower func(*config.Sipserver, *config.Mediagw)
}

// cascade is two stacks cascaded by cascadeWith.
type cascade struct {
	lower, upper *stack
	// upperConsole is the upper's console when asked for.
	upperConsole *consoleStack
	// db is the lower's database; id the upper's platform ID there.
	db *pgx.Conn
	id int64
}

// cascadeLowerID is the lower stack's platform ID (the stacks' default).
const cascadeLowerID = "34020000002000000001"

// cascadeWith is cascadeStacks with options.
func cascadeWith(t *testing.T, o cascadeOptions) cascade {
	t.Helper()
	const upperID, upperPassword = "34020000002000000009", "upper-secret"
	// Both mediagw nodes share the test's RTP port range: half each.
	lower := newStack(t, func(sc *config.Sipserver, gc *config.Mediagw) {
		gc.OnDemand.IdleTimeout = config.Duration(2 * time.Second)
		gc.RTP.PortMax = gc.RTP.PortMin + 24
		if o.lower != nil {
			o.lower(sc, gc)
		}
	})
	lower.startMediagw()
	lower.startSipserver()
	lower.startSim(func(c *gbsim.Config) {
		if o.cameras > 0 {
			c.Channels = o.cameras
		}
	})
	upper := newStack(t, func(sc *config.Sipserver, gc *config.Mediagw) {
		sc.SIP.ID, sc.SIP.Domain, sc.SIP.Password = upperID, upperID[:10], config.Secret(upperPassword)
		gc.RTP.PortMin += 25
	})
	var cs *consoleStack
	if o.console {
		// The console first, so that the upper's mediagw audits to it.
		cs = upper.withConsole()
		upper.gwCfg.Audit.ConsoleURL = cs.base()
	}
	upper.startMediagw()
	upper.startSipserver()

	// The lower's administrator adds the upper and shares one camera.
	db, err := pgx.Connect(context.Background(), lower.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	host, port, _ := net.SplitHostPort(upper.sipAddr)
	var id int64
	if err := db.QueryRow(context.Background(), `INSERT INTO cascade_platforms (name, server_id, domain, host, port, transport,
		password, gb_version, charset, expires, keepalive_interval, keepalive_count)
		VALUES ('市级平台', $1, $2, $3, $4, 'udp', $5, '2016', 'GB2312', 3600, 60, 3) RETURNING id`,
		upperID, upperID[:10], host, port, upperPassword).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO platform_grants (platform_id, scope_kind, channel_ids, rights)
		VALUES ($1, 'channels', $2, $3)`, id, o.shared, o.rights); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 30*time.Second, "the upper has the lower's shared cameras, online", func() bool {
		got := upper.upperChannels()
		if len(got) != len(o.shared) {
			return false
		}
		for _, ch := range o.shared {
			if on, ok := got[ch]; !ok || !on {
				return false
			}
		}
		return true
	})
	return cascade{lower: lower, upper: upper, upperConsole: cs, db: db, id: id}
}

// upperChannels are the lower platform's channels as the upper has them,
// with their online state.
func (s *stack) upperChannels() map[string]bool {
	var out struct {
		Items []struct {
			ID     string `json:"id"`
			Online bool   `json:"online"`
		}
	}
	got := map[string]bool{}
	if s.sip("GET", "/internal/v1/channels?device_id="+cascadeLowerID, nil, &out) == http.StatusOK {
		for _, it := range out.Items {
			got[it.ID] = it.Online
		}
	}
	return got
}

// TestCascadePlay runs two stacks on loopback: the lower one (sipserver,
// mediagw, gbsim cameras) registers to the upper one as a lower platform and
// shares one camera. The upper sees exactly that camera and plays it: its
// INVITE reaches the lower, whose mediagw starts the camera on demand and
// sends the stream up as PS over RTP, which the upper's mediagw ingests
// like a camera's. Ending the upper's session BYEs the lower, whose sender
// closes and whose camera session then ends when nobody watches.
func TestCascadePlay(t *testing.T) {
	lower, upper, db, id, shared := cascadeStacks(t, "{live}")

	// The upper plays it, as its mediagw asks when a viewer comes; the
	// camera is not running yet (the lower must invite it).
	path := "live/" + shared
	cold := upper.firstUnit(path)
	st := upper.live(path, "h264")
	t.Logf("upstream %s %dx%d; the upper's INVITE to its first unit: %v with the camera invited on demand",
		st.VideoCodec, st.Width, st.Height, cold.Round(time.Millisecond))
	var senders struct {
		Items []struct {
			ID      string `json:"id"`
			Path    string `json:"path"`
			Packets uint64 `json:"packets"`
		}
	}
	if code := lower.gw("GET", "/internal/v1/senders", nil, &senders); code != http.StatusOK || len(senders.Items) != 1 ||
		senders.Items[0].Path != path || senders.Items[0].Packets == 0 {
		t.Fatalf("lower's senders: %d %+v", code, senders.Items)
	}
	var p struct{ UpwardStreams int }
	testsupport.Eventually(t, 10*time.Second, "the link counts the stream", func() bool {
		return db.QueryRow(context.Background(), `SELECT upward_streams FROM cascade_platform_status WHERE platform_id = $1`, id).
			Scan(&p.UpwardStreams) == nil && p.UpwardStreams == 1
	})

	// The upper ends it: the lower's sender closes, then its camera session.
	if code := upper.sip("POST", "/internal/v1/streams/idle", map[string]string{"path": path}, nil); code != http.StatusNoContent {
		t.Fatalf("idle: %d", code)
	}
	testsupport.Eventually(t, 15*time.Second, "the lower's sender closed and its camera stopped", func() bool {
		var list struct{ Items []any }
		_, streaming := lower.stream(path)
		return lower.gw("GET", "/internal/v1/senders", nil, &list) == http.StatusOK && len(list.Items) == 0 && !streaming
	})
	testsupport.Eventually(t, 10*time.Second, "the upper's receiver closed", func() bool { _, ok := upper.stream(path); return !ok })

	// Again with the camera running for a local viewer: the running session
	// is reused.
	if code := lower.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, nil); code != http.StatusOK {
		t.Fatalf("lower's own session: %d", code)
	}
	lower.live(path, "h264")
	warm := upper.firstUnit(path)
	t.Logf("the upper's INVITE to its first unit: %v with the camera running", warm.Round(time.Millisecond))

	// The camera's stream ends at the lower (its receiver closed): the
	// sender ends, the lower BYEs the upper, whose session ends.
	var rcvs struct {
		Items []struct {
			ID   string `json:"id"`
			Path string `json:"path"`
		}
	}
	if code := lower.gw("GET", "/internal/v1/receivers", nil, &rcvs); code != http.StatusOK || len(rcvs.Items) != 1 {
		t.Fatalf("lower's receivers: %d %+v", code, rcvs.Items)
	}
	if code := lower.gw("DELETE", "/internal/v1/receivers/"+rcvs.Items[0].ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("close the lower's receiver: %d", code)
	}
	testsupport.Eventually(t, 15*time.Second, "the upper's session ended by the lower's BYE", func() bool {
		got := upper.sessionOf(path)
		return got.State == "ended" && got.EndReason == "device_bye"
	})
}

// firstUnit asks for path's live session as mediagw does and returns the
// time until the first unit of it reached mediagw.
func (s *stack) firstUnit(path string) time.Duration {
	s.t.Helper()
	start := time.Now()
	var ss session
	if code := s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, &ss); code != http.StatusOK || ss.State != "active" {
		s.t.Fatalf("session of %s: %d %+v", path, code, ss)
	}
	var took time.Duration
	testsupport.Eventually(s.t, 20*time.Second, path+" has a unit", func() bool {
		st, ok := s.stream(path)
		took = time.Since(start)
		return ok && st.Units > 0
	})
	return took
}

// TestCascadePlayback: the upper plays back and downloads the shared
// camera's recordings through the lower. The lower starts a playback of its
// camera for the upper's window and sends that stream up; the upper's
// MANSRTSP reaches the camera through the lower; the upper's end of the
// playback ends the lower's; a download that reaches its end has the
// camera's MediaStatus 121 relayed up, which ends the upper's session.
func TestCascadePlayback(t *testing.T) {
	lower, upper, db, _, shared := cascadeStacks(t, "{playback,download}")
	end := time.Now().Add(-time.Hour).Truncate(time.Second)
	var pb session
	if code := upper.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "playback", "channel_id": shared, "start": end.Add(-10 * time.Minute), "end": end,
	}, &pb); code != http.StatusCreated {
		t.Fatalf("the upper's playback: %d %+v", code, pb)
	}
	upper.live(pb.Path, "h264")
	lowers := lower.sessions("?kind=playback")
	if len(lowers) != 1 || lowers[0].State != "active" {
		t.Fatalf("the lower's playback sessions %+v", lowers)
	}
	cseq := func() (n int) {
		if err := db.QueryRow(context.Background(), `SELECT cseq FROM stream_sessions WHERE id = $1`, lowers[0].ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := cseq()
	for _, c := range []map[string]any{{"action": "pause"}, {"action": "resume"}, {"action": "scale", "scale": 2}} {
		if code := upper.sip("POST", "/internal/v1/sessions/"+pb.ID+"/control", c, nil); code != http.StatusNoContent {
			t.Fatalf("the upper's control %v: %d", c, code)
		}
	}
	testsupport.Eventually(t, 10*time.Second, "the controls reached the camera through the lower", func() bool {
		return cseq() == before+3
	})
	if code := upper.sip("DELETE", "/internal/v1/sessions/"+pb.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("the upper stops: %d", code)
	}
	testsupport.Eventually(t, 15*time.Second, "the lower's playback and sender ended", func() bool {
		var list struct{ Items []any }
		got := lower.sessions("?kind=playback&state=all")
		return len(got) == 1 && got[0].State == "ended" && got[0].EndReason == "upward_ended" &&
			lower.gw("GET", "/internal/v1/senders", nil, &list) == http.StatusOK && len(list.Items) == 0
	})

	var dl session
	if code := upper.sip("POST", "/internal/v1/sessions", map[string]any{
		"kind": "download", "channel_id": shared, "start": end.Add(-8 * time.Second), "end": end, "speed": 4,
	}, &dl); code != http.StatusCreated {
		t.Fatalf("the upper's download: %d %+v", code, dl)
	}
	testsupport.Eventually(t, 30*time.Second, "the upper's download ended by the relayed MediaStatus 121", func() bool {
		var got session
		return upper.sip("GET", "/internal/v1/sessions/"+dl.ID, nil, &got) == http.StatusOK && got.State == "ended" &&
			got.EndReason == "media_status"
	})
	testsupport.Eventually(t, 15*time.Second, "the lower's download ended", func() bool {
		got := lower.sessions("?kind=download&state=all")
		return len(got) == 1 && got[0].State == "ended"
	})
}

// TestCascadeConsole is the city's operator watching a county's cameras: the
// county (the lower stack) shares two of its four cameras with live, PTZ
// and playback. In the city's console (Chromium) the tree shows exactly
// those two under the county's platform; one plays and decodes, PTZ turns
// the county's camera; a camera taken out of the grant leaves the city's
// tree (the county's catalog NOTIFY); the county's sipserver restarts
// without cutting the picture, and the city's end of the stream still
// reaches it; the city's playback page lists the camera's recordings
// through the county and plays one back.
func TestCascadeConsole(t *testing.T) {
	shared, kept := channelID(1), channelID(2)
	c := cascadeWith(t, cascadeOptions{rights: "{live,ptz,playback}", shared: []string{shared, kept}, cameras: 4, console: true})
	p := newPage(t, 120*time.Second)
	p.login(c.upperConsole.base())
	absent := func(id string) string { return fmt.Sprintf(`document.querySelector(%q) === null`, q(id)) }
	p.poll("the shared cameras in the city's tree", vis("tree-channel-"+shared)+" && "+vis("tree-channel-"+kept), 20*time.Second)
	for _, hidden := range []string{channelID(3), channelID(4)} {
		p.poll("a camera not shared is not in the tree", absent("tree-channel-"+hidden), time.Second)
	}

	p.run("drag the shared camera", drop(shared, 0))
	p.poll("the pane plays", `window.sharpeyesDebug.panes()[0].state === 'playing'`, 20*time.Second)
	p.poll("the pane decodes frames", decoding(0), 15*time.Second)

	pan0, _, _, _ := c.lower.sim.Position(shared)
	p.run("open PTZ", chromedp.Click(q("ptz-toggle-0"), chromedp.ByQuery))
	p.poll("PTZ panel", vis("ptz-left"), 5*time.Second)
	p.run("hold left", chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent('mousedown', {bubbles: true}))`, q("ptz-left")), nil))
	testsupport.Eventually(t, 10*time.Second, "the county's camera pans left", func() bool {
		pan, _, _, _ := c.lower.sim.Position(shared)
		left := math.Mod(pan0-pan+360, 360)
		return left > 1 && left < 180
	})
	p.run("release", chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent('mouseup', {bubbles: true}))`, q("ptz-left")), nil))

	// The county takes the second camera back: it leaves the city's tree.
	if _, err := c.db.Exec(context.Background(), `UPDATE platform_grants SET channel_ids = $2 WHERE platform_id = $1`,
		c.id, []string{shared}); err != nil {
		t.Fatal(err)
	}
	p.poll("the camera taken back left the city's tree", absent("tree-channel-"+kept), 20*time.Second)
	if got := c.upper.upperChannels(); len(got) != 1 {
		t.Fatalf("the city's channels of the county after the grant changed: %v", got)
	}

	// The county's sipserver restarts: the picture goes on, and the city's
	// end of the stream still reaches the county (its restored session).
	senders := func() map[string]bool {
		var list struct{ Items []struct{ ID string } }
		got := map[string]bool{}
		if c.lower.gw("GET", "/internal/v1/senders", nil, &list) == http.StatusOK {
			for _, s := range list.Items {
				got[s.ID] = true
			}
		}
		return got
	}
	before := senders()
	if len(before) != 1 {
		t.Fatalf("the county's senders before its restart: %v", before)
	}
	c.lower.stopSip()
	c.lower.startSipserver()
	// A count of its own: frames decoded from now on.
	p.poll("the pane still decodes after the county's restart", videoDecoding(q("pane-0")+" video", "after-restart"), 15*time.Second)
	if after := senders(); !maps.Equal(after, before) {
		t.Fatalf("the county's senders after its restart: %v, before %v", after, before)
	}
	if code := c.upper.sip("POST", "/internal/v1/streams/idle", map[string]string{"path": "live/" + shared}, nil); code != http.StatusNoContent {
		t.Fatalf("the city ends the stream: %d", code)
	}
	// The city's pane still watches, so its mediagw may ask again at once:
	// the sender of before the restart is the one that must go.
	testsupport.Eventually(t, 15*time.Second, "the county's sender closed by the city's BYE", func() bool {
		now := senders()
		for id := range before {
			if now[id] {
				return false
			}
		}
		return true
	})

	// Playback in the city's console: RecordInfo and the Playback INVITE
	// go through the county to its camera.
	p.run("open playback", chromedp.Click(q("nav-playback"), chromedp.ByQuery))
	sel := fmt.Sprintf(`#view-playback %s`, q("tree-channel-"+shared))
	p.poll("playback tree", fmt.Sprintf(`!!document.querySelector(%q)`, sel), 15*time.Second)
	p.run("pick the camera", chromedp.Evaluate(fmt.Sprintf(
		`document.querySelector(%q).dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`, sel), nil))
	p.poll("the timeline shows the camera's recordings", `document.querySelectorAll('#view-playback .tl-seg').length > 0`, 20*time.Second)
	p.run("click a recording", clickSegment(0, 0.3))
	p.poll("playback decodes", videoDecoding(q("pb-video-0"), "cascade-pb"), 30*time.Second)
	p.poll("playback keeps decoding", videoDecoding(q("pb-video-0"), "cascade-pb"), 5*time.Second)
	if got := c.lower.sessions("?kind=playback"); len(got) != 1 || got[0].State != "active" {
		t.Fatalf("the county's playback sessions: %+v", got)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		t.Errorf("page problems: %s", strings.Join(p.problems, "; "))
	}
}
