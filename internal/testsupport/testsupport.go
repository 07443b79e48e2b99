// Package testsupport holds the helpers that tests across the module share:
// one polling helper and one rule for a missing real part (a tool such as
// ffmpeg or sipp, the PostgreSQL binaries). It is imported only from tests
// (and from test-helper packages such as pgtest and peertest); library code
// never imports it.
package testsupport

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// pollInterval is how often Eventually evaluates its condition: short
// enough not to slow tests down, long enough not to starve a loaded machine.
const pollInterval = 20 * time.Millisecond

// Eventually polls cond until it holds, and fails the test when timeout
// passes first, naming what it waited for. The caller derives timeout from
// the timeouts of the component it waits on (a keepalive period, a retry
// budget), never from a guess of how fast the machine is.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// UnderCI reports whether the tests run under CI (the CI variable is set),
// where every real part must be installed.
func UnderCI() bool { return os.Getenv("CI") != "" }

// Need is the one rule for a real part a test cannot run without: when err
// says the part is missing, the test is skipped on a developer's machine and
// fails under CI, naming the part and how to install it (hint). A nil err
// does nothing.
func Need(t testing.TB, part, hint string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if UnderCI() {
		t.Fatalf("%s is required under CI (%s): %v", part, hint, err)
	}
	t.Skipf("%s not available (%s): %v", part, hint, err)
}

// Tool returns the path of the executable binary, or skips the test (fails
// it under CI) naming the Debian package that provides it.
func Tool(t testing.TB, binary, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(binary)
	Need(t, binary, "Debian package "+debianPackage, err)
	return p
}
