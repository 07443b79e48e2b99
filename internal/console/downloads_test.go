package console_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

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

type downloadAnswer struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	Bytes    int64   `json:"bytes"`
	Error    string  `json:"error"`
}

// waitDownload polls until the download leaves "running" (bounded by the
// download's own timeouts).
func waitDownload(t *testing.T, c *client, id string) downloadAnswer {
	t.Helper()
	var d downloadAnswer
	testsupport.Eventually(t, console.DownloadTimeout, "download "+id+" ends", func() bool {
		d = downloadAnswer{}
		r := c.do(http.MethodGet, "/api/v1/downloads/"+id, nil)
		mustStatus(t, "download status", r, http.StatusOK, "")
		r.json(t, &d)
		return d.State != console.DownloadRunning
	})
	return d
}

func startDownload(t *testing.T, c *client, speed int) response {
	t.Helper()
	return c.do(http.MethodPost, "/api/v1/channels/"+channelA1+"/download",
		map[string]any{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z", "speed": speed})
}

func TestDownload(t *testing.T) {
	e, c := operator(t, envOptions{ffmpeg: fakeFFmpeg(t, ffmpegOK)})
	r := startDownload(t, c, 4)
	mustStatus(t, "download", r, http.StatusAccepted, "")
	var started downloadAnswer
	r.json(t, &started)
	if started.ID == "" || started.State != "running" {
		t.Fatalf("started %s", r.Body)
	}
	d := waitDownload(t, c, started.ID)
	if d.State != console.DownloadDone || d.Progress != 1 || d.Bytes != int64(len("fake mp4 data")) {
		t.Fatalf("finished %+v", d)
	}

	var req sipapi.SessionRequest
	if err := json.Unmarshal([]byte(e.sip.callsTo("POST /internal/v1/sessions")[0].Body), &req); err != nil ||
		req.Kind != "download" || req.Speed != 4 || req.ChannelID != channelA1 {
		t.Fatalf("session request %+v %v", req, err)
	}
	args, err := os.ReadFile(filepath.Join(e.dlDir, started.ID+".mp4.part.args"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-rtsp_transport\ntcp\n", "\nrtsp://127.0.0.1:8554/download/download-", "?token=v1.",
		"-c:v\ncopy\n", "-movflags\n+faststart\n", "-progress\npipe:1\n",
	} {
		if !strings.Contains(string(args), want) {
			t.Errorf("ffmpeg arguments lack %q:\n%s", want, args)
		}
	}
	// The device session is ended once the file is written (before the state says done).
	var sessionID string
	e.sip.mu.Lock()
	for _, call := range e.sip.calls {
		if call.Method == http.MethodDelete {
			sessionID = strings.TrimPrefix(call.Path, "/internal/v1/sessions/")
		}
	}
	e.sip.mu.Unlock()
	if sessionID == "" || !strings.Contains(string(args), "/download/"+sessionID+"?token=") {
		t.Fatalf("session %q not ended, or not the one ffmpeg read", sessionID)
	}

	r = c.do(http.MethodGet, "/api/v1/downloads/"+started.ID+"/file", nil)
	mustStatus(t, "file", r, http.StatusOK, "")
	if string(r.Body) != "fake mp4 data" || r.Header.Get("Content-Type") != "video/mp4" ||
		r.Header.Get("Content-Disposition") != `attachment; filename=`+channelA1+`_`+time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC).Local().Format("20060102T150405")+`.mp4` {
		t.Fatalf("file answer %q %v", r.Body, r.Header)
	}
	actions := map[string]int{}
	entries, _, _ := e.st.ListAudit(t.Context(), store.AuditFilter{Username: "olga"})
	for _, en := range entries {
		actions[en.Action]++
	}
	if actions["download"] != 1 || actions["download_file"] != 1 {
		t.Errorf("audit %v", actions)
	}

	// After a restart the finished file is still there.
	d2 := &console.Downloads{Dir: e.dlDir, FFmpeg: "ffmpeg", Log: quiet}
	if err := d2.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if st, err := d2.Status(started.ID); err != nil || st.State != console.DownloadDone || st.Bytes != 13 {
		t.Fatalf("after restart: %+v %v", st, err)
	}

	mustStatus(t, "unknown download", c.do(http.MethodGet, "/api/v1/downloads/0123456789abcdef0123456789abcdef", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "bad id", c.do(http.MethodGet, "/api/v1/downloads/..%2F..%2Fetc%2Fpasswd/file", nil), http.StatusNotFound, "not_found")
	for _, speed := range []int{3, -1, 16} {
		mustStatus(t, "bad speed", startDownload(t, c, speed), http.StatusBadRequest, "bad_request")
	}
}

// TestDownloadFailure checks that ffmpeg's error reaches the status, with
// the play token its message quotes (in the input URL) redacted.
func TestDownloadFailure(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{"refused", "echo 'rtsp://…: Connection refused' >&2\nexit 1\n", "Connection refused"},
		{"token redacted", "echo \"$@: Server returned 404 Not Found\" >&2\nexit 1\n", "?token=REDACTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := operator(t, envOptions{ffmpeg: fakeFFmpeg(t, tc.script)})
			r := startDownload(t, c, 1)
			mustStatus(t, "download", r, http.StatusAccepted, "")
			var started downloadAnswer
			r.json(t, &started)
			d := waitDownload(t, c, started.ID)
			if d.State != console.DownloadFailed || !strings.Contains(d.Error, tc.want) || strings.Contains(d.Error, "token=v1.") {
				t.Fatalf("failed download %+v: want %q in the error, and no token", d, tc.want)
			}
			mustStatus(t, "file of a failed download", c.do(http.MethodGet, "/api/v1/downloads/"+started.ID+"/file", nil),
				http.StatusConflict, "not_ready")
		})
	}
}

func TestDownloadLimit(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	// Waits (bounded) for the test to let it finish.
	script := "i=0\nwhile [ ! -e " + release + " ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done\n" + ffmpegOK
	_, c := operator(t, envOptions{ffmpeg: fakeFFmpeg(t, script), maxRunning: 1})
	r := startDownload(t, c, 1)
	mustStatus(t, "first", r, http.StatusAccepted, "")
	var first downloadAnswer
	r.json(t, &first)
	mustStatus(t, "second", startDownload(t, c, 1), http.StatusTooManyRequests, "too_many_downloads")
	mustStatus(t, "file while running", c.do(http.MethodGet, "/api/v1/downloads/"+first.ID+"/file", nil), http.StatusConflict, "not_ready")
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if d := waitDownload(t, c, first.ID); d.State != console.DownloadDone {
		t.Fatalf("first %+v", d)
	}
	// The slot is free again once the first has finished.
	testsupport.Eventually(t, console.DownloadTimeout, "the download slot is freed", func() bool {
		r = startDownload(t, c, 1)
		return r.Status == http.StatusAccepted
	})
}

// TestDownloadAfterClose checks that a download asked for once the
// downloads closed (the console stops) is a clear 503 and reaches
// nothing: no session at sipserver, no ffmpeg.
func TestDownloadAfterClose(t *testing.T) {
	e, c := operator(t, envOptions{ffmpeg: fakeFFmpeg(t, ffmpegOK)})
	made := len(e.sip.createdSince(0))
	e.dls.Close()
	mustStatus(t, "download after Close", startDownload(t, c, 1), http.StatusServiceUnavailable, "shutting_down")
	if s := e.sip.createdSince(made); len(s) != 0 {
		t.Errorf("sessions made after Close: %v", s)
	}
}

// TestDownloadSidecarOfAnEarlierVersion checks that a sidecar written
// before it was the marshalled status (only user, channel_id, session_id,
// start, end, speed) still names the owner and the range after a restart.
func TestDownloadSidecarOfAnEarlierVersion(t *testing.T) {
	dir := t.TempDir()
	id := "00112233445566778899aabbccddeeff"
	old := `{"user":"olga","channel_id":"` + channelA1 + `","session_id":"download-7",` +
		`"start":"2024-05-01T08:00:00Z","end":"2024-05-01T09:00:00Z","speed":2}`
	for name, data := range map[string]string{id + ".mp4": "mp4 data", id + ".json": old} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := &console.Downloads{Dir: dir, FFmpeg: "ffmpeg", Log: quiet}
	if err := d.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.Status(id)
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	if err != nil || st.User != "olga" || st.ChannelID != channelA1 || st.SessionID != "download-7" || st.Speed != 2 ||
		st.Start == nil || !st.Start.Equal(start) || st.End == nil || !st.End.Equal(start.Add(time.Hour)) ||
		st.State != console.DownloadDone || st.Bytes != int64(len("mp4 data")) {
		t.Fatalf("status %+v %v", st, err)
	}
}
