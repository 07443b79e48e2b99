package rtpin

import "errors"

// ErrNilPacket is returned by ReorderBuffer.Push when given no packet.
var ErrNilPacket = errors.New("rtpin: nil packet")
