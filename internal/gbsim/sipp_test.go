package gbsim

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestAgainstSippPlatform runs a device against sipp acting as the platform
// (testdata/platform_uas.xml): digest checked by sipp's verifyauth,
// keepalives, an out-of-dialog Catalog query, and the unregister.
func TestAgainstSippPlatform(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	dir := t.TempDir()
	port := peertest.FreePort(t, "udp")
	scenario, _ := filepath.Abs("testdata/platform_uas.xml")
	msgFile := filepath.Join(dir, "messages.log")
	errFile := filepath.Join(dir, "errors.log")
	cmd := exec.Command(sipp, "-sf", scenario,
		"-set", "pw", testPassword, "-set", "srvid", testServerID,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "u1", "-nd", "-nostdin",
		"-trace_msg", "-message_file", msgFile, "-trace_err", "-error_file", errFile)
	cmd.Dir = dir
	var out apitest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	// A cleanup, not a defer: registered before runSim's, it runs after it,
	// so that a failing test's simulator unregisters while sipp still answers.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

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
	// Until sipp has bound its port the REGISTER is retransmitted (UDP),
	// so no wait for sipp is needed.
	stopSim := runSim(t, s)
	logged := func(want string) bool {
		b, _ := os.ReadFile(msgFile)
		return bytes.Contains(b, []byte(want))
	}
	t.Cleanup(func() { // the first cleanup to run: sipp and the simulator still run
		if t.Failed() {
			msgs, _ := os.ReadFile(msgFile)
			t.Logf("stats %+v\nsipp output:\n%s\nmessages:\n%s", s.Stats(), out.String(), msgs)
		}
	})
	testsupport.Eventually(t, eventTimeout, "3 keepalives and the catalog answered to sipp", func() bool {
		return s.Stats().Keepalives >= 3 && logged("<SumNum>5</SumNum>")
	})
	stopSim() // returns once the unregister was answered
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
}
