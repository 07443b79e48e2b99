package gbsim

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/digestauth"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// userAgent is sent in every request and response.
const userAgent = "sharpeyes-gbsim"

// keepaliveFailures is how many unanswered keepalives make a device
// register again (the platform has probably lost it).
const keepaliveFailures = 3

// messageTimeout bounds one MESSAGE or NOTIFY the device sends.
const messageTimeout = 10 * time.Second

// txEndpoint returns the endpoint a server transaction runs on: answers go
// back on the socket or connection the request came in on.
func (d *device) txEndpoint(tx *sip.ServerTx) *endpoint {
	if tx != nil {
		if ep, ok := tx.Connection().(*endpoint); ok {
			return ep
		}
	}
	return d.ep()
}

// device is one simulated GB28181 device and its channels.
type device struct {
	sim      *Sim
	idx      int
	id       string
	name     string
	password string
	silent   bool // fault: sends no keepalives
	mute     bool // fault: answers no MESSAGE or SUBSCRIBE
	channels []*channel
	log      *slog.Logger

	// epMu serialises replacing the endpoint (reconnect, Rebind).
	epMu      sync.Mutex
	cur       atomic.Pointer[endpoint]
	cseq      atomic.Uint32
	sn        atomic.Int64
	regCallID string
	regTag    string
	// regMu serialises registrations (the run loop's and Unregister's);
	// auth is the last challenge, guarded by it.
	regMu sync.Mutex
	auth  *digestauth.Answer

	rebootCh   chan struct{}
	reregCh    chan struct{} // the platform refused a request: register again
	registered atomic.Bool

	mu       sync.Mutex
	sessions map[string]*session      // by Call-ID
	subs     map[string]*subscription // by Call-ID
}

// ep returns the current SIP endpoint; run replaces it after a reboot or a
// lost TCP connection, Rebind when the device moves to a new port.
func (d *device) ep() *endpoint { return d.cur.Load() }

// openEndpoint opens a new SIP transport (a new local port) and makes it
// current; the previous one, if any, is closed. With moving set it only
// replaces an open transport (Rebind), so that nothing is opened for a
// device that has stopped.
func (d *device) openEndpoint(moving bool) (ep, old *endpoint, err error) {
	d.epMu.Lock()
	defer d.epMu.Unlock()
	old = d.ep()
	if moving && (old == nil || old.closed.Load()) {
		return nil, nil, ErrNotConnected
	}
	ep, err = newEndpoint(upper(d.sim.cfg.Transport), d.sim.cfg.LocalIP, d.sim.cfg.Server, d.sim.parser, d.log, d.handle, d.sim.spawn)
	if err != nil {
		return nil, nil, err
	}
	d.cur.Store(ep)
	if old != nil {
		old.Close()
	}
	return ep, old, nil
}

// rebind moves the device to a new local port, as a NAT rebinding does
// seen from the platform: a new UDP socket, or a new TCP connection. The
// device does not register again on its own; it does when the platform
// refuses one of its requests from the new port.
func (d *device) rebind() error {
	ep, old, err := d.openEndpoint(true)
	if err != nil {
		return err
	}
	d.sim.stats.rebinds.Add(1)
	d.log.Info("moved to a new source port", "from", old.hostPort(), "to", ep.hostPort())
	return nil
}

// refused handles the platform's answer to a request the device sent:
// 401, 403 or 404 mean the platform does not know the device at this
// source (it restarted, or the device's address changed), so the device
// registers again at once.
func (d *device) refused(code int) {
	if code != sip.StatusUnauthorized && code != sip.StatusForbidden && code != sip.StatusNotFound {
		return
	}
	select {
	case d.reregCh <- struct{}{}:
	default:
	}
}

// nextSN returns a fresh SN for a Notify the device originates.
func (d *device) nextSN() int { return int(d.sn.Add(1)) }

func (d *device) channel(id string) *channel {
	for _, c := range d.channels {
		if c.id == id {
			return c
		}
	}
	return nil
}

// run keeps the device registered until ctx ends, then unregisters.
func (d *device) run(ctx context.Context) {
	defer func() {
		d.epMu.Lock()
		if ep := d.ep(); ep != nil {
			ep.Close()
		}
		d.epMu.Unlock()
		d.stopAll()
	}()
	backoff := time.Second
	first := true
	rereg := false
	for ctx.Err() == nil {
		if first || backoff > time.Second {
			// Initial registrations and retries after failures share the
			// global rate limit so that a platform restart causes no storm.
			if err := d.sim.limiter.wait(ctx); err != nil {
				return
			}
		}
		first = false
		if cur := d.ep(); cur == nil || cur.closed.Load() {
			ep, _, err := d.openEndpoint(false)
			if err != nil {
				d.log.Warn("open SIP transport", "err", err)
				d.sleep(ctx, &backoff)
				continue
			}
			d.regMu.Lock()
			d.regCallID = newToken(12) + "@" + ep.local.IP.String()
			d.regTag = newToken(6)
			d.auth = nil
			d.regMu.Unlock()
		}
		granted, err := d.register(ctx, d.sim.cfg.Expires)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("register failed", "err", err)
			d.sim.stats.regFailed.Add(1)
			d.sleep(ctx, &backoff)
			continue
		}
		if rereg {
			d.sim.stats.reregs.Add(1)
		}
		backoff = time.Second
		d.registered.Store(true)
		d.sim.stats.registered.Add(1)
		d.log.Info("registered", "expires", granted, "local", d.ep().hostPort())
		rereg = d.online(ctx, granted)
		d.registered.Store(false)
		d.sim.stats.registered.Add(-1)
		if ctx.Err() != nil {
			d.unregister()
			return
		}
	}
}

