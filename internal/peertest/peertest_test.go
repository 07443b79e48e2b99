package peertest

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePort: the port is below the ephemeral range and can be bound.
func TestFreePort(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		p := FreePort(t, network)
		if p < portFloor || p >= ephemeralLow() {
			t.Errorf("%s port %d outside %d–%d", network, p, portFloor, ephemeralLow()-1)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		if network == "udp" {
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
}
