// Package peertest finds free ports for the services tests start on fixed
// addresses. The real peers themselves (sipp, ffmpeg, chromium, …) are found
// with testsupport.Tool.
package peertest

import (
	"net"
	"testing"
)

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
