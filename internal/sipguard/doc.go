// Package sipguard protects a SIP listener from bad input and floods. It sits
// between the sockets and github.com/emiago/sipgo, which only logs and drops
// what it cannot parse and has no per-source limits:
//
//	pc := &sipguard.PacketConn{Conn: udp, MaxMessageSize: 64 << 10, Rate: 200, Burst: 400, Log: log}
//	go srv.ServeUDP(pc)
//	go srv.ServeTCP(&sipguard.Listener{Listener: tcp, Rate: 200, Burst: 400})
//
// PacketConn drops datagrams from a source over its rate and answers
// malformed or oversized requests with 400 or 413 (Check and Reply), so a
// broken device learns why it gets no answer. Listener slows down a TCP
// connection that sends faster than its rate by reading from it later,
// which lets TCP flow control push back on the sender. Limiter is the
// per-source token bucket both use.
package sipguard
