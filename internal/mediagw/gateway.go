package mediagw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/revocation"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Transcoder gives H.264 readers on H.265 streams (transcode.Transcoder).
type Transcoder interface {
	Read(ctx context.Context, src *hub.Stream, readerName string) (*hub.Reader, error)
}

// Signalling is what the gateway tells sipserver (sipapi.Client). A
// StreamNeeded error matching svcapi.ErrNotFound is an unknown channel; any
// other is a stream that cannot start now.
type Signalling interface {
	// StreamNeeded asks for the live stream of path to be started.
	StreamNeeded(ctx context.Context, path string) error
	// StreamIdle says that path has had no viewer for the idle timeout.
	StreamIdle(ctx context.Context, path string) error
	// StreamEnded says that the receiver of path ended by itself.
	StreamEnded(ctx context.Context, path, reason string) error
	// SenderEnded says that an upward sender ended by itself.
	SenderEnded(ctx context.Context, id, reason string) error
}

// Events receives the gateway's events (Webhook).
type Events interface {
	Emit(e Event)
}

// Event is one gateway event, as sent by the webhook.
type Event struct {
	// Type is stream.ready, stream.closed, stream.idle, stream.needed or
	// sender.closed.
	Type string `json:"type"`
	// Path is the stream path.
	Path string `json:"path"`
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Reason says why a stream closed (rtp_timeout, disconnected, closed,
	// shutdown) or why a stream.needed failed.
	Reason string `json:"reason,omitempty"`
	// Receiver is the receiver id, when there is one (the sender's, for
	// sender.closed).
	Receiver string `json:"receiver,omitempty"`
	// VideoCodec, Width and Height describe a ready stream.
	VideoCodec string `json:"video_codec,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
}

// Gateway owns mediagw's streams: receivers publish into the hub, and the
// outputs reach streams through it (it is their access.Source), which is
// where play tokens are checked, streams are started on demand and H.265 is
// swapped for its H.264 transcode.
type Gateway struct {
	// Hub holds the streams.
	Hub *hub.Hub
	// AdvertiseIP is the IP returned for receivers (where devices send
	// media); it also names this mediagw (the node) in audit rows.
	AdvertiseIP string
	// ListenIP is the IP receivers bind ("" = all).
	ListenIP string
	// Mux is the shared UDP port; nil disables shared receivers.
	Mux *ingest.UDPMux
	// UDPPoller reads the per-stream UDP ports; nil means a poller of the
	// gateway's own, with the defaults.
	UDPPoller *ingest.UDPPoller
	// Ports hands out per-stream ports.
	Ports *ingest.PortAllocator
	// RTPTimeout, ConnectTimeout, ReconnectGrace, ReorderPackets and
	// ReorderDelay configure every receiver. ConnectTimeout bounds a
	// tcp-active dial and how long a tcp-passive receiver holds a
	// connection from an IP not allowed yet (ingest.TCPPassive.HoldTimeout).
	RTPTimeout     time.Duration
	ConnectTimeout time.Duration
	ReconnectGrace time.Duration
	ReorderPackets int
	ReorderDelay   time.Duration
	// Signer checks play tokens; nil refuses every play request unless
	// AuthOff is set.
	Signer *playtoken.Signer
	// AuthOff opens every stream without a token (explicit configuration).
	AuthOff bool
	// Transcoder serves H264Only readers of H.265 streams; nil refuses them.
	Transcoder Transcoder
	// Signalling is sipserver; nil disables on-demand start and idle calls.
	Signalling Signalling
	// OnDemandWait bounds how long a viewer waits for a stream.
	OnDemandWait time.Duration
	// DownloadHoldBytes bounds what a download/… stream keeps for its first
	// reader (hub.PublishHold); 0 means DefaultDownloadHoldBytes, a
	// negative value publishes downloads like live streams.
	DownloadHoldBytes int
	// DownloadHold is how long a download whose receiver closed waits for
	// its first reader; 0 means DefaultDownloadHold.
	DownloadHold time.Duration
	// DownloadHoldTotal bounds the media all held downloads may keep: each
	// reserves DownloadHoldBytes from its open until its stream closes, and
	// a download that would take the reservations beyond the bound is
	// refused (mediaapi.ErrHoldsFull). 0 means DefaultDownloadHoldTotal.
	DownloadHoldTotal int
	// Events receives events; nil discards them.
	Events Events
	// Audit stores every media open (Opened) as a row of the console's
	// audit table. nil stores nothing: every open is then refused unless
	// AuditFailOpen, which admits it with the log line only (counted as
	// unaudited).
	Audit Auditor
	// AuditFailOpen admits a viewer whose audit row could not be stored
	// (logged and counted). The default refuses it: no video without its
	// audit row. A token the console refuses as revoked is refused anyway.
	AuditFailOpen bool
	// Revocation ends the viewers of users' play tokens the console
	// revoked and refuses those tokens here from then on. nil checks a
	// token only when its viewer opens (the console refuses a revoked one
	// then).
	Revocation *revocation.Watch
	// Log receives one line per receiver and stream event.
	Log *slog.Logger

	ownPoller *ingest.UDPPoller // when UDPPoller was nil

	mu        sync.Mutex
	closed    bool
	receivers map[string]*receiver // by id
	senders   map[string]*upSender // by id
	paths     map[string]*path     // by name, while their loop runs
	onDemand  onDemandCounts
	audits    auditCounts
	ended     endedTotals
	// holds is the number of held downloads (receivers with held);
	// holdsRefused counts the downloads refused for DownloadHoldTotal.
	holds        int
	holdsRefused uint64
	wg           sync.WaitGroup
	ctx          context.Context
	cancel       context.CancelFunc

	// newTimer makes the on-demand and hold timers (tests fire their own);
	// onTransition, when set, sees every path state change (tests).
	newTimer     func(time.Duration) timer
	onTransition func(path string, from, to pathState)
}

// Defaults of the download hold.
const (
	DefaultDownloadHoldBytes = 640 << 20
	DefaultDownloadHold      = 30 * time.Second
	DefaultDownloadHoldTotal = 2 << 30
)

// onDemandCounts count on-demand outcomes for metrics.
type onDemandCounts struct {
	started, failed, timedOut uint64
}

// auditCounts count media-open audit outcomes for metrics: stored, not
// stored with the viewer refused, failed with the viewer admitted (fail
// open), admitted with no auditor at all (Audit nil, fail open), and
// refused by the console as revoked.
type auditCounts struct {
	stored, refused, admitted, unaudited, revoked uint64
}

// endedTotals keep the ingest counters of receivers that ended, so that the
// gateway-wide totals of /metrics never go down.
type endedTotals struct {
	packets, lost, foreignSSRC, foreignSource, invalid, demuxErrors uint64
}

// ingestTotals returns the ingest counters of every receiver, those that
// ended included, and the number of open receivers by transport.
func (g *Gateway) ingestTotals() (endedTotals, map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.ended
	byTransport := map[string]int{mediaapi.TransportUDP: 0, mediaapi.TransportTCPPassive: 0, mediaapi.TransportTCPActive: 0}
	for _, r := range g.receivers {
		byTransport[r.transport]++
		t.add(r.rcv.Stats())
	}
	return t, byTransport
}

func (e *endedTotals) add(s ingest.Stats) {
	e.packets += s.Packets
	e.lost += s.Lost
	e.foreignSSRC += s.ForeignSSRC
	e.foreignSource += s.ForeignSource
	e.invalid += s.Invalid
	e.demuxErrors += s.DemuxErrors
}

// Initialize checks the configuration.
func (g *Gateway) Initialize() error {
	if g.Hub == nil || g.Ports == nil {
		return fmt.Errorf("initialize gateway: %w: hub and ports are required", ErrInvalid)
	}
	if g.Log == nil {
		g.Log = slog.New(slog.DiscardHandler)
	}
	if g.OnDemandWait <= 0 {
		g.OnDemandWait = 8 * time.Second
	}
	if g.AdvertiseIP == "" {
		g.AdvertiseIP = "127.0.0.1"
	}
	if g.DownloadHoldBytes == 0 {
		g.DownloadHoldBytes = DefaultDownloadHoldBytes
	}
	if g.DownloadHold <= 0 {
		g.DownloadHold = DefaultDownloadHold
	}
	if g.DownloadHoldTotal <= 0 {
		g.DownloadHoldTotal = DefaultDownloadHoldTotal
	}
	if g.DownloadHoldBytes > g.DownloadHoldTotal {
		return fmt.Errorf("initialize gateway: %w: a download hold of %d bytes exceeds the total of %d: no download could be held",
			ErrInvalid, g.DownloadHoldBytes, g.DownloadHoldTotal)
	}
	if g.UDPPoller == nil {
		g.ownPoller = &ingest.UDPPoller{}
		if err := g.ownPoller.Initialize(); err != nil {
			return fmt.Errorf("initialize gateway: %w", err)
		}
		g.UDPPoller = g.ownPoller
	}
	g.receivers = make(map[string]*receiver)
	g.senders = make(map[string]*upSender)
	g.paths = make(map[string]*path)
	if g.newTimer == nil {
		g.newTimer = newRealTimer
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return nil
}

// Close closes every receiver (sipserver is not told: it sees mediagw go
// away) and waits for the gateway's goroutines.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	rs := make([]*receiver, 0, len(g.receivers))
	for _, r := range g.receivers {
		r.byAPI = true
		rs = append(rs, r)
	}
	g.mu.Unlock()
	g.cancel() // wakes viewers waiting for on-demand streams
	g.closeSenders()
	for _, r := range rs {
		g.stopTransport(r) // ends the receiver with ErrTransportClosed: reason "shutdown"
		r.rcv.Close()
	}
	g.wg.Wait()
	if g.ownPoller != nil {
		g.ownPoller.Close()
	}
}

// Open opens a receiver and publishes its path.
func (g *Gateway) Open(req mediaapi.OpenRequest) (mediaapi.Receiver, error) {
	if err := streampath.Valid(req.Path); err != nil {
		return mediaapi.Receiver{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	ssrc, err := parseSSRC(req.SSRC)
	if err != nil {
		return mediaapi.Receiver{}, err
	}
	allow, err := parseAllowIPs(req.AllowIPs)
	if err != nil {
		return mediaapi.Receiver{}, err
	}
	switch req.Transport {
	case mediaapi.TransportUDP:
		if req.Shared && g.Mux == nil {
			return mediaapi.Receiver{}, fmt.Errorf("%w: the shared UDP port is disabled (rtp.udp_listen)", ErrInvalid)
		}
		if req.Shared && ssrc == 0 {
			return mediaapi.Receiver{}, fmt.Errorf("%w: a receiver on the shared UDP port needs an ssrc", ErrInvalid)
		}
	case mediaapi.TransportTCPPassive, mediaapi.TransportTCPActive:
		if req.Shared {
			return mediaapi.Receiver{}, fmt.Errorf("%w: shared applies to udp only", ErrInvalid)
		}
	default:
		return mediaapi.Receiver{}, fmt.Errorf("%w: transport must be udp, tcp-passive or tcp-active, got %q", ErrInvalid, req.Transport)
	}

	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return mediaapi.Receiver{}, ErrClosed
	}
	// The hub publishes a path once: a concurrent Open of the same path
	// fails here, before the transport binds. A held download's stream
	// stays published until its reader has it.
	var st *hub.Stream
	// Download sessions' streams are held for their reader.
	held := streampath.KindOf(req.Path) == streampath.KindDownload && g.DownloadHoldBytes > 0
	if held {
		// Each held download may grow to DownloadHoldBytes, so it reserves
		// that much: a hard bound on memory that never takes media from a
		// download already accepted. The one refused fails at once, with
		// the reason, while the device has not started sending.
		if reserved := (g.holds + 1) * g.DownloadHoldBytes; reserved > g.DownloadHoldTotal {
			g.holdsRefused++
			n := g.holds
			g.mu.Unlock()
			g.Log.Warn("download refused: download holds full", "path", req.Path, "held", n,
				"hold_bytes", g.DownloadHoldBytes, "hold_total", g.DownloadHoldTotal)
			return mediaapi.Receiver{}, fmt.Errorf("open receiver %s: %w: %d downloads held, each may keep %d bytes "+
				"(downloads.hold_bytes) and downloads.hold_total is %d bytes; retry once one has been read",
				req.Path, mediaapi.ErrHoldsFull, n, g.DownloadHoldBytes, g.DownloadHoldTotal)
		}
		// A download keeps everything for its reader, which may come after
		// the device has finished (a short clip at 4×).
		st, err = g.Hub.PublishHold(req.Path, g.DownloadHoldBytes)
	} else {
		st, err = g.Hub.Publish(req.Path)
	}
	if err != nil {
		g.mu.Unlock()
		if errors.Is(err, hub.ErrHubClosed) {
			return mediaapi.Receiver{}, fmt.Errorf("open receiver %s: %w", req.Path, ErrClosed)
		}
		return mediaapi.Receiver{}, fmt.Errorf("open receiver %s: %w: %w", req.Path, mediaapi.ErrPathBusy, err)
	}
	r := &receiver{
		id: newReceiverID(), path: req.Path, transport: req.Transport, shared: req.Shared,
		ip: g.AdvertiseIP, created: time.Now(), stream: st, ssrc: ssrc, ended: make(chan struct{}),
		held: held,
	}
	if held {
		g.holds++
	}
	r.rcv = &ingest.Receiver{
		Path: req.Path, SSRC: ssrc, Sink: streamSink{st}, Timeout: g.RTPTimeout,
		ReorderPackets: g.ReorderPackets, ReorderDelay: g.ReorderDelay, AllowIPs: allow, Log: g.Log,
	}
	g.mu.Unlock()

	if err := g.startTransport(r); err != nil {
		g.mu.Lock()
		g.releaseHoldLocked(r)
		g.mu.Unlock()
		st.Close()
		return mediaapi.Receiver{}, err
	}
	if err := g.publish(r); err != nil {
		// Close ran while the transport was binding (r may be closed by
		// it too: closing is idempotent).
		g.stopTransport(r)
		r.rcv.Close()
		st.Close()
		g.mu.Lock()
		delete(g.receivers, r.id)
		g.releaseHoldLocked(r)
		g.mu.Unlock()
		close(r.ended)
		return mediaapi.Receiver{}, err
	}
	g.Log.Info("receiver opened", "path", r.path, "receiver", r.id, "transport", r.transport,
		"shared", r.shared, "port", r.port, "ssrc", formatSSRC(ssrc), "allow_ips", req.AllowIPs)
	return r.info(), nil
}

// startTransport initializes r's ingest.Receiver and binds its transport.
func (g *Gateway) startTransport(r *receiver) error {
	if err := r.rcv.Initialize(); err != nil {
		return fmt.Errorf("open receiver %s: %w", r.path, err)
	}
	fail := func(err error) error {
		r.rcv.Close()
		return fmt.Errorf("open receiver %s: %w", r.path, err)
	}
	switch {
	case r.transport == mediaapi.TransportUDP && r.shared:
		if err := g.Mux.Register(r.rcv); err != nil {
			return fail(err)
		}
		r.port = g.Mux.Addr().Port
		r.closer = func() { g.Mux.Unregister(r.rcv) }
	case r.transport == mediaapi.TransportUDP:
		u := &ingest.UDPPort{Receiver: r.rcv, Ports: g.Ports, IP: g.ListenIP, Poller: g.UDPPoller}
		if err := u.Initialize(); err != nil {
			return fail(err)
		}
		r.port = u.Port()
		r.closer = u.Close
	case r.transport == mediaapi.TransportTCPPassive:
		// A device connecting from its media IP before sipserver's PATCH
		// added it is held for as long as a dial to a device may take.
		t := &ingest.TCPPassive{
			Receiver: r.rcv, Ports: g.Ports, IP: g.ListenIP, ReconnectGrace: g.ReconnectGrace,
			HoldTimeout: g.ConnectTimeout, Log: g.Log,
		}
		if err := t.Initialize(); err != nil {
			return fail(err)
		}
		r.port = t.Port()
		r.closer = t.Close
	default: // tcp-active: the transport starts with Connect
		r.port = discardPort
	}
	return nil
}

// Connect starts a tcp-active receiver's connection to the device.
func (g *Gateway) Connect(id, ip string, port int) (mediaapi.Receiver, error) {
	addr, err := dialAddress(ip, port)
	if err != nil {
		return mediaapi.Receiver{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.receivers[id]
	if !ok {
		return mediaapi.Receiver{}, fmt.Errorf("%w: %s", ErrNoReceiver, id)
	}
	if r.transport != mediaapi.TransportTCPActive {
		return mediaapi.Receiver{}, fmt.Errorf("%w: receiver %s is %s, connect is for tcp-active", ErrInvalid, id, r.transport)
	}
	if r.closer != nil {
		return mediaapi.Receiver{}, fmt.Errorf("%w: receiver %s is already connected to %s", ErrInvalid, id, r.remote)
	}
	if r.rcv.Err() != nil {
		return mediaapi.Receiver{}, fmt.Errorf("%w: %s has ended", ErrNoReceiver, id)
	}
	t := &ingest.TCPActive{Receiver: r.rcv, Address: addr, DialTimeout: g.ConnectTimeout, ReconnectGrace: g.ReconnectGrace, Log: g.Log}
	if err := t.Initialize(); err != nil {
		return mediaapi.Receiver{}, fmt.Errorf("connect receiver %s: %w", id, err)
	}
	r.closer = t.Close
	r.remote = addr
	g.Log.Info("receiver connecting", "path", r.path, "receiver", id, "remote", addr)
	return r.info(), nil
}

// runningLocked returns the receiver id if it has not ended; g.mu held.
func (g *Gateway) runningLocked(id string) (*receiver, error) {
	r, ok := g.receivers[id]
	if !ok || r.rcv.Err() != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoReceiver, id)
	}
	return r, nil
}

// UpdateReceiver changes what a running receiver accepts after the SDP
// answer: ssrc is the SSRC the device answered with, allow the addresses
// media may come from (sipserver sends the device's signalling IP and the
// c= IP of its answer). A nil one is left as it is. Both are checked
// before either is applied, and both are applied together.
func (g *Gateway) UpdateReceiver(id string, ssrc *string, allow *[]string, paused *bool) (mediaapi.Receiver, error) {
	if ssrc == nil && allow == nil && paused == nil {
		return mediaapi.Receiver{}, fmt.Errorf("%w: nothing to change (ssrc, allow_ips, paused)", ErrInvalid)
	}
	var (
		n   uint32
		ips []netip.Addr
		err error
	)
	if ssrc != nil {
		if n, err = parseSSRC(*ssrc); err != nil {
			return mediaapi.Receiver{}, err
		}
	}
	if allow != nil {
		if ips, err = parseAllowIPs(*allow); err != nil {
			return mediaapi.Receiver{}, err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r, err := g.runningLocked(id)
	if err != nil {
		return mediaapi.Receiver{}, err
	}
	// The SSRC first: it is the change that can be refused (taken on the
	// shared port: 409), and then nothing is applied.
	if ssrc != nil {
		if r.shared {
			if n == 0 {
				return mediaapi.Receiver{}, fmt.Errorf("%w: a receiver on the shared UDP port needs an ssrc", ErrInvalid)
			}
			if err := g.Mux.SetSSRC(r.rcv, n); err != nil {
				return mediaapi.Receiver{}, fmt.Errorf("set ssrc of %s: %w", id, err)
			}
		} else {
			r.rcv.SetSSRC(n)
		}
		g.Log.Info("receiver ssrc changed", "path", r.path, "receiver", id, "from", formatSSRC(r.ssrc), "to", formatSSRC(n))
		r.ssrc = n
	}
	if allow != nil {
		r.rcv.SetAllowIPs(ips)
		g.Log.Info("receiver sources set", "path", r.path, "receiver", id, "allow_ips", *allow)
	}
	if paused != nil {
		r.rcv.SetPaused(*paused)
		g.Log.Info("receiver paused", "path", r.path, "receiver", id, "paused", *paused)
	}
	return r.info(), nil
}

// CloseReceiver closes a receiver at its owner's request.
func (g *Gateway) CloseReceiver(id string) error {
	g.mu.Lock()
	r, ok := g.receivers[id]
	if ok {
		r.byAPI = true
	}
	g.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoReceiver, id)
	}
	r.rcv.Close()
	// A download's stream outlives its receiver until its reader has it
	// all; the caller only waits for the receiver.
	<-r.ended
	return nil
}

// Receiver returns one receiver.
func (g *Gateway) Receiver(id string) (mediaapi.Receiver, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.receivers[id]
	if !ok {
		return mediaapi.Receiver{}, fmt.Errorf("%w: %s", ErrNoReceiver, id)
	}
	return r.info(), nil
}

// Receivers lists the receivers by path.
func (g *Gateway) Receivers() []mediaapi.Receiver {
	g.mu.Lock()
	out := make([]mediaapi.Receiver, 0, len(g.receivers))
	for _, r := range g.receivers {
		out = append(out, r.info())
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// stopTransport closes r's transport once; its closer is set by Open and
// Connect under mu.
func (g *Gateway) stopTransport(r *receiver) {
	g.mu.Lock()
	closer := r.closer
	r.closer = func() {}
	g.mu.Unlock()
	if closer != nil {
		closer()
	}
}

// receiverOf returns the receiver publishing path (a held download's
// until its stream closes).
func (g *Gateway) receiverOf(name string) (*receiver, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.paths[name]; ok && p.rcv != nil {
		return p.rcv, true
	}
	return nil, false
}

// pathOf returns the path name, starting its loop if it has none.
func (g *Gateway) pathOf(name string) (*path, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pathLocked(name)
}

// pathLocked is pathOf with g.mu held.
func (g *Gateway) pathLocked(name string) (*path, error) {
	if g.closed {
		return nil, ErrClosed
	}
	p, ok := g.paths[name]
	if !ok {
		p = newPath(g, name)
		g.paths[name] = p
		g.wg.Add(1)
		go p.run()
	}
	return p, nil
}

// forget drops p once its loop has ended; a later request starts a new one.
func (g *Gateway) forget(p *path) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paths[p.name] == p {
		delete(g.paths, p.name)
	}
}

// publish registers the open receiver r and hands it to its path. r is
// registered in the critical section that saw the gateway open: a Close
// after it closes r with the others, and one before it makes publish fail.
func (g *Gateway) publish(r *receiver) error {
	for {
		g.mu.Lock()
		p, err := g.pathLocked(r.path)
		if err == nil {
			g.receivers[r.id] = r
		}
		g.mu.Unlock()
		if err != nil {
			return err
		}
		req := publishReq{r: r, reply: make(chan error, 1)}
		select {
		case p.publish <- req:
			// The loop answers every request it takes (onPublish).
			if err := <-req.reply; !errors.Is(err, errPathEnded) {
				return err
			}
		case <-p.done:
		}
		// The path ended as r came: its successor takes r.
	}
}

// releaseHoldLocked gives back r's share of DownloadHoldTotal; g.mu held.
// It is called once per receiver: by Open when the receiver does not open,
// else by its path when its stream has closed.
func (g *Gateway) releaseHoldLocked(r *receiver) {
	if r.held {
		g.holds--
	}
}

// OnIdle is the hub's idle callback: s has had no reader for the idle
// timeout, so sipserver may end the session. The path of s decides, and
// only while s is its stream.
func (g *Gateway) OnIdle(s *hub.Stream) {
	if strings.Contains(s.Path(), "~") {
		return // transcodes stop by themselves
	}
	g.mu.Lock()
	p, ok := g.paths[s.Path()]
	g.mu.Unlock()
	if !ok {
		return
	}
	select {
	case p.idle <- s:
	case <-p.done:
	case <-g.ctx.Done():
	}
}

// signal makes one call to sipserver for path in the background, bounded
// by 10 s and the gateway's life; what names it in the log.
func (g *Gateway) signal(path, what, reason string, call func(context.Context, Signalling) error) {
	if g.Signalling == nil {
		return
	}
	g.wg.Add(1) // from a path's loop, itself counted: never after Wait began
	go func() {
		defer g.wg.Done()
		ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
		defer cancel()
		if err := call(ctx, g.Signalling); err != nil {
			g.Log.Warn("cannot tell sipserver: stream "+what, "path", path, "reason", reason, "error", err)
		}
	}()
}

func (g *Gateway) emit(e Event) {
	if g.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	g.Events.Emit(e)
}

func codecName(c ps.Codec) string {
	if c == ps.CodecUnknown {
		return ""
	}
	return c.String()
}

// Authorize implements access.Source: it checks the play token.
func (g *Gateway) Authorize(req access.Request) error {
	_, err := g.authorize(req)
	return err
}

func (g *Gateway) authorize(req access.Request) (playtoken.Claims, error) {
	if g.AuthOff {
		return playtoken.Claims{}, nil
	}
	if g.Signer == nil {
		return playtoken.Claims{}, fmt.Errorf("%w: play tokens are not configured (play_token_secret)", access.ErrUnauthorized)
	}
	if req.Token == "" {
		return playtoken.Claims{}, fmt.Errorf("%w: no token", access.ErrUnauthorized)
	}
	c, err := g.Signer.Verify(req.Token, req.Path, time.Now())
	if err != nil {
		return c, fmt.Errorf("%w: %w", access.ErrUnauthorized, err)
	}
	if g.Revocation != nil {
		if err := g.Revocation.Admit(c); err != nil {
			return c, fmt.Errorf("%w: %w", access.ErrUnauthorized, err)
		}
	}
	return c, nil
}

// Read implements access.Source: it checks the token, starts the stream on
// demand, waits until it is ready and attaches a reader, on the H.264
// transcode for H264Only requests of an H.265 stream.
func (g *Gateway) Read(ctx context.Context, req access.Request) (*hub.Reader, error) {
	claims, err := g.authorize(req)
	if err != nil {
		g.Log.Warn("play refused", "path", req.Path, "protocol", req.Protocol, "remote", req.Remote, "error", err)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.OnDemandWait)
	defer cancel()
	start := time.Now()
	st, err := g.stream(ctx, req.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.Path, err)
	}
	if err := access.WaitReady(ctx, st); err != nil {
		return nil, fmt.Errorf("read %s: %w", req.Path, err)
	}
	name := access.ReaderName(req)
	var r *hub.Reader
	if req.H264Only && access.VideoCodec(st.Tracks()) == ps.CodecH265 {
		if g.Transcoder == nil {
			return nil, fmt.Errorf("read %s: H.265 for a browser needs the transcode: %w", req.Path, access.ErrUnavailable)
		}
		r, err = g.Transcoder.Read(ctx, st, name)
	} else {
		r, err = st.AddReader(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w: %w", req.Path, access.ErrUnavailable, err)
	}
	g.Log.Debug("reader attached", "path", req.Path, "protocol", req.Protocol, "remote", req.Remote,
		"subject", claims.Subject, "transcoded", r.Path() != req.Path, "wait", time.Since(start).Round(time.Millisecond))
	return r, nil
}

// Opened implements access.Source: the audit of a media open. The row
// (user from the token's subject, path, client address, protocol) must be
// stored by the console before the viewer gets media; when it is not, the
// viewer is refused (access.ErrUnavailable: 503) unless AuditFailOpen.
func (g *Gateway) Opened(ctx context.Context, req access.Request) error {
	// The token is checked again: the subject comes from it, and a token
	// that expired while the stream started opens nothing.
	claims, err := g.authorize(req)
	if err != nil {
		g.Log.Warn("play refused", "path", req.Path, "protocol", req.Protocol, "remote", req.Remote, "error", err)
		return err
	}
	m := auditapi.MediaOpen{
		At: time.Now().UTC(), User: claims.Subject, Path: req.Path, Protocol: req.Protocol,
		Remote: req.Remote, Node: g.AdvertiseIP,
	}
	if claims.Revocable() {
		// The console refuses the open of a token revoked since its issue.
		m.IssuedAt = time.Unix(claims.IssuedAt, 0).UTC()
	}
	// No auditor stores nothing: that is a row not stored like any other
	// (a zero-value Gateway must not fail open), only counted apart.
	if g.Audit == nil {
		err = fmt.Errorf("%w: no auditor (audit.console_url is not set)", ErrAuditNotStored)
	} else {
		err = g.Audit.MediaOpen(ctx, m)
	}
	if errors.Is(err, auditapi.ErrRevoked) {
		// Stored, and refused whatever AuditFailOpen says; the token's
		// other viewers end at the next revocation round.
		g.mu.Lock()
		g.audits.revoked++
		g.mu.Unlock()
		if g.Revocation != nil {
			g.Revocation.Revoke(claims)
		}
		g.Log.Warn("video access refused: play token revoked", "path", req.Path, "protocol", req.Protocol,
			"remote", req.Remote, "subject", claims.Subject, "error", err)
		return fmt.Errorf("%w: %w", access.ErrUnauthorized, err)
	}
	g.countAudit(err)
	// The log line stays even with the row: every video access names who,
	// what, how and from where.
	if err != nil {
		if !g.AuditFailOpen {
			g.Log.Warn("video access refused: audit row not stored", "path", req.Path, "protocol", req.Protocol,
				"remote", req.Remote, "subject", claims.Subject, "error", err)
			return fmt.Errorf("%w: %w", access.ErrUnavailable, err)
		}
		if g.Audit != nil {
			// Without an auditor this is the configuration, said once at
			// start; a failed call is news.
			g.Log.Warn("audit row not stored, access admitted (audit.fail_closed: false)", "path", req.Path,
				"protocol", req.Protocol, "remote", req.Remote, "subject", claims.Subject, "error", err)
		}
	}
	g.Log.Info("video access", "path", req.Path, "protocol", req.Protocol, "remote", req.Remote,
		"subject", claims.Subject, "audited", err == nil)
	return nil
}

// countAudit counts the outcome of a media open's audit row: err is the
// row's storing error.
func (g *Gateway) countAudit(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil:
		g.audits.stored++
	case !g.AuditFailOpen:
		g.audits.refused++
	case g.Audit == nil:
		g.audits.unaudited++
	default:
		g.audits.admitted++
	}
}

// stream returns the stream of path, asking sipserver to start it when
// there is none and waiting until it is published.
func (g *Gateway) stream(ctx context.Context, name string) (*hub.Stream, error) {
	if st, ok := g.Hub.Stream(name); ok {
		return st, nil
	}
	if kind, _, err := streampath.Parse(name); g.Signalling == nil || err != nil || kind != streampath.KindLive {
		return nil, fmt.Errorf("%w: nothing is published at %s", access.ErrNotFound, name)
	}
	reply := make(chan wantResult, 1)
	for {
		p, err := g.pathOf(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", access.ErrUnavailable, err)
		}
		select {
		case p.want <- reply:
		case <-p.done:
			continue // the path closed as the reader came: ask its successor
		case <-ctx.Done():
			return nil, g.timedOut(name)
		}
		break
	}
	select {
	case res := <-reply:
		return res.stream, res.err
	case <-g.ctx.Done():
		return nil, fmt.Errorf("%w: shutting down", access.ErrUnavailable)
	case <-ctx.Done():
		return nil, g.timedOut(name)
	}
}

func (g *Gateway) timedOut(name string) error {
	g.mu.Lock()
	g.onDemand.timedOut++
	g.mu.Unlock()
	return fmt.Errorf("%w: %s did not start within %s", access.ErrUnavailable, name, g.OnDemandWait)
}

// callNeeded makes p's one stream-needed call, for every reader waiting,
// and hands the answer to p's loop.
func (g *Gateway) callNeeded(p *path) {
	g.emit(Event{Type: "stream.needed", Path: p.name})
	g.wg.Add(1) // from p's loop, itself counted
	go func() {
		defer g.wg.Done()
		ctx, cancel := context.WithTimeout(g.ctx, g.OnDemandWait)
		defer cancel()
		start := time.Now()
		err := g.Signalling.StreamNeeded(ctx, p.name)
		switch {
		case err == nil:
		case errors.Is(err, svcapi.ErrNotFound):
			err = fmt.Errorf("%w: %w", access.ErrNotFound, err)
		default: // refused, offline, busy, no answer in time, unreachable
			err = fmt.Errorf("%w: %w", access.ErrUnavailable, err)
		}
		g.mu.Lock()
		if err != nil {
			g.onDemand.failed++
		} else {
			g.onDemand.started++
		}
		g.mu.Unlock()
		if err != nil {
			g.Log.Warn("stream needed: sipserver could not start it", "path", p.name, "error", err)
			g.emit(Event{Type: "stream.closed", Path: p.name, Reason: "start_failed: " + err.Error()})
		} else {
			g.Log.Info("stream needed: sipserver started it", "path", p.name, "took", time.Since(start).Round(time.Millisecond))
		}
		p.neededCh <- err // buffered: the loop may have ended at shutdown
	}()
}
