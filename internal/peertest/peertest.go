// Package peertest finds the real peers tests run against (sipp, ffmpeg,
// ffprobe, gst-launch-1.0, chromium) and free ports to start services on.
// A test may skip when a peer is missing on a developer's machine; under CI
// (CI set) every peer must be there, so a missing one fails the test
// instead of silently skipping it.
package peertest

import (
	"net"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// Require returns the path of binary, or skips the test (fails it under CI)
// naming the Debian package that provides it: testsupport.Tool, the one
// rule for a missing part.
//
// Deprecated: call testsupport.Tool; Require goes once no test calls it.
func Require(t testing.TB, binary, debianPackage string) string {
	t.Helper()
	return testsupport.Tool(t, binary, debianPackage)
}

// FreePort returns a port that was free on 127.0.0.1 a moment ago, for
// "udp" or "tcp", for services a test starts on fixed addresses.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
