package sipserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/digestauth"
	"github.com/sharpeyes/sharpeyes/internal/ptzlock"
	"github.com/sharpeyes/sharpeyes/internal/sipguard"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
)

// udpBuffer is the socket buffer asked for on the SIP UDP socket.
const udpBuffer = 4 << 20

// Server is the GB28181 registrar and signalling endpoint: SIP over UDP and
// TCP on one port, devices in memory with their state batched to PostgreSQL.
type Server struct {
	Config config.SIP
	// Sessions configures media sessions; MediaToken authenticates sipserver
	// on mediagw's control API (the service token).
	SessionConfig config.Sessions
	MediaToken    string
	// Store is the sipserver's database: its writes and the read model.
	Store   *sipdb.DB
	Log     *slog.Logger
	Metrics prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PTZLockIdle is how long a controller keeps a camera's PTZ after its
	// last command (ptzlock.DefaultIdle when zero).
	PTZLockIdle time.Duration
	// CascadeRetryMin is the first back-off of a failed registration to a
	// superior platform (default 1 s; it doubles up to a minute).
	CascadeRetryMin time.Duration

	startedAt time.Time
	advertise string
	sipPort   int

	devices  *registry
	nonces   digestauth.Nonces
	failures authFailures
	// ptzLocks say who controls each camera's PTZ (LockPTZ).
	ptzLocks *ptzlock.Locks
	writer   stateWriter
	requests requester
	catalog  catalogSync
	sessions sessionManager
	cascade  cascadeLinks
	metrics  *metrics
	// foreignWarn limits the warnings about requests from foreign sources.
	foreignWarn *sipguard.Limiter

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	udp    *sipguard.PacketConn
	tcp    net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	// wg holds the workers: loops, background tasks, session set-ups.
	wg sync.WaitGroup
	// serve holds the UDP and TCP serve loops.
	serve sync.WaitGroup
	// gate admits handlers and new work until Close; handlers holds the
	// SIP handlers running now (sipgo runs each in a goroutine of its own).
	gate struct {
		sync.Mutex
		closing  bool
		handlers sync.WaitGroup
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Initialize restores the devices from PostgreSQL, opens the UDP and TCP
// listeners and starts serving.
func (s *Server) Initialize() error {
	s.startedAt = s.now()
	s.devices = newRegistry()
	s.nonces.TTL = s.Config.NonceTTL.Std()
	if err := s.nonces.Initialize(); err != nil {
		return err
	}
	s.ptzLocks = &ptzlock.Locks{Idle: s.PTZLockIdle, Now: s.now}
	if err := s.ptzLocks.Initialize(); err != nil {
		return err
	}
	s.failures = authFailures{Limit: s.Config.AuthFailures, Block: s.Config.AuthBlock.Std()}
	s.metrics = newMetrics(s.Metrics, s.devices.counts)
	s.foreignWarn = newForeignWarn()
	s.writer = stateWriter{Store: s.Store, Interval: s.Config.FlushInterval.Std(), Log: s.Log, Metrics: s.metrics}
	s.writer.initialize()
	s.requests.initialize()
	s.catalog = catalogSync{
		Config: s.Config, Store: s.Store, Devices: s.devices, Writer: &s.writer, Log: s.Log, Parent: s,
	}
	s.catalog.initialize()
	s.ctx, s.cancel = context.WithCancel(context.Background())

	if err := s.restore(); err != nil {
		s.cancel()
		return err
	}
	s.sessions = sessionManager{
		Config: s.SessionConfig, PlatformID: s.Config.ID, Token: s.MediaToken, Store: s.Store, Metrics: s.metrics,
		Log: s.Log, Parent: s,
	}
	if err := s.sessions.initialize(s.ctx); err != nil {
		s.cancel()
		return err
	}
	s.metrics.sessionsOpen(s.Metrics, s.sessions.open)
	s.metrics.catalogJobs(s.Metrics, s.catalog.queuedCount, func() int { return int(s.catalog.running.Load()) })
	s.cascade = cascadeLinks{
		Store: s.Store, LocalID: s.Config.ID, LocalDomain: s.Config.Domain,
		RequestTimeout: s.Config.RequestTimeout.Std(), RetryMin: s.CascadeRetryMin,
		Log: s.Log.With("component", "cascade"), Now: s.Now, Items: s.sharedItems,
		CloseUp: s.closeUp, Restore: s.restoreUps, Allowed: s.allowedUp,
	}
	s.cascade.initialize()
	if err := s.listen(); err != nil {
		s.cancel()
		return err
	}
	rctx, rcancel := context.WithTimeout(s.ctx, 30*time.Second)
	err := s.sessions.restore(rctx)
	rcancel()
	if err != nil {
		s.Close()
		return fmt.Errorf("restore media sessions: %w", err)
	}
	s.wg.Go(func() { s.sessions.runReconcile(s.ctx) })
	s.wg.Go(func() { s.sessions.runHealth(s.ctx) })
	s.wg.Go(func() { s.writer.run(s.ctx) })
	s.wg.Go(func() { s.runLiveness(s.ctx) })
	s.wg.Go(func() { s.catalog.run(s.ctx) })
	s.wg.Go(s.runExpire)
	// The SIP handlers read the links already (initialize, before listen);
	// the rest is known only now that the listeners are open.
	c := &s.cascade
	c.ContactHost, c.ContactPort, c.Client = s.advertise, s.sipPort, sipClient{s.client}
	s.wg.Go(func() { c.run(s.ctx) })
	return nil
}

// restore loads every device and its last state. Online devices with a
// valid registration stay online and get a full keepalive timeout to prove
// it; those whose registration expired while we were down go offline, at
// their expiry time. Nothing is guessed.
func (s *Server) restore() error {
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	states, err := s.Store.LoadDeviceStates(ctx)
	if err != nil {
		return fmt.Errorf("restore devices: %w", err)
	}
	now := s.startedAt
	var online, expired int
	for _, st := range states {
		d, _ := s.devices.getOrCreate(st.ID, func(d *device) {
			d.transport, d.remoteAddr = strings.ToUpper(st.Transport), st.RemoteAddr
			d.gbVersion, d.charset, d.password = st.GBVersion, st.Charset, st.Password
			d.sourceCheck = st.SourceCheck
			d.interval, d.count = time.Duration(st.HeartbeatInterval)*time.Second, st.HeartbeatCount
			if st.RegisteredAt != nil {
				d.registeredAt = *st.RegisteredAt
			}
			if st.ExpiresAt != nil && st.ExpiresAt.After(now) {
				d.registered, d.expiresAt = true, *st.ExpiresAt
			}
			d.online = st.Online && d.registered
		})
		last := now
		if st.LastKeepaliveAt != nil {
			last = *st.LastKeepaliveAt
		}
		d.lastKeepalive.Store(last.UnixNano())
		switch {
		case st.Online && !d.registered:
			at := now
			if st.ExpiresAt != nil {
				at = *st.ExpiresAt
			}
			s.writer.status(store.StatusChange{DeviceID: st.ID, Online: false, Cause: "expired", At: at})
			expired++
		case d.online:
			online++
		}
	}
	s.Log.Info("devices restored", "devices", len(states), "online", online, "expired_while_down", expired)
	return nil
}

func (s *Server) listen() error {
	host, portStr, err := net.SplitHostPort(s.Config.Listen)
	if err != nil {
		return fmt.Errorf("sip.listen %q: %w", s.Config.Listen, err)
	}
	s.advertise = s.Config.Advertise
	if s.advertise == "" {
		s.advertise = advertiseAddr(host)
	}
	pc, tl, err := listenBoth(s.Config.Listen, host, portStr == "0")
	if err != nil {
		return err
	}
	s.sipPort = pc.LocalAddr().(*net.UDPAddr).Port
	sipLog := s.Log.With("component", "sipgo")
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sharpeyes"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		pc.Close()
		tl.Close()
		return fmt.Errorf("SIP user agent: %w", err)
	}
	s.ua = ua
	s.srv, _ = sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	s.client, _ = sipgo.NewClient(ua, sipgo.WithClientHostname(s.advertise), sipgo.WithClientPort(s.sipPort),
		sipgo.WithClientLogger(sipLog))
	s.srv.OnRegister(s.handle(s.onRegister))
	s.srv.OnMessage(s.handle(s.onMessage))
	s.srv.OnNotify(s.handle(s.onMessage))
	s.srv.OnBye(s.handle(s.onBye))
	s.srv.OnSubscribe(s.handle(s.onSubscribe))
	s.srv.OnInvite(s.handle(s.onInvite))
	s.srv.OnAck(s.handle(s.onAck))
	s.srv.OnInfo(s.handle(s.onInfo))
	s.srv.OnOptions(s.handle(func(req *sip.Request, tx sip.ServerTransaction) { s.reply(req, tx, sip.StatusOK, "OK") }))
	s.srv.OnNoRoute(s.handle(func(req *sip.Request, tx sip.ServerTransaction) {
		s.reply(req, tx, sip.StatusMethodNotAllowed, "Method Not Allowed")
	}))

	onDrop := func(reason string) { s.metrics.dropped.WithLabelValues(reason).Inc() }
	udp := &sipguard.PacketConn{
		Conn: pc, MaxMessageSize: int(s.Config.MaxMessageSize), Rate: s.Config.RateLimit, Burst: s.Config.RateBurst,
		MaxSources: s.Config.RateSources, Log: s.Log.With("component", "sipguard"), OnDrop: onDrop,
	}
	tcp := &sipguard.Listener{Listener: tl, Rate: s.Config.RateLimit, Burst: s.Config.RateBurst}
	s.udp, s.tcp = udp, tcp
	s.metrics.rateSources(s.Metrics, udp.Sources, tcp.Sources)
	s.serve.Go(func() {
		if err := s.srv.ServeUDP(s.udp); err != nil && s.ctx.Err() == nil {
			s.Log.Error("SIP UDP stopped", "err", err)
		}
	})
	s.serve.Go(func() {
		// ServeTCP returns only when the listener fails or is closed.
		if err := s.srv.ServeTCP(s.tcp); s.ctx.Err() == nil {
			s.Log.Error("SIP TCP stopped", "err", err)
		}
	})
	s.Log.Info("SIP listening", "udp", pc.LocalAddr().String(), "tcp", tl.Addr().String(), "advertise", s.advertise,
		"id", s.Config.ID, "domain", s.Config.Domain)
	return nil
}

// bindAttempts bounds the tries for one free port number on both UDP and
// TCP when sip.listen asks for any port (port 0).
const bindAttempts = 20

// listenBoth opens the UDP and TCP listeners on one port number, as devices
// expect. With any port asked for, the UDP port the kernel picks may be
// taken on TCP: then another is tried.
func listenBoth(listen, host string, anyPort bool) (net.PacketConn, net.Listener, error) {
	for attempt := 1; ; attempt++ {
		pc, err := net.ListenPacket("udp", listen)
		if err != nil {
			return nil, nil, fmt.Errorf("listen SIP UDP %s: %w", listen, err)
		}
		if uc, ok := pc.(*net.UDPConn); ok {
			// A registration storm arrives faster than one reader drains the
			// kernel's default 208 KiB; the kernel caps this at net.core.rmem_max.
			_ = uc.SetReadBuffer(udpBuffer)
			_ = uc.SetWriteBuffer(udpBuffer)
		}
		tcpAddr := listen
		if anyPort {
			tcpAddr = net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		}
		tl, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return pc, tl, nil
		}
		pc.Close()
		if !anyPort || !errors.Is(err, syscall.EADDRINUSE) || attempt == bindAttempts {
			return nil, nil, fmt.Errorf("listen SIP TCP %s: %w", tcpAddr, err)
		}
	}
}

