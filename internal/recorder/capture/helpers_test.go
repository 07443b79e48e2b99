package capture_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/feed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capture"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Test timing: short segments so that a few seconds of real-time media make
// several; waits derive from the component's own timeouts.
const (
	segDur  = 2 * time.Second
	fragDur = 500 * time.Millisecond
	// wait bounds every Eventually: a reconnect (back-off up to 4 s after
	// two failures, plus a read timeout) and two segments, with room for a
	// loaded machine.
	wait = 4*capture.DefaultBackoffMin + capture.DefaultReadTimeout + 4*segDur + 30*time.Second
)

// env is a mediagw (hub + unit feed), a database and a dir store.
type env struct {
	hub     *hub.Hub
	feedURL string
	db      *recordingdb.DB
	root    string
	store   objstore.Store
	metrics *capture.Metrics
}

// newEnv starts the mediagw parts and the database; the store is a dir
// store under a temporary directory, or the one cfg configures.
func newEnv(t *testing.T, cfg ...objstore.Config) *env {
	t.Helper()
	testsupport.Tool(t, "ffprobe", "ffmpeg")
	h := mediatest.NewHub(t, nil)
	fs := &feed.Server{Source: &access.HubSource{Hub: h}, Log: mediatest.Log(t)}
	if err := fs.Initialize(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fs)
	// Cleanups run last first: the feeds end, then the HTTP server waits
	// for their handlers.
	t.Cleanup(srv.Close)
	t.Cleanup(fs.Close)
	root := filepath.Join(t.TempDir(), "recordings")
	c := objstore.Config{Kind: objstore.KindDir, Dir: root}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	st, err := objstore.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{
		hub: h, feedURL: srv.URL,
		db:   recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4)),
		root: root, store: st, metrics: capture.NewMetrics(nil),
	}
}

// staticToken is the token of a HubSource, which checks none.
type staticToken struct{}

func (staticToken) Token(context.Context) (string, error) { return "x", nil }

// onlineState answers the channel's state from a flag.
type onlineState struct{ offline atomic.Bool }

func (o *onlineState) ChannelOnline(context.Context, string) (bool, error) {
	return !o.offline.Load(), nil
}

// channel starts recording id; it is closed when the test ends (or by the test).
func (e *env) channel(t *testing.T, id string, mod func(*capture.Channel)) *capture.Channel {
	t.Helper()
	c := &capture.Channel{
		ChannelID: id, Node: "rec-test", FeedURL: e.feedURL, Tokens: staticToken{},
		Store: e.store, Index: e.db, RetentionDays: 30,
		SegmentDuration: segDur, FragmentDuration: fragDur,
		Metrics: e.metrics, Log: mediatest.Log(t),
	}
	if mod != nil {
		mod(c)
	}
	if err := c.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // Close is idempotent: a test may close first
	return c
}

// feeder publishes a clip in real time on a path and counts the media time
// fed while the stream has a reader (what a recorder can have seen).
type feeder struct {
	st     *hub.Stream
	cancel context.CancelFunc
	done   chan struct{}
	frames atomic.Int64
	fps    int

	mu   sync.Mutex
	keys []time.Time // when each key frame was published
}

// feed publishes path and plays clip into it until stop or the test's end.
func (e *env) feed(t *testing.T, path string, clip *mediatest.Clip) *feeder {
	t.Helper()
	st, err := e.hub.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &feeder{st: st, cancel: cancel, done: make(chan struct{}), fps: clip.FPS}
	go f.run(ctx, clip)
	t.Cleanup(f.stop)
	return f
}

func (f *feeder) run(ctx context.Context, clip *mediatest.Clip) {
	defer close(f.done)
	step := int64(90000 / clip.FPS)
	frame := time.Second / time.Duration(clip.FPS)
	start := time.Now()
	var pts, audioPTS int64
	for n := 1; ; n++ {
		u := clip.Units[(n-1)%len(clip.Units)]
		u.PTS, u.DTS = pts, pts
		if u.Keyframe {
			u.Received = time.Now()
			f.mu.Lock()
			f.keys = append(f.keys, u.Received)
			f.mu.Unlock()
		}
		if f.st.WriteUnit(u) != nil {
			return
		}
		for audioPTS <= pts {
			a := hub.Unit{Codec: ps.CodecG711A, PTS: audioPTS, DTS: audioPTS, Keyframe: true, Payload: mediatest.G711Frame}
			if f.st.WriteUnit(a) != nil {
				return
			}
			audioPTS += 1800
		}
		pts += step
		if len(f.st.Stats().Readers) > 0 {
			f.frames.Add(1)
		}
		select {
		case <-time.After(time.Until(start.Add(time.Duration(n) * frame))): // pacing, not an assertion
		case <-ctx.Done():
			return
		}
	}
}

