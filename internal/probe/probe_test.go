package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/internal/vqd"
)

func lavfi(graph string) func(string, string) ([]string, error) {
	return func(string, string) ([]string, error) { return []string{"-f", "lavfi", "-i", graph}, nil }
}

func newProber(t *testing.T, input func(string, string) ([]string, error)) *Prober {
	t.Helper()
	p := &Prober{Decoder: vqd.Decoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg")}, Input: input, MaxRunning: 1}
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbe: a good stream is reachable with its codec, size, first frame
// and thumbnail; a black one is a fault; one that cannot be had is
// unreachable with the reason, its URL's token not in it; a stream that
// does not start says so.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	good, err := newProber(t, lavfi("testsrc2=s=640x360:r=25:d=4")).Probe(ctx, "live/x", "tester")
	if err != nil {
		t.Fatal(err)
	}
	if !good.OK() || good.Width != 640 || good.Height != 360 || good.Codec == "" || good.FirstFrame <= 0 || good.At.IsZero() {
		t.Fatalf("good stream %+v", good)
	}
	if img, err := jpeg.Decode(bytes.NewReader(good.Thumbnail)); err != nil || img.Bounds().Dx() != vqd.AnalysisWidth {
		t.Fatalf("thumbnail: %v", err)
	}

	black, err := newProber(t, lavfi("color=c=black:s=640x360:r=25:d=4")).Probe(ctx, "live/x", "tester")
	if err != nil || !black.Reachable || black.OK() || !slices.Equal(black.Verdict.Faults, []string{vqd.FaultBlack}) {
		t.Fatalf("black stream %+v %v", black, err)
	}

	// mediagw not there: the platform's failure, no finding about the camera.
	_, err = newProber(t, func(string, string) ([]string, error) {
		return RTSPInput("rtsp://127.0.0.1:1/live/x?token=secret", time.Second), nil
	}).Probe(ctx, "live/x", "tester")
	if !errors.Is(err, ErrPlatform) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("mediagw down: %v", err)
	}
	// An input that gives nothing: unreachable, and why, without its token.
	gone, err := newProber(t, func(string, string) ([]string, error) {
		return []string{"-i", "/nonexistent/live/x?token=secret"}, nil
	}).Probe(ctx, "live/x", "tester")
	if err != nil || gone.Reachable || gone.OK() || !slices.Equal(gone.Verdict.Faults, []string{FaultUnreachable}) ||
		gone.Error == "" || gone.Thumbnail != nil {
		t.Fatalf("unreachable stream %+v %v", gone, err)
	}

	p := newProber(t, lavfi("testsrc2=s=640x360:r=25:d=4"))
	p.Start = func(context.Context, string) error { return fmt.Errorf("stream needed: %w", sipapi.ErrDeviceOffline) }
	off, err := p.Probe(ctx, "live/x", "tester")
	if err != nil || off.Reachable || !strings.Contains(off.Error, "device offline") {
		t.Fatalf("stream not started %+v %v", off, err)
	}
	p.Start = func(context.Context, string) error { return fmt.Errorf("stream needed: %w", svcapi.ErrUnreachable) }
	if _, err := p.Probe(ctx, "live/x", "tester"); !errors.Is(err, ErrPlatform) {
		t.Fatalf("sipserver down: %v", err)
	}
}

// TestProbeStalled: a stream whose frames stop before the second frame is
// due is stalled, not good.
func TestProbeStalled(t *testing.T) {
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.h264")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.6",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "0", "-f", "h264", clip).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "live.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	release := make(chan struct{})
	done := make(chan struct{})
	go func() { // a camera that sends 0.6 s and then nothing, its connection open
		defer close(done)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = f.Write(data)
		<-release
	}()
	defer func() { close(release); <-done }()
	p := newProber(t, func(string, string) ([]string, error) {
		return []string{"-f", "h264", "-probesize", "4096", "-analyzeduration", "100000", "-i", fifo}, nil
	})
	p.Timeout = 3 * time.Second
	res, err := p.Probe(context.Background(), "live/x", "tester")
	if err != nil || !res.Reachable || !slices.Contains(res.Verdict.Faults, FaultStalled) || res.OK() {
		t.Fatalf("stalled stream: reachable %v, faults %v, %q, %v", res.Reachable, res.Verdict.Faults, res.Error, err)
	}
}

// TestProbeBusy: beyond MaxRunning, a probe is refused at once.
func TestProbeBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	p := newProber(t, lavfi("testsrc2=s=320x180:r=25:d=4"))
	p.Start = func(ctx context.Context, _ string) error {
		close(started)
		<-release
		return sipapi.ErrDeviceOffline
	}
	done := make(chan error, 1)
	go func() { _, err := p.Probe(context.Background(), "live/a", "tester"); done <- err }()
	<-started
	if _, err := p.Probe(context.Background(), "live/b", "tester"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second probe: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestScheduler: a round probes every channel once, spread over the
// interval, and Close waits for the probes in flight.
func TestScheduler(t *testing.T) {
	p := newProber(t, lavfi("testsrc2=s=320x180:r=25:d=3"))
	var mu sync.Mutex
	got := map[string]int{}
	var subjects []string
	p.Input = func(path, subject string) ([]string, error) {
		mu.Lock()
		subjects = append(subjects, subject)
		mu.Unlock()
		return []string{"-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3"}, nil
	}
	p.Span = 100 * time.Millisecond
	rounds := make(chan struct{}, 1)
	s := &Scheduler{
		Prober:   p,
		Channels: func(context.Context) ([]string, error) { return []string{"a", "b", "c"}, nil },
		Record: func(_ context.Context, ch string, r Result) error {
			mu.Lock()
			defer mu.Unlock()
			if r.OK() {
				got[ch]++
			}
			if len(got) == 3 {
				select {
				case rounds <- struct{}{}:
				default:
				}
			}
			return nil
		},
		Interval: 300 * time.Millisecond,
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rounds:
	case <-time.After(time.Minute):
		t.Fatal("no round")
	}
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, ch := range []string{"a", "b", "c"} {
		if got[ch] < 1 {
			t.Errorf("%s probed %d times", ch, got[ch])
		}
	}
	if subjects[0] != "system:probe" {
		t.Errorf("read for %q", subjects[0])
	}
}