// SIPAddr returns the address of the UDP (and TCP) listener.
func (s *Server) SIPAddr() net.Addr { return s.udp.LocalAddr() }

// advertiseAddr picks the IP to put in Via and Contact: the listen host if
// it is a specific address, else the address of the default route.
func advertiseAddr(listenHost string) string {
	if ip := net.ParseIP(listenHost); ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	// No packet is sent: connecting a UDP socket only selects the route.
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).IP.String()
	}
	return "127.0.0.1"
}

// runExpire completes multi-packet answers that stalled.
func (s *Server) runExpire() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			for _, res := range s.requests.expire(s.now()) {
				s.Log.Info("multi-packet answer incomplete", "device", res.DeviceID, "cmd", res.CmdType,
					"sn", res.SN, "items", res.Len(), "sum_num", res.SumNum)
			}
		}
	}
}

// Close stops serving, waits for the goroutines and writes the last state.
//
// The order matters: sipgo opens a new socket (with a reader goroutine)
// for any message sent once the listeners are gone, so first every handler
// and worker ends — nothing is sent after that — and only then are the
// listeners and the user agent closed.
func (s *Server) Close() {
	s.gate.Lock()
	s.gate.closing = true
	s.gate.Unlock()
	// Handlers first, so that the state they changed is in the writer's
	// last flush, which runs when the context ends.
	s.gate.handlers.Wait()
	s.cancel()
	s.wg.Wait()
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
	if s.ua != nil {
		s.ua.Close()
	}
	s.serve.Wait()
}

