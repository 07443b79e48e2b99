package gbsim

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestScaleAgainstSipp measures the signalling load a process sustains:
// GBSIM_SCALE devices (media off) register with sipp as the platform at
// GBSIM_RATE REGISTERs per second (default 1000). It reports the rate
// reached and the memory per device. Run:
//
//	GBSIM_SCALE=10000 go test -run ScaleAgainstSipp -v ./internal/gbsim/
func TestScaleAgainstSipp(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GBSIM_SCALE"))
	if n == 0 {
		t.Skip("set GBSIM_SCALE=<devices> to run")
	}
	rate := 1000.0
	if r, err := strconv.ParseFloat(os.Getenv("GBSIM_RATE"), 64); err == nil {
		rate = r
	}
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	port := peertest.FreePort(t, "udp")
	scenario, _ := filepath.Abs("testdata/platform_uas.xml")
	cmd := exec.Command(sipp, "-sf", scenario, "-set", "pw", testPassword, "-set", "srvid", testServerID,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "u1", "-nd", "-nostdin", "-l", strconv.Itoa(3*n))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(300 * time.Millisecond)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cfg := DefaultConfig()
	cfg.Server = "127.0.0.1:" + strconv.Itoa(port)
	cfg.LocalIP = "127.0.0.1"
	cfg.Devices = n
	cfg.Channels = 4
	cfg.MediaOff = true
	cfg.RegisterRate = rate
	s, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { _ = s.Run(ctx); close(done) }()
	deadline := start.Add(time.Duration(float64(n)/rate*float64(time.Second)) + 60*time.Second)
	for s.Stats().Registered < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	st := s.Stats()
	time.Sleep(2 * time.Second) // catalog answers settle
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d/%d devices registered in %v: %.0f registrations/s (each a 401 round and a 200), %d failures",
		st.Registered, n, took.Round(time.Millisecond), float64(st.Registered)/took.Seconds(), st.RegisterFailures)
	t.Logf("per device: heap %.1f KiB, stacks %.1f KiB, goroutines %d total",
		float64(after.HeapInuse-before.HeapInuse)/1024/float64(n), float64(after.StackInuse-before.StackInuse)/1024/float64(n), runtime.NumGoroutine())
	stopAt := time.Now()
	cancel()
	<-done
	t.Logf("stopped (unregistered) in %v", time.Since(stopAt).Round(time.Millisecond))
	if st.Registered != int64(n) {
		t.Fatalf("only %d of %d registered", st.Registered, n)
	}
}
