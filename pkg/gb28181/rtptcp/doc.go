// Package rtptcp frames RTP packets on a TCP connection as GB/T 28181 media
// over TCP does: RFC 4571, a 2-byte big-endian length before every packet.
//
// Writer adds the framing. Reader removes it and is built for what devices
// really send: it also accepts RTSP-interleaved frames ('$', channel, 2-byte
// length) mixed into the stream, checks that every payload looks like an
// RTP version 2 packet, and when it meets garbage it scans forward byte by
// byte until it finds a frame it trusts again, counting the bytes it skipped.
package rtptcp