// keyAt reports whether a key frame was published within tolerance of at.
func (f *feeder) keyAt(at time.Time, tolerance time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if d := at.Sub(k); d > -tolerance && d < tolerance {
			return true
		}
	}
	return false
}

// fed is the media time fed to readers so far.
func (f *feeder) fed() time.Duration {
	return time.Duration(f.frames.Load()) * time.Second / time.Duration(f.fps)
}

// stop ends the stream (its readers see it end); idempotent.
func (f *feeder) stop() {
	f.cancel()
	<-f.done
	f.st.Close()
}

// segments returns the channel's rows in time order.
func (e *env) segments(t *testing.T, channel string) []recordingdb.Segment {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(),
		`SELECT id, start_at, end_at, open, bytes, object_key, video_codec, width, height FROM recordings
		 WHERE channel_id = $1 ORDER BY start_at`, channel)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []recordingdb.Segment
	for rows.Next() {
		s := recordingdb.Segment{ChannelID: channel}
		if err := rows.Scan(&s.ID, &s.Start, &s.End, &s.Open, &s.Bytes, &s.ObjectKey, &s.VideoCodec, &s.Width, &s.Height); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openGap inserts an open gap of channel from start, as another node (or
// the scheduler) leaves one.
func (e *env) openGap(t *testing.T, channel string, start time.Time, cause recordingdb.Cause) {
	t.Helper()
	if _, _, err := e.db.OpenGap(context.Background(), recordingdb.Gap{
		ChannelID: channel, Start: start, Cause: cause, Node: "rec-other",
	}); err != nil {
		t.Fatal(err)
	}
}

// gaps returns the channel's gaps in time order (End zero while open).
func (e *env) gaps(t *testing.T, channel string) []recordingdb.Gap {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(),
		`SELECT id, start_at, end_at, cause, detail FROM recording_gaps
		 WHERE channel_id = $1 ORDER BY start_at, id`, channel)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []recordingdb.Gap
	for rows.Next() {
		g := recordingdb.Gap{ChannelID: channel}
		var end *time.Time
		var cause string
		if err := rows.Scan(&g.ID, &g.Start, &end, &cause, &g.Detail); err != nil {
			t.Fatal(err)
		}
		if end != nil {
			g.End = *end
		}
		g.Cause = recordingdb.Cause(cause)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func closedCount(segs []recordingdb.Segment) int {
	n := 0
	for _, s := range segs {
		if !s.Open {
			n++
		}
	}
	return n
}

// probe is what ffprobe finds in a file.
type probe struct {
	Codec         string
	Width, Height int
	Duration      time.Duration
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	out, err := exec.Command(bin, "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=codec_name,width,height,duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			Duration  string `json:"duration"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) == 0 {
		t.Fatalf("ffprobe %s: %v %s", path, err, out)
	}
	// The video's duration: the index counts video (audio may run a few
	// packets past the last frame).
	secs, err := strconv.ParseFloat(v.Streams[0].Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q", path, v.Streams[0].Duration)
	}
	return probe{
		Codec: v.Streams[0].CodecName, Width: v.Streams[0].Width, Height: v.Streams[0].Height,
		Duration: time.Duration(secs * float64(time.Second)),
	}
}

func near(a, b, tol time.Duration) bool { d := a - b; return d <= tol && d >= -tol }

func fmtSegs(segs []recordingdb.Segment) string {
	s := ""
	for _, g := range segs {
		s += fmt.Sprintf("\n  %s–%s open=%v %d B %s", g.Start.Format("15:04:05.000"), g.End.Format("15:04:05.000"), g.Open, g.Bytes, g.ObjectKey)
	}
	return s
}
