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
	ep := d.ep()
	if ep == nil {
		return fmt.Errorf("BYE %s: %w", ss.ch.id, ErrNotConnected)
	}
	req := d.newRequest(ep, sip.BYE, target, ss.callID, ss.toTag)
	req.From().Address.User = ss.ch.id
	req.To().Address.User = ss.invite.From().Address.User
	req.To().Params.Add("tag", fromTag)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := ep.do(ctx, req)
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
	d := s.device(deviceID)
	if d == nil {
		return fmt.Errorf("unregister %s: %w", deviceID, ErrUnknownDevice)
	}
	if ep := d.ep(); ep == nil || ep.closed.Load() {
		return fmt.Errorf("unregister %s: %w", deviceID, ErrNotConnected)
	}
	if _, err := d.register(ctx, 0); err != nil {
		return fmt.Errorf("unregister %s: %w", deviceID, err)
	}
	return nil
}

// Rebind moves a device to a new local source port now, as a NAT rebinding
// does: a new UDP socket, or a new TCP connection to the platform. Every
// later request and answer of the device uses the new port. The device
// does not know its address changed: it keeps its registration until the
// platform refuses one of its requests (a keepalive answered with a 4xx,
// another MESSAGE or a NOTIFY with 401, 403 or 404), then registers again at
// once from the new port (Stats.Reregistrations counts that). Media
// sessions are not affected.
func (s *Sim) Rebind(deviceID string) error {
	d := s.device(deviceID)
	if d == nil {
		return fmt.Errorf("rebind %s: %w", deviceID, ErrUnknownDevice)
	}
	if err := d.rebind(); err != nil {
		return fmt.Errorf("rebind %s: %w", deviceID, err)
	}
	return nil
}

// LocalAddr returns the address (host:port) of a device's current SIP
// transport, the source the platform sees; ok is false for an unknown or
// unconnected device.
func (s *Sim) LocalAddr(deviceID string) (addr string, ok bool) {
	d := s.device(deviceID)
	if d == nil {
		return "", false
	}
	ep := d.ep()
	if ep == nil || ep.closed.Load() {
		return "", false
	}
	return ep.hostPort(), true
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
