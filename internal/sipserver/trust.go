package sipserver

import (
	"context"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/sipguard"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// The trust boundary of signalling (docs/security.md): a device's address
// changes only through a REGISTER that passes digest authentication, and
// every other request that claims a device ID is believed only when it
// comes from where that device registered. Anyone who can reach the SIP
// port and knows a (sequential) device ID could otherwise redirect the
// device's INVITEs to themselves, rewrite its catalog or end its sessions
// with one datagram.

// foreignWarnRate is how often one device's foreign-source warning is
// logged: a spoofing flood must not flood the log too.
const foreignWarnRate = 1.0 / 60

// sourceAllowed reports whether a request that arrived over transport from
// src may speak for d. d.mu must be held.
//
// strict: the registered transport and ip:port. For TCP that is the
// registered connection: a new connection has a new source port, so a
// device that reconnects must register again before it is believed.
// ip: the registered transport and IP, any port, for devices behind NATs
// that rebind ports and do not re-register when refused.
func (d *device) sourceAllowed(transport, src string) bool {
	if !strings.EqualFold(d.transport, transport) {
		return false
	}
	if d.sourceCheck == store.SourceIP {
		return hostOf(d.remoteAddr) == hostOf(src)
	}
	return d.remoteAddr == src
}

// fromDevice reports whether req came from the registered source of d.
func fromDevice(d *device, req *sip.Request) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sourceAllowed(req.Transport(), req.Source())
}

// refuseForeign answers a request that claims device id but does not come
// from its registered source: 403, nothing applied, counted, and logged
// once a minute per device. A conforming device that finds itself refused
// (it moved behind a NAT) registers again, which moves its address.
func (s *Server) refuseForeign(req *sip.Request, tx sip.ServerTransaction, id, what string) {
	s.metrics.foreignSource.WithLabelValues(req.Method.String()).Inc()
	if s.foreignWarn.Allow(id, s.now()) {
		var registered, hint string
		if d := s.devices.get(id); d != nil {
			snap := d.snapshot()
			registered = strings.ToLower(snap.Transport) + " " + snap.RemoteAddr
			if hostOf(snap.RemoteAddr) == hostOf(req.Source()) {
				// Same host, other port: a NAT rebinding or a device that
				// sends from other ports than it registered from.
				hint = "same IP, other port: the device should register again; if it never does, consider its source_check ip (docs/security.md)"
			}
		}
		s.Log.Warn("request claiming a device from another source refused (register again to move)",
			"device", id, "what", what, "from", strings.ToLower(req.Transport())+" "+req.Source(),
			"registered", registered, "hint", hint)
	}
	s.reply(req, tx, sip.StatusForbidden, "Not From Registered Source")
}

// newForeignWarn is the limiter of refuseForeign's log lines.
func newForeignWarn() *sipguard.Limiter {
	return &sipguard.Limiter{Rate: foreignWarnRate, Burst: 1, MaxKeys: 1 << 14}
}

// SetSourceCheck stores which signalling sources are accepted for a device
// (store.SourceStrict or store.SourceIP) and applies it at once.
func (s *Server) SetSourceCheck(ctx context.Context, deviceID, check string) error {
	if err := s.Store.SetDeviceSourceCheck(ctx, deviceID, check); err != nil {
		return err
	}
	if d := s.devices.get(deviceID); d != nil {
		d.mu.Lock()
		d.sourceCheck = check
		d.mu.Unlock()
	}
	s.Log.Info("device source check set", "device", deviceID, "source_check", check)
	return nil
}
