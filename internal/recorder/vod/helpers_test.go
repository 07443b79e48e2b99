package vod_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
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

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	chA  = "34020000001320000001"
	chB  = "34020000001320000002"
	node = "n1"
	// fps and the clip's one key frame a second; fragments of 200 ms
	// (5 frames), so every fifth fragment starts with a key frame.
	fps      = 25
	fragment = 200 * time.Millisecond
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	// t0 is a fixed instant: the tests' recordings are at injected times.
	t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
)

// namedStore is a store under the index name the recorder gives it.
type namedStore struct {
	objstore.Store
	name string
}

func (s namedStore) Name() string { return s.name }

// console is the console's internal audit API as the recorder sees it: it
// stores media opens and refuses the users named revoked.
type console struct {
	mu      sync.Mutex
	opens   []auditapi.MediaOpen
	checks  int
	revoked map[string]bool
	down    bool
}

func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down || r.Header.Get("Authorization") != "Bearer service-token-0123" {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case auditapi.PathMediaOpens:
		var m auditapi.MediaOpen
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.opens = append(c.opens, m)
		if c.revoked[m.User] && !m.IssuedAt.IsZero() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":"play token revoked","code":"viewer_revoked"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case auditapi.PathViewersCheck:
		c.checks++
		var in auditapi.ViewersCheck
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		out := auditapi.ViewersRevoked{Revoked: []auditapi.Viewer{}}
		for _, v := range in.Viewers {
			if c.revoked[v.User] {
				out.Revoked = append(out.Revoked, v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (c *console) revoke(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked[user] = true
}

func (c *console) audited() []auditapi.MediaOpen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]auditapi.MediaOpen(nil), c.opens...)
}

// env is one recorder node's playback over a real database and store.
type env struct {
	t       testing.TB
	db      *recordingdb.DB
	store   objstore.Store
	signer  *playtoken.Signer
	server  *vod.Server
	console *console
	http    *httptest.Server
	now     time.Time
	clip    *mediatest.Clip
	// fragment is the segments' fragment duration.
	fragment time.Duration
	// audio adds G.711 (stored as FLAC) to the segments written.
	audio bool
}

// storeOf is newEnv's store of kind: nil for the dir store, a bucket of a
// MinIO started for the test for s3.
func storeOf(t testing.TB, kind string) *objstore.Config {
	if kind != objstore.KindS3 {
		return nil
	}
	m := miniotest.Start(t)
	c := m.Config(m.Bucket(t, "recordings"), t.TempDir())
	return &c
}

// newEnv starts a node's playback over a dir store, or the S3 store of c.
func newEnv(t testing.TB, c *objstore.Config) *env {
	t.Helper()
	db := recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
	cfg := objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()}
	if c != nil {
		cfg = *c
	}
	st, err := objstore.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Name() == objstore.KindDir {
		st = namedStore{Store: st, name: "dir://" + node}
	}
	signer, err := playtoken.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, db: db, store: st, signer: signer, now: t0.Add(time.Hour),
		console: &console{revoked: map[string]bool{}},
		clip:    mediatest.NewClip(t, ps.CodecH264, 320, 240, fps, 2), fragment: fragment,
	}
	audit := httptest.NewServer(e.console)
	t.Cleanup(audit.Close)
	e.server = &vod.Server{
		Node: node, Store: st, Index: db, Signer: signer,
		Auditor: &vod.AuditClient{URL: audit.URL, Token: "service-token-0123"},
		Now:     func() time.Time { return e.now }, Log: slog.New(slog.DiscardHandler),
	}
	if err := e.server.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.server.Close)
	mux := http.NewServeMux()
	mux.Handle(vod.Prefix, e.server)
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	return e
}

