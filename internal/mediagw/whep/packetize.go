package whep

import (
	"encoding/hex"
	"math/rand/v2"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
)

// rtpMaxPayload bounds an RTP payload so that the packet, with its 12-byte
// header, the header extensions pion may add and the SRTP tag, stays under
// the 1200 bytes WebRTC stacks assume as the path MTU.
const rtpMaxPayload = 1160

// hubClockRate is the clock of hub.Unit timestamps.
const hubClockRate = 90000

// packetizer turns the units of one track into RTP packets: H.264 access
// units with RFC 6184 packetization (STAP-A for SPS+PPS, FU-A for large
// NAL units), G.711 frames as they are. It is not safe for concurrent use.
type packetizer struct {
	clockRate int64
	h264      *codecs.H264Payloader // nil for audio
	seq       uint16
	tsOffset  uint32 // random, as RFC 3550 asks
	pkt       rtp.Packet
}

// newPacketizer returns a packetizer for a track of clockRate; video tracks
// are H.264.
func newPacketizer(clockRate int64, video bool) *packetizer {
	p := &packetizer{
		clockRate: clockRate,
		seq:       uint16(rand.Uint32()),
		tsOffset:  rand.Uint32(),
	}
	if video {
		p.h264 = &codecs.H264Payloader{}
	}
	return p
}

// rtpTimestamp converts a 90 kHz PTS to the track's clock, rounding down
// (also for negative PTS) so that timestamps never go backwards.
func (p *packetizer) rtpTimestamp(pts int64) uint32 {
	if p.clockRate == hubClockRate {
		return p.tsOffset + uint32(pts)
	}
	v := pts * p.clockRate
	q := v / hubClockRate
	if v%hubClockRate < 0 {
		q--
	}
	return p.tsOffset + uint32(q)
}

// packetize calls emit with each RTP packet of u, in order; the packet is
// reused after emit returns. The marker bit ends a video access unit. It
// stops at the first error of emit.
func (p *packetizer) packetize(u hub.Unit, emit func(*rtp.Packet) error) error {
	ts := p.rtpTimestamp(u.PTS)
	if p.h264 != nil {
		payloads := p.h264.Payload(rtpMaxPayload, u.Payload)
		for i, pl := range payloads {
			if err := p.emit(emit, ts, i == len(payloads)-1, pl); err != nil {
				return err
			}
		}
		return nil
	}
	// G.711: one byte per sample, so a frame too large for one packet is
	// split with the timestamp advanced by the bytes before each part.
	for off := 0; off < len(u.Payload); off += rtpMaxPayload {
		end := min(off+rtpMaxPayload, len(u.Payload))
		if err := p.emit(emit, ts+uint32(off), false, u.Payload[off:end]); err != nil {
			return err
		}
	}
	return nil
}

func (p *packetizer) emit(emit func(*rtp.Packet) error, ts uint32, marker bool, payload []byte) error {
	p.pkt.Header = rtp.Header{
		Version:        2,
		Marker:         marker,
		SequenceNumber: p.seq,
		Timestamp:      ts,
	}
	p.pkt.Payload = payload
	p.seq++
	return emit(&p.pkt)
}

// h264ProfileLevelID returns the profile-level-id (profile_idc, constraint
// flags and level_idc, in lowercase hex as in SDP) of the first SPS of an
// Annex-B access unit.
func h264ProfileLevelID(au []byte) (string, bool) {
	for n := range ps.NALUnits(au) {
		if n[0]&0x1F == 7 && len(n) >= 4 {
			return hex.EncodeToString(n[1:4]), true
		}
	}
	return "", false
}
