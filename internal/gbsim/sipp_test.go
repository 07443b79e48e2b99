package gbsim

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/peertest"
)

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// TestAgainstSippPlatform runs a device against sipp acting as the platform
// (testdata/platform_uas.xml): digest checked by sipp's verifyauth,
// keepalives, an out-of-dialog Catalog query, and the unregister.
func TestAgainstSippPlatform(t *testing.T) {
	sipp := peertest.Require(t, "sipp", "sip-tester")
	dir := t.TempDir()
	port := freeUDPPort(t)
	scenario, _ := filepath.Abs("testdata/platform_uas.xml")
	msgFile := filepath.Join(dir, "messages.log")
	errFile := filepath.Join(dir, "errors.log")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario,
		"-set", "pw", testPassword, "-set", "srvid", testServerID,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "u1", "-nd", "-nostdin",
		"-trace_msg", "-message_file", msgFile, "-trace_err", "-error_file", errFile)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	time.Sleep(300 * time.Millisecond) // sipp binds its socket

	cfg := DefaultConfig()
	cfg.Server = "127.0.0.1:" + strconv.Itoa(port)
	cfg.LocalIP = "127.0.0.1"
	cfg.Channels = 5
	cfg.Keepalive = 200 * time.Millisecond
	cfg.MediaOff = true
	s, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(simCtx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Registered == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.Stats().Registered != 1 {
		stopSim()
		<-done
		t.Fatalf("not registered with sipp; sipp output:\n%s", out.String())
	}
	time.Sleep(1500 * time.Millisecond) // keepalives and the catalog answer
	stopSim()
	<-done
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Kill()
	<-exited

	msgs, err := os.ReadFile(msgFile)
	if err != nil {
		t.Fatalf("sipp message log: %v\n%s", err, out.String())
	}
	log := string(msgs)
	for _, want := range []string{
		"SIP/2.0 401 Unauthorized",
		`qop=auth`,
		"<CmdType>Keepalive</CmdType>",
		"<SN>4711</SN>",
		"<SumNum>5</SumNum>",
		"Expires: 0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("sipp saw no %q", want)
		}
	}
	if strings.Contains(log, "403 Forbidden") {
		t.Error("sipp rejected the digest (403)")
	}
	if st := s.Stats(); st.RegisterFailures != 0 || st.Keepalives < 3 {
		t.Errorf("stats %+v", st)
	}
	if e, _ := os.ReadFile(errFile); bytes.Contains(e, []byte("Aborting call")) || bytes.Contains(e, []byte("nexpected")) {
		t.Errorf("sipp errors:\n%s", e)
	}
	if t.Failed() {
		t.Logf("sipp output:\n%s\nmessages:\n%s", out.String(), log)
	}
}