// spawn runs fn in a worker goroutine tracked by Close, unless Close began
// (then it reports false and fn never runs).
func (s *Server) spawn(fn func()) bool {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.gate.closing {
		return false
	}
	s.wg.Go(fn)
	return true
}

// background runs fn in a goroutine tracked by Close, with a bounded
// context; work asked for once Close began is dropped (its context would
// be cancelled anyway).
func (s *Server) background(fn func(ctx context.Context)) {
	s.spawn(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		defer cancel()
		fn(ctx)
	})
}

// deviceState returns a consistent copy of a device's state; ok is false
// for a device nobody registered.
func (s *Server) deviceState(id string) (snap deviceSnapshot, ok bool) {
	d := s.devices.get(id)
	if d == nil {
		return deviceSnapshot{}, false
	}
	return d.snapshot(), true
}

// registered returns the state of a registered device; an unknown one is
// ErrUnknownDevice, one not registered now ErrOffline.
func (s *Server) registered(id string) (deviceSnapshot, error) {
	snap, ok := s.deviceState(id)
	switch {
	case !ok:
		return snap, fmt.Errorf("device %s: %w", id, ErrUnknownDevice)
	case !snap.Registered:
		return snap, fmt.Errorf("device %s: %w", id, ErrOffline)
	}
	return snap, nil
}

