package sipserver

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/digestauth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// defaultExpires is granted when a REGISTER names no expiry (RFC 3261 §10.2.1.1).
const defaultExpires = 3600 * time.Second

// gbDateLayout is the Date header of the REGISTER 200 (9.10 time sync).
const gbDateLayout = "2006-01-02T15:04:05.000"

// onRegister handles REGISTER: digest authentication with server nonces,
// registration, refresh and unregistration (9.1).
func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	now := s.now()
	from := req.From()
	if from == nil {
		s.reply(req, tx, sip.StatusBadRequest, "Missing From")
		return
	}
	id := from.Address.User
	if _, err := ids.Parse(id); err != nil {
		s.countRegister("invalid")
		s.Log.Warn("REGISTER with an invalid device ID", "from", req.Source(), "user", id, "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Invalid Device ID")
		return
	}
	srcIP := hostOf(req.Source())
	if s.failures.blocked(srcIP, id, now) {
		s.countRegister("blocked")
		s.reply(req, tx, sip.StatusForbidden, "Temporarily Blocked")
		return
	}
	d := s.devices.get(id)
	if d == nil && !s.Config.AutoRegister {
		s.countRegister("forbidden")
		s.Log.Warn("REGISTER from an unknown device refused (sip.auto_register is off)", "device", id, "from", req.Source())
		s.reply(req, tx, sip.StatusForbidden, "Unknown Device")
		return
	}
	password := string(s.Config.Password)
	if d != nil {
		d.mu.Lock()
		if d.password != nil {
			password = *d.password
		}
		d.mu.Unlock()
	}
	if password == "" {
		s.countRegister("forbidden")
		s.Log.Warn("REGISTER refused: no password configured for the device (set sip.password or the device's own)", "device", id)
		s.reply(req, tx, sip.StatusForbidden, "No Password Configured")
		return
	}
	expires, err := requestedExpires(req)
	if err != nil {
		s.countRegister("invalid")
		s.Log.Warn("REGISTER with an invalid expiry", "device", id, "from", req.Source(), "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Invalid Expires")
		return
	}

	authz := req.GetHeader("Authorization")
	if authz == nil {
		s.countRegister("challenged")
		s.challenge(req, tx, now, false)
		return
	}
	cred, err := digestauth.ParseAuthorization(authz.Value())
	if err != nil {
		s.countRegister("invalid")
		s.Log.Warn("REGISTER with malformed credentials", "device", id, "from", req.Source(), "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Malformed Authorization")
		return
	}
	if err := s.nonces.Check(cred.Nonce, now); err != nil || cred.Realm != s.Config.Domain {
		// Expired (stale) or foreign nonce, or another realm: a fresh challenge,
		// not a failure — devices refresh with old nonces all the time.
		s.countRegister("stale")
		s.challenge(req, tx, now, errors.Is(err, digestauth.ErrStaleNonce))
		return
	}
	if !cred.Verify(sip.REGISTER.String(), password) {
		s.countRegister("forbidden")
		blocked := s.failures.fail(srcIP, id, now)
		s.Log.Warn("REGISTER with a wrong password", "device", id, "from", req.Source(), "blocked", blocked)
		s.reply(req, tx, sip.StatusForbidden, "Wrong Password")
		return
	}
	if err := s.nonces.Use(cred, now); err != nil {
		s.countRegister("stale")
		s.Log.Info("REGISTER credentials replayed; challenging again", "device", id, "from", req.Source(), "err", err)
		s.challenge(req, tx, now, false)
		return
	}
	s.failures.reset(srcIP, id)

	if expires == 0 {
		s.unregister(id, now)
		s.countRegister("unregistered")
		s.respondRegistered(req, tx, 0, now)
		return
	}
	granted := min(max(expires, s.Config.MinExpires.Std()), s.Config.MaxExpires.Std())
	fresh := s.register(id, req, now, granted)
	if fresh {
		s.countRegister("registered")
	} else {
		s.countRegister("refreshed")
	}
	s.respondRegistered(req, tx, granted, now)
	if fresh {
		s.afterRegister(id)
	}
}

