package mediagw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/sender"
)

// ErrNoSender is a sender ID that is not open.
var ErrNoSender = errors.New("mediagw: no such sender")

// senderReader is the hub reader name of upward senders, in stream stats.
const senderReader = "cascade"

// upSender is one open sender: a stream going up to a superior platform.
type upSender struct {
	id      string
	req     mediaapi.SenderRequest
	created time.Time
	snd     *sender.Sender
}

// streamSource is a sender's source: it attaches to the stream on its
// first unit, starting it on demand like a viewer, so that opening a
// sender answers at once.
type streamSource struct {
	g    *Gateway
	path string

	mu     sync.Mutex
	reader *hub.Reader
	closed bool
}

// Next returns the stream's next unit, attaching first.
func (s *streamSource) Next(ctx context.Context) (hub.Unit, error) {
	s.mu.Lock()
	r, closed := s.reader, s.closed
	s.mu.Unlock()
	if closed {
		return hub.Unit{}, hub.ErrReaderClosed
	}
	if r == nil {
		wctx, cancel := context.WithTimeout(ctx, s.g.OnDemandWait)
		st, err := s.g.stream(wctx, s.path)
		if err == nil {
			err = access.WaitReady(wctx, st)
		}
		cancel()
		if err != nil {
			return hub.Unit{}, err
		}
		if r, err = st.AddReader(senderReader); err != nil {
			return hub.Unit{}, err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			r.Close()
			return hub.Unit{}, hub.ErrReaderClosed
		}
		s.reader = r
		s.mu.Unlock()
	}
	return r.Next(ctx)
}

// Close detaches from the stream (which may then stop when idle).
func (s *streamSource) Close() {
	s.mu.Lock()
	s.closed = true
	r := s.reader
	s.mu.Unlock()
	if r != nil {
		r.Close()
	}
}

// OpenSender starts sending req.Path to a superior platform.
func (g *Gateway) OpenSender(req mediaapi.SenderRequest) (mediaapi.Sender, error) {
	if err := streampath.Valid(req.Path); err != nil {
		return mediaapi.Sender{}, fmt.Errorf("%w: path %q: %w", ErrInvalid, req.Path, err)
	}
	ssrc, err := strconv.ParseUint(req.SSRC, 10, 32)
	if err != nil {
		return mediaapi.Sender{}, fmt.Errorf("%w: ssrc %q: a decimal 32-bit number", ErrInvalid, req.SSRC)
	}
	switch req.Transport {
	case mediaapi.SenderUDP, mediaapi.SenderTCPConnect:
		if _, _, err := net.SplitHostPort(req.Dest); err != nil {
			return mediaapi.Sender{}, fmt.Errorf("%w: dest %q: ip:port", ErrInvalid, req.Dest)
		}
	case mediaapi.SenderTCPListen:
		if len(req.AllowIPs) == 0 {
			return mediaapi.Sender{}, fmt.Errorf("%w: allow_ips: the superior's addresses, which alone may connect", ErrInvalid)
		}
	default:
		return mediaapi.Sender{}, fmt.Errorf("%w: transport %q: udp, tcp-connect or tcp-listen", ErrInvalid, req.Transport)
	}
	var allow []netip.Addr
	for _, a := range req.AllowIPs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return mediaapi.Sender{}, fmt.Errorf("%w: allow_ips: %q is not an IP address", ErrInvalid, a)
		}
		allow = append(allow, ip.Unmap())
	}
	if req.Subject == "" || len(req.Subject) > 256 {
		return mediaapi.Sender{}, fmt.Errorf("%w: subject: who the stream goes to, 1–256 bytes", ErrInvalid)
	}
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return mediaapi.Sender{}, fmt.Errorf("%w: shutting down", ErrClosed)
	}
	if err := g.auditSender(req); err != nil {
		return mediaapi.Sender{}, err
	}
	u := &upSender{id: newReceiverID(), req: req, created: time.Now()}
	u.snd = &sender.Sender{
		AllowIPs: allow,
		Source:   &streamSource{g: g, path: req.Path}, SSRC: uint32(ssrc), Transport: req.Transport, Dest: req.Dest,
		LocalIP: g.ListenIP, Log: g.Log.With("sender", u.id, "path", req.Path),
		OnEnd: func(err error) { g.senderEnded(u, err) },
	}
	// In the table before it starts: one that ends at once (its peer
	// refused the connection) is found there and reported.
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return mediaapi.Sender{}, fmt.Errorf("%w: shutting down", ErrClosed)
	}
	g.senders[u.id] = u
	g.mu.Unlock()
	if err := u.snd.Initialize(); err != nil {
		g.mu.Lock()
		delete(g.senders, u.id)
		g.mu.Unlock()
		if errors.Is(err, sender.ErrConfig) {
			err = fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return mediaapi.Sender{}, err
	}
	g.Log.Info("sender opened", "sender", u.id, "path", req.Path, "transport", req.Transport, "dest", req.Dest, "ssrc", req.SSRC)
	return g.senderView(u), nil
}

