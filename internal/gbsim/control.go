package gbsim

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Hangup makes the device end the media sessions of channelID with a BYE of
// its own, as a camera does when it reboots or its recording ends. It
// returns after the platform answered (or ctx ended).
func (s *Sim) Hangup(ctx context.Context, channelID string) error {
	var found bool
	for _, d := range s.devices {
		d.mu.Lock()
		var mine []*session
		for _, ss := range d.sessions {
			if ss.ch.id == channelID && ss.invite != nil {
				mine = append(mine, ss)
			}
		}
		d.mu.Unlock()
		for _, ss := range mine {
			found = true
			err := d.bye(ctx, ss)
			d.endSession(ss)
			if err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("hang up %s: %w", channelID, ErrNoSession)
	}
	return nil
}

// bye sends BYE within the session's dialog: we are the UAS, so From
// carries our tag and To the platform's.
func (d *device) bye(ctx context.Context, ss *session) error {
	target := d.serverURI()
	if c := ss.invite.Contact(); c != nil {
		target = c.Address
	}
	fromTag, _ := ss.invite.From().Params.Get("tag")
	req := d.newRequest(sip.BYE, target, ss.callID, ss.toTag)
	req.From().Address.User = ss.ch.id
	req.To().Address.User = ss.invite.From().Address.User
	req.To().Params.Add("tag", fromTag)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := d.ep().do(ctx, req)
	if err != nil {
		return fmt.Errorf("BYE %s: %w", ss.ch.id, err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("BYE %s: %d %s", ss.ch.id, res.StatusCode, res.Reason)
	}
	d.log.Info("hung up", "channel_id", ss.ch.id, "session", ss.kind)
	return nil
}

// Unregister makes a device send REGISTER with Expires 0 while it keeps
// listening, as a device does before a planned restart; it registers again
// on its own later (its next keepalive is refused). Tests use it to check
// that the platform ends the device's sessions.
func (s *Sim) Unregister(ctx context.Context, deviceID string) error {
	for _, d := range s.devices {
		if d.id != deviceID {
			continue
		}
		if ep := d.ep(); ep == nil || ep.closed.Load() {
			return fmt.Errorf("unregister %s: not connected", deviceID)
		}
		if _, err := d.register(ctx, 0); err != nil {
			return fmt.Errorf("unregister %s: %w", deviceID, err)
		}
		return nil
	}
	return fmt.Errorf("unregister %s: %w", deviceID, ErrUnknownDevice)
}

// Position returns the current PTZ position of channelID (pan and tilt in
// degrees, zoom factor), as PTZ commands moved it; ok is false for a
// channel the simulator does not run.
func (s *Sim) Position(channelID string) (pan, tilt, zoom float64, ok bool) {
	for _, d := range s.devices {
		if c := d.channel(channelID); c != nil {
			pan, tilt, zoom = c.position()
			return pan, tilt, zoom, true
		}
	}
	return 0, 0, 0, false
}