// register records a successful registration and reports whether it is a
// new one (not a refresh of a live registration from the same address).
func (s *Server) register(id string, req *sip.Request, now time.Time, granted time.Duration) (fresh bool) {
	d, _ := s.devices.getOrCreate(id, func(d *device) {
		d.interval, d.count, d.charset = s.Config.HeartbeatInterval.Std(), s.Config.HeartbeatCount, "GB2312"
	})
	transport, src := req.Transport(), req.Source()
	d.mu.Lock()
	fresh = !d.registered || d.remoteAddr != src || d.transport != transport
	movedIP := d.registered && d.remoteAddr != "" && hostOf(d.remoteAddr) != hostOf(src)
	d.registered = true
	d.transport, d.remoteAddr = transport, src
	if v := req.GetHeader("X-GB-Ver"); v != nil {
		d.gbVersion = strings.TrimSpace(v.Value())
	}
	d.expiresAt = now.Add(granted)
	if fresh {
		d.registeredAt = now
		// A new registration may come from a rebooted device that forgot its subscription.
		d.sub, d.subscribedUntil = nil, time.Time{}
	}
	wasOnline := d.online
	d.online = true
	reg := store.Registration{
		DeviceID: id, Transport: strings.ToLower(transport), RemoteAddr: src, GBVersion: d.gbVersion,
		RegisteredAt: d.registeredAt, ExpiresAt: d.expiresAt,
	}
	d.mu.Unlock()
	d.lastKeepalive.Store(now.UnixNano())
	d.touched.Store(true)
	s.writer.register(reg)
	if !wasOnline {
		s.writer.status(store.StatusChange{DeviceID: id, Online: true, Cause: "register", At: now})
	}
	if movedIP {
		s.sessions.deviceMoved(id)
	}
	return fresh
}

// unregister ends a device's registration (REGISTER with Expires 0).
func (s *Server) unregister(id string, now time.Time) {
	d := s.devices.get(id)
	if d == nil {
		return
	}
	d.mu.Lock()
	wasOnline := d.online
	d.registered, d.online = false, false
	d.expiresAt = now
	d.sub, d.subscribedUntil = nil, time.Time{}
	reg := store.Registration{
		DeviceID: id, Transport: strings.ToLower(d.transport), RemoteAddr: d.remoteAddr, GBVersion: d.gbVersion,
		RegisteredAt: d.registeredAt, ExpiresAt: now,
	}
	d.mu.Unlock()
	s.writer.register(reg)
	if wasOnline {
		s.writer.status(store.StatusChange{DeviceID: id, Online: false, Cause: "unregister", At: now})
	}
	s.Log.Info("device unregistered", "device", id)
	s.sessions.deviceGone(id, ReasonUnregister)
}

func (s *Server) challenge(req *sip.Request, tx sip.ServerTransaction, now time.Time, stale bool) {
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", digestauth.Challenge(s.Config.Domain, s.nonces.Issue(now), stale)))
	s.respond(req, tx, res)
}

func (s *Server) respondRegistered(req *sip.Request, tx sip.ServerTransaction, granted time.Duration, now time.Time) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if c := req.Contact(); c != nil {
		res.AppendHeader(sip.HeaderClone(c))
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(granted/time.Second))))
	res.AppendHeader(sip.NewHeader("Date", now.Format(gbDateLayout)))
	s.respond(req, tx, res)
}

func (s *Server) countRegister(outcome string) { s.metrics.registers.WithLabelValues(outcome).Inc() }

// requestedExpires reads the Expires header, else the Contact's expires
// parameter, else the default.
func requestedExpires(req *sip.Request) (time.Duration, error) {
	v := ""
	if h := req.GetHeader("Expires"); h != nil {
		v = h.Value()
	} else if c := req.Contact(); c != nil {
		v, _ = c.Params.Get("expires")
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultExpires, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second, nil
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// authFailures counts wrong passwords per (source IP, device) and blocks
// the pair after Limit of them within Block. Keying by the pair lets one
// misconfigured camera behind a NAT be blocked without blocking its
// neighbours; a flood of guesses is also bounded by the per-source rate limit.
type authFailures struct {
	Limit int
	Block time.Duration

	mu sync.Mutex
	m  map[[2]string]*failureCount
}

type failureCount struct {
	n            int
	first        time.Time
	blockedUntil time.Time
}

func (a *authFailures) blocked(ip, id string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.m[[2]string{ip, id}]
	return f != nil && now.Before(f.blockedUntil)
}

// fail records a failure and reports whether the pair is now blocked.
func (a *authFailures) fail(ip, id string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[[2]string]*failureCount{}
	}
	k := [2]string{ip, id}
	f := a.m[k]
	if f == nil || now.Sub(f.first) > a.Block {
		f = &failureCount{first: now}
		a.m[k] = f
	}
	f.n++
	if f.n >= a.Limit {
		f.blockedUntil = now.Add(a.Block)
		return true
	}
	return false
}

func (a *authFailures) reset(ip, id string) {
	a.mu.Lock()
	delete(a.m, [2]string{ip, id})
	a.mu.Unlock()
}

// sweep forgets failures older than Block.
func (a *authFailures) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, f := range a.m {
		if now.Sub(f.first) > a.Block && now.After(f.blockedUntil) {
			delete(a.m, k)
		}
	}
}
