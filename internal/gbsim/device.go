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

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// userAgent is sent in every request and response.
const userAgent = "sharpeyes-gbsim"

// keepaliveFailures is how many unanswered keepalives make a device
// register again (the platform has probably lost it).
const keepaliveFailures = 3

// device is one simulated GB28181 device and its channels.
type device struct {
	sim      *Sim
	idx      int
	id       string
	name     string
	password string
	silent   bool // fault: sends no keepalives
	channels []*channel
	log      *slog.Logger

	cur       atomic.Pointer[endpoint]
	cseq      atomic.Uint32
	sn        atomic.Int64
	regCallID string
	regTag    string
	auth      *authState // used by the run goroutine only

	rebootCh     chan struct{}
	registered   atomic.Bool
	registeredAt atomic.Int64

	mu       sync.Mutex
	sessions map[string]*session      // by Call-ID
	subs     map[string]*subscription // by Call-ID
}

// ep returns the current SIP endpoint; run replaces it after a reboot or a
// lost TCP connection.
func (d *device) ep() *endpoint { return d.cur.Load() }

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
		if ep := d.ep(); ep != nil {
			ep.Close()
		}
		d.stopAll()
	}()
	backoff := time.Second
	first := true
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
			ep, err := newEndpoint(upper(d.sim.cfg.Transport), d.sim.cfg.LocalIP, d.sim.cfg.Server, d.sim.parser, d.log, d.handle)
			if err != nil {
				d.log.Warn("open SIP transport", "err", err)
				d.sleep(ctx, &backoff)
				continue
			}
			d.cur.Store(ep)
			d.regCallID = newToken(12) + "@" + ep.local.IP.String()
			d.regTag = newToken(6)
			d.auth = nil
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
		backoff = time.Second
		d.registered.Store(true)
		d.registeredAt.Store(time.Now().UnixNano())
		d.sim.stats.registered.Add(1)
		d.log.Info("registered", "expires", granted, "local", d.ep().hostPort())
		d.online(ctx, granted)
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
// alarms. It returns when the device must register again or ctx ends.
func (d *device) online(ctx context.Context, granted int) {
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
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.ep().Done():
			d.log.Warn("SIP transport closed; registering again")
			return
		case <-d.rebootCh:
			d.log.Info("TeleBoot: rebooting")
			d.stopAll()
			d.unregister()
			d.ep().Close()
			return
		case <-refresh.C:
			g, err := d.register(ctx, d.sim.cfg.Expires)
			if err != nil {
				d.log.Warn("registration refresh failed", "err", err)
				return
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
					return
				}
			case code >= 400:
				// e.g. 404 from a platform that forgot us: register again.
				d.log.Warn("keepalive rejected; registering again", "status", code)
				return
			default:
				failures = 0
				d.sim.stats.keepalives.Add(1)
			}
		case <-alarm:
			go d.sendAlarm(ctx)
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
