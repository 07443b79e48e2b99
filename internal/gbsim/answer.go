package gbsim

import (
	"context"
	"fmt"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// Answer plays the device side of a media session without SIP: given the
// SDP offer a platform would put in its INVITE for channelID, it returns the
// device's SDP answer and streams the channel as after the ACK, until ctx
// ends. It exercises the same transport setup and PS sender as an INVITE;
// media tests and load tests of receivers (mediagw) use it where no
// signalling server is involved. The Sim need not be running.
func (s *Sim) Answer(ctx context.Context, channelID string, offer []byte) ([]byte, error) {
	var d *device
	var c *channel
	for _, dev := range s.devices {
		if ch := dev.channel(channelID); ch != nil {
			d, c = dev, ch
			break
		}
	}
	if c == nil {
		return nil, fmt.Errorf("answer %s: %w", channelID, ErrUnknownChannel)
	}
	off, err := sdp.Parse(offer)
	if off == nil {
		return nil, fmt.Errorf("answer %s: %w: %w", channelID, ErrUnsupportedOffer, err)
	}
	sess, answer, err := d.newSession(c, "direct-"+newToken(8), off)
	if err != nil {
		return nil, fmt.Errorf("answer %s: %w", channelID, err)
	}
	d.mu.Lock()
	d.sessions[sess.callID] = sess
	d.mu.Unlock()
	// One goroutine of the simulator: Close (or ctx) ends it.
	stop := context.AfterFunc(ctx, sess.cancel)
	ok := s.spawn(func() {
		defer d.endSession(sess)
		defer stop()
		s.stats.streams.Add(1)
		defer s.stats.streams.Add(-1)
		if err := sess.stream(); err != nil && sess.ctx.Err() == nil {
			d.log.Warn("media stream ended", "channel_id", c.id, "err", err)
		}
	})
	if !ok {
		stop()
		d.endSession(sess)
		return nil, fmt.Errorf("answer %s: %w", channelID, ErrSimClosed)
	}
	return answer.Marshal(), nil
}
