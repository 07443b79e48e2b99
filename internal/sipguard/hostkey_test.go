package sipguard

import (
	"net"
	"testing"
)

// TestHostOf: the rate-limit key is the IPv4 address, or the /64 of an
// IPv6 one, whatever the port and the address type.
func TestHostOf(t *testing.T) {
	udp := func(s string) net.Addr { a, _ := net.ResolveUDPAddr("udp", s); return a }
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tc := range []struct {
		a, b net.Addr
		same bool
	}{
		{udp("192.0.2.1:5060"), udp("192.0.2.1:40000"), true},
		{udp("192.0.2.1:5060"), tcp("192.0.2.1:5060"), true},
		{udp("192.0.2.1:5060"), udp("[::ffff:192.0.2.1]:5060"), true},
		{udp("192.0.2.1:5060"), udp("192.0.2.2:5060"), false},
		{udp("[2001:db8:1:2::1]:5060"), udp("[2001:db8:1:2:ffff::9]:5061"), true},
		{udp("[2001:db8:1:2::1]:5060"), udp("[2001:db8:1:3::1]:5060"), false},
	} {
		if got := hostOf(tc.a) == hostOf(tc.b); got != tc.same {
			t.Errorf("%s vs %s: same key %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