// afterRegister starts the post-registration queries of a new registration.
func (s *Server) afterRegister(id string) { s.catalog.enqueue(id) }

// handle wraps a handler with metrics and panic safety: one bad message
// must never take the registrar down.
func (s *Server) handle(h func(*sip.Request, sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.gate.Lock()
		if s.gate.closing {
			s.gate.Unlock()
			return // shutting down: the device retransmits to the next process
		}
		s.gate.handlers.Add(1)
		s.gate.Unlock()
		defer s.gate.handlers.Done()
		defer func() {
			if r := recover(); r != nil {
				s.Log.Error("SIP handler panic", "method", req.Method, "from", req.Source(), "panic", r)
				s.reply(req, tx, sip.StatusInternalServerError, "Internal Error")
			}
		}()
		h(req, tx)
	}
}

func (s *Server) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	s.respond(req, tx, sip.NewResponseFromRequest(req, code, reason, nil))
}

func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	_ = s.tryRespond(req, tx, res)
}

// tryRespond is respond for a caller that must know whether the answer
// went out (an INVITE CANCELled meanwhile has ended its transaction).
func (s *Server) tryRespond(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) error {
	s.metrics.requests.WithLabelValues(req.Method.String(), strconv.Itoa(res.StatusCode/100)+"xx").Inc()
	err := tx.Respond(res)
	if err != nil {
		s.Log.Debug("send SIP response", "method", req.Method, "to", req.Source(), "err", err)
	}
	return err
}

// sipClient is the SIP client as the uplinks use it.
type sipClient struct{ c *sipgo.Client }

// Do sends req and returns its final response.
func (c sipClient) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return c.c.Do(ctx, req)
}
