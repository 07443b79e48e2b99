// Package peertest finds the real peers tests run against (sipp, ffmpeg,
// ffprobe, gst-launch-1.0, chromium). A test may skip when a peer is missing
// on a developer's machine; under CI (CI set) every peer must be there, so a
// missing one fails the test instead of silently skipping it.
package peertest

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of binary, or skips the test (fails it under CI)
// naming the Debian package that provides it.
func Require(t testing.TB, binary, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(binary)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI (Debian package %s): %v", binary, debianPackage, err)
		}
		t.Skipf("%s not installed (Debian package %s)", binary, debianPackage)
	}
	return p
}
