package rtptcp

import "errors"

var (
	// ErrEmptyPacket is returned by the Writer for a zero-length packet,
	// which RFC 4571 cannot distinguish from keepalive padding.
	ErrEmptyPacket = errors.New("rtptcp: empty packet")

	// ErrPacketTooLarge is returned by the Writer for a packet longer than
	// 65535 bytes, the most a 16-bit length can describe.
	ErrPacketTooLarge = errors.New("rtptcp: packet too large")
)