// useH265 makes the segments written from now on H.265, and gives the
// server a transcoder for video=h264 playlists.
func (e *env) useH265() {
	e.t.Helper()
	e.clip = mediatest.NewClip(e.t, ps.CodecH265, 320, 240, fps, 2)
	tc := &vodtranscode.Transcoder{FFmpeg: testsupport.Tool(e.t, "ffmpeg", "ffmpeg"), Log: slog.New(slog.DiscardHandler)}
	if err := tc.Initialize(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(tc.Close)
	e.server.Transcoder = tc
}

// token issues a user's token for paths with rights, valid for a minute
// of the env's clock.
func (e *env) token(user string, rights []string, paths ...string) string {
	e.t.Helper()
	tok, err := e.signer.Issue(playtoken.Claims{
		Subject: user, Paths: paths, Rights: rights, Expires: e.now.Add(time.Minute).Unix(), IssuedAt: e.now.Unix(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// viewerToken is op1's playback token for ch.
func (e *env) viewerToken(ch string) string {
	return e.token("op1", []string{playtoken.RightPlayback}, streampath.Recording(ch))
}

// segment writes seconds of the clip as one segment of ch starting at
// start, in fragments of e.fragment (200 ms unless a test says), commits it and indexes it (closed). With
// open, the object is left uncommitted with the start of a fragment after
// its complete ones, and its row open, indexed up to half of them.
func (e *env) segment(ch string, start time.Time, seconds int, open bool) recordingdb.Segment {
	e.t.Helper()
	ctx := context.Background()
	key := ch + "/" + start.UTC().Format("2006/01/02/150405.000") + ".mp4"
	var vf format.Format = &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	if e.clip.Codec == ps.CodecH265 {
		vf = &format.H265{PayloadTyp: 96}
	}
	medias := []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{vf}}}
	if e.audio {
		medias = append(medias, &description.Media{
			Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}},
		})
	}
	tracks, err := segment.NewTracks(&description.Session{Medias: medias})
	if err != nil {
		e.t.Fatal(err)
	}
	path, err := e.store.WritePath(key)
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		e.t.Fatal(err)
	}
	w := &segment.Writer{W: f, Tracks: tracks, FragmentDuration: e.fragment}
	if err := w.Initialize(); err != nil {
		e.t.Fatal(err)
	}
	frames := seconds * fps
	if open {
		frames += 2 // a fragment cut short by the writer still running
	}
	for i := range frames {
		u := e.clip.Units[i%len(e.clip.Units)]
		var au [][]byte
		for n := range ps.NALUnits(u.Payload) {
			au = append(au, n)
		}
		if err := w.WriteVideo(tracks[0], int64(i)*90000/fps, au); err != nil {
			e.t.Fatal(err)
		}
		if e.audio { // G.711 of a tone, 40 ms a frame
			p := make([]byte, 8000/fps)
			for j := range p {
				p[j] = byte(0x55 ^ (i*len(p)+j)%16)
			}
			if err := w.WriteAudio(tracks[1], int64(i)*8000/fps, p); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	if !open {
		if err := w.Close(); err != nil {
			e.t.Fatal(err)
		}
	} else if _, err := f.Write([]byte{0, 0, 0x10, 0, 'm', 'o', 'o', 'f', 0, 0, 0}); err != nil {
		e.t.Fatal(err) // the start of a fragment being written
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	seg := recordingdb.Segment{
		ChannelID: ch, Start: start, ObjectKey: key, Store: e.store.Name(), RetentionDays: 30, Node: node,
		Info: recordingdb.Info{VideoCodec: w.VideoCodec()},
	}
	if seg.ID, err = e.db.OpenSegment(ctx, seg); err != nil {
		e.t.Fatal(err)
	}
	if open {
		seg.Open = true
		seg.End = start.Add(time.Duration(seconds) * time.Second / 2)
		if err := e.db.ExtendSegment(ctx, seg.ID, seg.End, w.Bytes()/2); err != nil {
			e.t.Fatal(err)
		}
		return seg
	}
	if err := e.store.Commit(ctx, key); err != nil {
		e.t.Fatal(err)
	}
	seg.End = start.Add(w.Duration())
	if err := e.db.CloseSegment(ctx, seg.ID, seg.End, w.Bytes(), recordingdb.Info{VideoCodec: w.VideoCodec(), Width: 320, Height: 240}); err != nil {
		e.t.Fatal(err)
	}
	return seg
}

// playlistURL is the playlist of ch over [start, end) with token.
func (e *env) playlistURL(ch string, start, end time.Time, token string) string {
	return e.http.URL + vod.Prefix + streampath.Recording(ch) + "/index.m3u8?start=" + start.UTC().Format(time.RFC3339Nano) +
		"&end=" + end.UTC().Format(time.RFC3339Nano) + "&token=" + token
}

// get fetches url and returns the status, code of a JSON error, and body.
func (e *env) get(url string, header ...string) (int, string, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	var apiErr struct{ Code, Message string }
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &apiErr)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		e.t.Fatalf("GET %s: no CORS header", url)
	}
	return resp.StatusCode, apiErr.Code, body
}

// httptestRecorder serves one GET of url by h.
func httptestRecorder(h http.Handler, url string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec
}

// segmentAt returns ch A's segment that starts at start.
func (e *env) segmentAt(start time.Time) recordingdb.Segment {
	e.t.Helper()
	segs, err := e.db.PlaybackSegments(context.Background(), chA, start, start.Add(time.Millisecond))
	if err != nil || len(segs) == 0 || !segs[len(segs)-1].Start.Equal(start) {
		e.t.Fatalf("segment at %s: %v %v", start, segs, err)
	}
	return segs[len(segs)-1]
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
