package mediatest

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// AuditingSource is a HubSource that records the media opens outputs
// report (access.Source.Opened) and refuses them while Fail is set, for
// the tests of the outputs' audit points.
type AuditingSource struct {
	access.HubSource

	mu     sync.Mutex
	opened []access.Request
	fail   error
}

// Opened records req, or returns the error set with Fail.
func (a *AuditingSource) Opened(_ context.Context, req access.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.opened = append(a.opened, req)
	return nil
}

// Fail makes Opened return err from now on (nil: record again).
func (a *AuditingSource) Fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = err
}

// Opens returns the media opens recorded so far.
func (a *AuditingSource) Opens() []access.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]access.Request(nil), a.opened...)
}

// CopyFrames reads src (an RTSP URL, over TCP) with ffmpeg until the end of
// the stream, copying its first video track, and returns the number of
// frames copied. ffmpeg's own deadline is limit; a failed or timed-out
// ffmpeg fails the test.
func CopyFrames(t testing.TB, src string, limit time.Duration) int {
	t.Helper()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
		"-i", src, "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	frames := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			frames++
		}
	}
	return frames
}