// senderEnded forgets a sender that stopped by itself and says so.
func (g *Gateway) senderEnded(u *upSender, err error) {
	g.mu.Lock()
	_, open := g.senders[u.id]
	delete(g.senders, u.id)
	g.mu.Unlock()
	if open {
		reason := senderReason(err)
		g.emit(Event{Type: "sender.closed", Path: u.req.Path, Receiver: u.id, Reason: reason})
		g.signal(u.req.Path, "sender ended", reason, func(ctx context.Context, sig Signalling) error {
			return sig.SenderEnded(ctx, u.id, reason)
		})
	}
}

// CloseSender stops sender id.
func (g *Gateway) CloseSender(id string) error {
	g.mu.Lock()
	u, ok := g.senders[id]
	delete(g.senders, id)
	g.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoSender, id)
	}
	u.snd.Close()
	g.Log.Info("sender closed", "sender", id, "path", u.req.Path)
	return nil
}

// Senders lists the open senders by creation.
func (g *Gateway) Senders() []mediaapi.Sender {
	g.mu.Lock()
	us := make([]*upSender, 0, len(g.senders))
	for _, u := range g.senders {
		us = append(us, u)
	}
	g.mu.Unlock()
	out := make([]mediaapi.Sender, 0, len(us))
	for _, u := range us {
		out = append(out, g.senderView(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// closeSenders stops every sender (shutdown).
func (g *Gateway) closeSenders() {
	g.mu.Lock()
	us := g.senders
	g.senders = map[string]*upSender{}
	g.mu.Unlock()
	for _, u := range us {
		u.snd.Close()
	}
}

func (g *Gateway) senderView(u *upSender) mediaapi.Sender {
	units, packets, bytes := u.snd.Stats()
	v := mediaapi.Sender{
		ID: u.id, Path: u.req.Path, SSRC: u.req.SSRC, Transport: u.req.Transport, Dest: u.req.Dest, Subject: u.req.Subject,
		IP: g.AdvertiseIP, Port: discardPort, CreatedAt: u.created, Units: units, Packets: packets, Bytes: bytes,
	}
	if a := u.snd.LocalAddr(); a != nil {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			v.Port, _ = strconv.Atoi(port)
		}
	}
	return v
}

// auditSender stores the media open of a sender before it opens: a stream
// going up is a video access like a viewer's, its subject the platform.
// Unless AuditFailOpen, a row that is not stored refuses the sender.
func (g *Gateway) auditSender(req mediaapi.SenderRequest) error {
	m := auditapi.MediaOpen{
		At: time.Now().UTC(), User: req.Subject, Path: req.Path, Protocol: auditapi.ProtocolCascade,
		Remote: req.Dest, Node: g.AdvertiseIP,
	}
	var err error
	if g.Audit == nil {
		err = fmt.Errorf("%w: no auditor (audit.console_url is not set)", ErrAuditNotStored)
	} else {
		ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
		err = g.Audit.MediaOpen(ctx, m)
		cancel()
	}
	g.countAudit(err)
	if err != nil && !g.AuditFailOpen {
		g.Log.Warn("upward stream refused: audit row not stored", "path", req.Path, "subject", req.Subject, "error", err)
		return fmt.Errorf("%w: %w", access.ErrUnavailable, err)
	}
	g.Log.Info("video access", "path", req.Path, "protocol", auditapi.ProtocolCascade, "remote", req.Dest,
		"subject", req.Subject, "audited", err == nil)
	return nil
}

// senderReason names why a sender ended, in at most 64 bytes.
func senderReason(err error) string {
	switch {
	case errors.Is(err, sender.ErrNoPeer):
		return "no_peer"
	case errors.Is(err, hub.ErrStreamClosed), errors.Is(err, hub.ErrStreamEnded):
		return "stream_ended"
	case errors.Is(err, hub.ErrSlowReader):
		return "slow_reader"
	case errors.Is(err, access.ErrUnavailable), errors.Is(err, access.ErrNotFound):
		return "stream_unavailable"
	}
	return "disconnected"
}
