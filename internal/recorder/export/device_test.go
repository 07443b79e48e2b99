package export

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// The device export is tested as the console's download was: sipserver
// and mediagw's token API are doubles (httptest), ffmpeg a script that
// records its arguments. The real path (gbsim, sipserver, mediagw) is the
// e2e suite's.

// fakeFFmpeg writes a shell script standing in for ffmpeg: it records its
// arguments next to the output file, then runs body with $out set.
func fakeFFmpeg(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\nfor out; do :; done\nprintf '%s\\n' \"$@\" > \"$out.args\"\n" + body
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

const ffmpegOK = `echo out_time_us=1800000000
echo total_size=6
echo progress=continue
printf 'fake mp4 data' > "$out"
echo out_time_us=3600000000
echo progress=end
exit 0
`

// sipDouble stands in for sipserver's session API and mediagw's token API.
type sipDouble struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests []sipapi.SessionRequest
	deleted  []string
	state    string // of the sessions it makes
}

func newSipDouble(t *testing.T, state string) *sipDouble {
	d := &sipDouble{state: state}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer service-token" {
			svcapi.WriteJSON(w, http.StatusUnauthorized, svcapi.Error{Error: "token", Code: svcapi.CodeUnauthorized})
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == sipapi.PathSessions:
			var req sipapi.SessionRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			d.requests = append(d.requests, req)
			svcapi.WriteJSON(w, http.StatusCreated, sipapi.Session{
				ID: "s1", Kind: req.Kind, ChannelID: req.ChannelID,
				Path: "download/s1", State: d.state, EndReason: "device refused",
			})
		case r.Method == http.MethodDelete:
			d.deleted = append(d.deleted, strings.TrimPrefix(r.URL.Path, sipapi.PathSessions+"/"))
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPost && r.URL.Path == mediaapi.PathPlayTokens:
			svcapi.WriteJSON(w, http.StatusOK, mediaapi.PlayToken{Token: "v1.secret", Expires: time.Now().Add(time.Minute)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func deviceRunner(t *testing.T, ffmpeg string, d *sipDouble) (*Runner, *exportdb.DB) {
	t.Helper()
	db, st := openDB(t), newStore(t)
	r := &Runner{
		DB: db, Store: st, Node: node, Token: "service-token", Now: (&clock{now: t0}).Now,
		FFmpeg:  ffmpeg,
		Sip:     &sipapi.Client{BaseURL: d.srv.URL, Token: "service-token", Timeout: time.Minute},
		Tokens:  &mediaapi.Client{BaseURL: d.srv.URL, Token: "service-token", Timeout: time.Minute},
		RTSPURL: "rtsp://127.0.0.1:8554", Log: slog.New(slog.DiscardHandler),
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, db
}

func TestDeviceExport(t *testing.T) {
	d := newSipDouble(t, "active")
	r, db := deviceRunner(t, fakeFFmpeg(t, ffmpegOK), d)
	ctx := context.Background()
	j, err := db.Create(ctx, newDeviceJob())
	if err != nil {
		t.Fatal(err)
	}
	r.Wake()
	j = waitJob(t, db, r, j.ID)
	if j.State != recorderapi.StateDone || j.Bytes != int64(len("fake mp4 data")) || j.Progress != 1 {
		t.Fatalf("job %+v", j)
	}
	d.mu.Lock()
	reqs, deleted := d.requests, d.deleted
	d.mu.Unlock()
	if len(reqs) != 1 || reqs[0].Kind != sipapi.KindDownload || reqs[0].Speed != DefaultDeviceSpeed ||
		reqs[0].ChannelID != chA || reqs[0].Owner != "bob" || !reqs[0].Start.Equal(t0) {
		t.Fatalf("session requests %+v", reqs)
	}
	// The device session is ended once the file is written.
	if len(deleted) != 1 || deleted[0] != "s1" {
		t.Errorf("sessions ended %v", deleted)
	}
	p, _ := r.Store.WritePath(Key(j.ID, node))
	args, err := os.ReadFile(p + ".args")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-rtsp_transport\ntcp\n", "\nrtsp://127.0.0.1:8554/download/s1?token=v1.secret\n",
		"-c:v\ncopy\n", "-c:a\naac\n", "-movflags\n+faststart\n", "-progress\npipe:1\n",
	} {
		if !strings.Contains(string(args), want) {
			t.Errorf("ffmpeg arguments lack %q:\n%s", want, args)
		}
	}
}

// TestDeviceExportFailure: ffmpeg's error, or the device's refusal,
// reaches the job's error, with the play token redacted.
func TestDeviceExportFailure(t *testing.T) {
	for _, tc := range []struct {
		name, state, script, want string
	}{
		{"refused", "active", "echo 'rtsp://…: Connection refused' >&2\nexit 1\n", "Connection refused"},
		{"token redacted", "active", "echo \"$@: Server returned 404 Not Found\" >&2\nexit 1\n", "?token=REDACTED"},
		{"never active", "ended", ffmpegOK, "ended before the device sent anything: device refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newSipDouble(t, tc.state)
			r, db := deviceRunner(t, fakeFFmpeg(t, tc.script), d)
			j, err := db.Create(context.Background(), newDeviceJob())
			if err != nil {
				t.Fatal(err)
			}
			r.Wake()
			j = waitJob(t, db, r, j.ID)
			if j.State != recorderapi.StateFailed || !strings.Contains(j.Error, tc.want) || strings.Contains(j.Error, "v1.secret") {
				t.Fatalf("job %+v: want %q in the error, and no token", j, tc.want)
			}
		})
	}
}

// newDeviceJob is bob's device export of an hour of chA.
func newDeviceJob() exportdb.NewJob {
	return exportdb.NewJob{
		Owner: "bob", ChannelID: chA, Source: recorderapi.SourceDevice,
		Start: t0, End: t0.Add(time.Hour), Created: t0,
	}
}
