// Package peertest finds free ports for the services tests start on fixed
// addresses. The real peers themselves (sipp, ffmpeg, chromium, …) are found
// with testsupport.Tool.
package peertest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// portFloor is the lowest port handed out.
const portFloor = 15000

// tries bounds the ports tried before giving up.
const tries = 200

// FreePort returns a port that was free on 127.0.0.1 a moment ago, for
// "udp" or "tcp", for services a test starts on fixed addresses.
//
// It is picked below the kernel's ephemeral range: a port from that range
// (what binding port 0 gives) is free only until some process's outgoing
// connection is given it, and a service restarted on its port by a test
// then failed with "address already in use" on a busy machine.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	hi := ephemeralLow()
	if hi-portFloor < 1000 {
		return anyPort(t, network)
	}
	for range tries {
		p := portFloor + rand.IntN(hi-portFloor)
		if free(network, p) {
			return p
		}
	}
	t.Fatalf("no free %s port in %d–%d after %d tries", network, portFloor, hi-1, tries)
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// free reports whether port can be bound on 127.0.0.1 now.
func free(network string, port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// anyPort is a port the kernel picks, where no range below its ephemeral
// one is left.
func anyPort(t testing.TB, network string) int {
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
