package ps

import "github.com/pion/rtp"

// Defaults of the Packetizer.
const (
	// DefaultPayloadType is the RTP payload type of PS in GB/T 28181.
	DefaultPayloadType = 96
	// DefaultMaxPayloadSize keeps RTP packets under a 1500-byte MTU.
	DefaultMaxPayloadSize = 1400
)

// Packetizer cuts PS packs into RTP packets: all packets of a pack share one
// timestamp, the last one has the marker bit, sequence numbers continue
// across packs.
type Packetizer struct {
	// PayloadType is the RTP payload type; 0 means DefaultPayloadType.
	PayloadType uint8
	// SSRC is written into every packet (GB/T 28181: the y= value of the SDP).
	SSRC uint32
	// MaxPayloadSize bounds a packet's payload; 0 means DefaultMaxPayloadSize.
	MaxPayloadSize int
	// SequenceNumber is the sequence number of the next packet.
	SequenceNumber uint16

	pkt rtp.Packet
}

// Visit splits pack into packets with the given RTP timestamp and calls fn
// for each. The packet and its payload (a slice of pack) are valid only
// during fn; use Packet.Marshal or MarshalTo for raw bytes. Visit stops at
// the first error of fn.
func (p *Packetizer) Visit(pack []byte, timestamp uint32, fn func(*rtp.Packet) error) error {
	maxPay := p.MaxPayloadSize
	if maxPay <= 0 {
		maxPay = DefaultMaxPayloadSize
	}
	pt := p.PayloadType
	if pt == 0 {
		pt = DefaultPayloadType
	}
	for len(pack) > 0 {
		n := min(len(pack), maxPay)
		p.pkt.Header = rtp.Header{
			Version:        2,
			Marker:         n == len(pack),
			PayloadType:    pt,
			SequenceNumber: p.SequenceNumber,
			Timestamp:      timestamp,
			SSRC:           p.SSRC,
		}
		p.pkt.Payload = pack[:n]
		p.SequenceNumber++
		if err := fn(&p.pkt); err != nil {
			return err
		}
		pack = pack[n:]
	}
	return nil
}

// Packets returns the RTP packets of pack as new packets whose payloads are
// slices of pack.
func (p *Packetizer) Packets(pack []byte, timestamp uint32) []*rtp.Packet {
	var out []*rtp.Packet
	_ = p.Visit(pack, timestamp, func(pkt *rtp.Packet) error {
		c := *pkt
		out = append(out, &c)
		return nil
	})
	return out
}