func (d *device) sleep(ctx context.Context, backoff *time.Duration) {
	wait := *backoff + rand.N(*backoff/2+1)
	*backoff = min(*backoff*2, 60*time.Second)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// online runs while the device is registered: keepalives, refreshes,
// alarms. It returns when the device must register again or ctx ends;
// refused reports that the platform refused a request of the device.
func (d *device) online(ctx context.Context, granted int) (refused bool) {
	if granted < 30 {
		granted = 30
	}
	refresh := time.NewTimer(time.Duration(granted) * time.Second * 2 / 3)
	defer refresh.Stop()
	// Spread the first keepalives of a registration storm over one period.
	ka := time.NewTimer(time.Duration(rand.Int64N(int64(d.sim.cfg.Keepalive)/4 + 1)))
	defer ka.Stop()
	var alarm <-chan time.Time
	if iv := d.sim.cfg.Faults.AlarmInterval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		alarm = t.C
	}
	var rebind <-chan time.Time
	if iv := d.sim.cfg.Faults.NATRebind; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		rebind = t.C
	}
	// A refusal of a request sent before this registration is stale.
	select {
	case <-d.reregCh:
	default:
	}
	failures := 0
	for {
		ep := d.ep()
		select {
		case <-ctx.Done():
			return false
		case <-ep.Done():
			if d.ep() != ep {
				continue // moved to a new port (Rebind): not a lost transport
			}
			d.log.Warn("SIP transport closed; registering again")
			return false
		case <-d.rebootCh:
			d.log.Info("TeleBoot: rebooting")
			d.stopAll()
			d.unregister()
			ep.Close()
			return false
		case <-d.reregCh:
			d.log.Warn("platform refused a request; registering again", "local", ep.hostPort())
			return true
		case <-rebind:
			if err := d.rebind(); err != nil {
				d.log.Warn("fault: NAT rebinding", "err", err)
			}
		case <-refresh.C:
			g, err := d.register(ctx, d.sim.cfg.Expires)
			if err != nil {
				d.log.Warn("registration refresh failed", "err", err)
				return false
			}
			d.log.Debug("registration refreshed", "expires", g)
			refresh.Reset(time.Duration(max(g, 30)) * time.Second * 2 / 3)
		case <-ka.C:
			ka.Reset(d.sim.cfg.Keepalive)
			if d.silent || rand.Float64()*100 < d.sim.cfg.Faults.KeepaliveLoss {
				continue
			}
			code, err := d.keepalive(ctx)
			switch {
			case err != nil:
				failures++
				d.log.Warn("keepalive unanswered", "err", err, "failures", failures)
				if failures >= keepaliveFailures {
					return false
				}
			case code >= 400:
				// 404 from a platform that forgot us, 403 or 401 from one
				// that sees us at a new address: register again.
				d.log.Warn("keepalive rejected; registering again", "status", code, "local", ep.hostPort())
				return true
			default:
				failures = 0
				d.sim.stats.keepalives.Add(1)
			}
		case <-alarm:
			d.sim.spawn(func() { d.sendAlarm(ctx) })
		}
	}
}

func (d *device) keepalive(ctx context.Context) (int, error) {
	body, err := manscdp.Encode(manscdp.NewKeepalive(d.id, d.nextSN()), manscdp.Options{})
	if err != nil {
		return 0, err
	}
	return d.sendManscdp(ctx, body)
}

// unregister sends REGISTER with Expires 0, briefly, on the way out.
func (d *device) unregister() {
	if ep := d.ep(); ep == nil || ep.closed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := d.register(ctx, 0); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		d.log.Debug("unregister", "err", err)
		return
	}
	d.log.Info("unregistered")
}

// handle dispatches a request from the platform.
func (d *device) handle(req *sip.Request, tx *sip.ServerTx) {
	if d.mute && (req.Method == sip.MESSAGE || req.Method == sip.SUBSCRIBE) {
		return
	}
	switch req.Method {
	case sip.MESSAGE:
		d.onMessage(req, tx)
	case sip.INVITE:
		d.onInvite(req, tx)
	case sip.ACK:
		d.onAck(req)
	case sip.BYE:
		d.onBye(req, tx)
	case sip.INFO:
		d.onInfo(req, tx)
	case sip.SUBSCRIBE:
		d.onSubscribe(req, tx)
	case sip.NOTIFY:
		_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
	case sip.OPTIONS:
		_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
	default:
		_ = tx.Respond(response(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	}
}

// stopAll ends every media session and subscription, as on reboot.
func (d *device) stopAll() {
	d.mu.Lock()
	sessions := d.sessions
	d.sessions = map[string]*session{}
	subs := d.subs
	d.subs = map[string]*subscription{}
	d.mu.Unlock()
	for _, s := range sessions {
		s.stop()
	}
	for _, s := range subs {
		s.cancel()
	}
}

func upper(s string) string {
	if s == "tcp" {
		return "TCP"
	}
	return "UDP"
}
