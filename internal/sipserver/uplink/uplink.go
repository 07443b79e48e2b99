// Package uplink is our side of a cascade link (GB/T 28181 §5.4, §9.1.2):
// as a lower platform we register to a superior platform with digest
// authentication, refresh the registration before it expires, keep it
// alive with MESSAGE Keepalive and register again, with back-off, when the
// superior refuses us, stops answering or forgets us. Closing a link
// unregisters it.
package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/digestauth"
	"github.com/sharpeyes/sharpeyes/internal/sipreg"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// Errors of a link, in its reports' LastError and the log.
var (
	// ErrRefused is a superior's final refusal of our REGISTER (403, a
	// second 401 to a fresh challenge: a wrong password or ID).
	ErrRefused = errors.New("uplink: registration refused")
	// ErrNoAnswer is a request the superior did not answer in time.
	ErrNoAnswer = errors.New("uplink: no answer")
	// ErrKeepalive is a run of unanswered or refused keepalives.
	ErrKeepalive = errors.New("uplink: keepalives unanswered")
)

// Link states, as reported.
const (
	StateRegistered = "registered"
	StateFailing    = "failing"
)

// Requester sends a request and returns its final response: the
// sipserver's SIP client, which sends from our listening port.
type Requester interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
}

// Status is a link's state, reported at every change and every keepalive.
type Status struct {
	State         string
	LastError     string
	RegisteredAt  time.Time
	LastKeepalive time.Time
}

// Target is the superior and how to talk to it.
type Target struct {
	// ServerID and Domain: the superior's SIP ID and domain (realm).
	ServerID, Domain string
	// Addr is its host:port; Transport "udp" or "tcp".
	Addr, Transport string
	Password        string
	// Charset of our MANSCDP bodies: "GB2312" or "UTF-8".
	Charset string
	// GBVersion "2016" or "2022" (X-GB-Ver 2.0 or 3.0).
	GBVersion string
	// Expires asked for; KeepaliveInterval and KeepaliveCount: the period
	// and the unanswered keepalives after which we register again.
	Expires           time.Duration
	KeepaliveInterval time.Duration
	KeepaliveCount    int
}

// Link registers to one superior platform and keeps the registration.
type Link struct {
	Target Target
	// LocalID is the SIP ID we register as; LocalDomain our domain.
	LocalID, LocalDomain string
	// ContactHost and ContactPort are where the superior reaches us.
	ContactHost string
	ContactPort int
	Client      Requester
	// RequestTimeout bounds each transaction.
	RequestTimeout time.Duration
	// RetryMin and RetryMax bound the back-off between failed registrations.
	RetryMin, RetryMax time.Duration
	// Report receives the state at every change and every answered
	// keepalive; it runs on the link's goroutine.
	Report func(Status)
	Log    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	status  Status
	callID  string
	fromTag string
	cseq    uint32
	sn      int
	answer  *digestauth.Answer
}

func (l *Link) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Initialize starts registering.
func (l *Link) Initialize() error {
	if l.Target.Expires < time.Minute || l.Target.KeepaliveInterval <= 0 || l.Target.KeepaliveCount < 1 {
		return fmt.Errorf("uplink to %s: expires ≥ 1m, keepalive interval and count > 0 needed", l.Target.ServerID)
	}
	if _, _, err := net.SplitHostPort(l.Target.Addr); err != nil {
		return fmt.Errorf("uplink to %s: address %q: %w", l.Target.ServerID, l.Target.Addr, err)
	}
	if l.RetryMin <= 0 {
		l.RetryMin = time.Second
	}
	if l.RetryMax < l.RetryMin {
		l.RetryMax = max(l.RetryMin, time.Minute)
	}
	if l.Log == nil {
		l.Log = slog.Default()
	}
	l.Log = l.Log.With("platform", l.Target.ServerID, "addr", l.Target.Addr)
	l.callID = sip.GenerateTagN(20) + "@" + l.ContactHost
	l.fromTag = sip.GenerateTagN(12)
	l.sn = int(l.now().Unix() % 100000)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.done = make(chan struct{})
	go l.run()
	return nil
}

// Close stops the link and unregisters (Expires 0) if it was registered,
// waiting at most RequestTimeout for the superior's answer.
func (l *Link) Close() {
	l.cancel()
	<-l.done
	if l.Status().State != StateRegistered {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.RequestTimeout)
	defer cancel()
	if _, err := l.register(ctx, 0); err != nil {
		l.Log.Info("unregister from the superior platform", "err", err)
		return
	}
	l.Log.Info("unregistered from the superior platform")
}

// Leave stops the link without unregistering: the sipserver restarts, and
// the superior keeps us — and the streams we send it — until our next
// REGISTER or its keepalive timeout, whichever comes first.
func (l *Link) Leave() {
	l.cancel()
	<-l.done
}

// Status returns the last state.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *Link) report(mut func(*Status)) {
	l.mu.Lock()
	mut(&l.status)
	st := l.status
	l.mu.Unlock()
	if l.Report != nil {
		l.Report(st)
	}
}

// fail reports the link failing with err.
func (l *Link) fail(err error) {
	l.report(func(s *Status) { s.State, s.LastError = StateFailing, err.Error() })
}

func (l *Link) run() {
	defer close(l.done)
	ctx := l.ctx
	backoff := l.RetryMin
	for {
		granted, err := l.register(ctx, int(l.Target.Expires/time.Second))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			l.Log.Warn("registration to the superior platform failed", "err", err, "retry_in", backoff)
			l.fail(err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, l.RetryMax)
			continue
		}
		backoff = l.RetryMin
		now := l.now()
		wasRegistered := l.Status().State == StateRegistered
		l.report(func(s *Status) { s.State, s.LastError, s.RegisteredAt = StateRegistered, "", now })
		if !wasRegistered {
			l.Log.Info("registered to the superior platform", "expires", granted)
		}
		if err := l.keepRegistered(ctx, granted); ctx.Err() != nil {
			return
		} else if err != nil {
			l.Log.Warn("link to the superior platform lost; registering again", "err", err)
			l.fail(err)
		}
	}
}

// keepRegistered sends keepalives until the registration is due for a
// refresh (nil) or the link is lost (an error).
func (l *Link) keepRegistered(ctx context.Context, granted time.Duration) error {
	// Refresh when three quarters of the granted time have passed, at
	// least a request timeout before the end.
	refresh := time.NewTimer(max(min(granted*3/4, granted-l.RequestTimeout), time.Second))
	defer refresh.Stop()
	tick := time.NewTicker(l.Target.KeepaliveInterval)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-refresh.C:
			return nil
		case <-tick.C:
			err := l.keepalive(ctx)
			var rej *rejectedError
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.As(err, &rej) && (rej.code == 401 || rej.code == 403 || rej.code == 404):
				// The superior no longer knows us (it restarted, or expired us).
				return fmt.Errorf("keepalive %w", err)
			case err != nil:
				missed++
				l.Log.Info("keepalive to the superior platform unanswered", "err", err, "missed", missed)
				if missed >= l.Target.KeepaliveCount {
					return fmt.Errorf("%w: %d in a row, last: %w", ErrKeepalive, missed, err)
				}
			default:
				missed = 0
				at := l.now()
				l.report(func(s *Status) { s.LastKeepalive = at })
			}
		}
	}
}

// sleep waits d unless ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// rejectedError is a final non-2xx answer.
type rejectedError struct {
	method string
	code   int
	reason string
}

func (e *rejectedError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.method, e.code, e.reason)
}

// StatusOf is the SIP status the superior refused a request with, 0 when
// err is no refusal (nil, a timeout, a transport error).
func StatusOf(err error) int {
	var rej *rejectedError
	if errors.As(err, &rej) {
		return rej.code
	}
	return 0
}

// serverURI is the Request-URI of our requests: sip:<server ID>@<host:port>.
func (l *Link) serverURI() sip.Uri {
	host, portStr, _ := net.SplitHostPort(l.Target.Addr)
	port, _ := strconv.Atoi(portStr)
	return sip.Uri{Scheme: "sip", User: l.Target.ServerID, Host: host, Port: port}
}

// newRequest builds a request to the superior from LocalID.
func (l *Link) newRequest(method sip.RequestMethod, fromTag, callID string, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, l.serverURI())
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: l.LocalID, Host: l.LocalDomain}, Params: sip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: l.Target.ServerID, Host: l.Target.Domain}}
	if method == sip.REGISTER {
		to.Address = sip.Uri{Scheme: "sip", User: l.LocalID, Host: l.LocalDomain}
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	req.AppendHeader(sip.NewHeader("X-GB-Ver", gbVersionHeader(l.Target.GBVersion)))
	req.SetTransport(transportOf(l.Target.Transport))
	req.SetDestination(l.Target.Addr)
	return req
}

func transportOf(t string) string { return strings.ToUpper(t) }

// charset is the charset of our MANSCDP bodies to the superior.
func (l *Link) charset() manscdp.Charset {
	if l.Target.Charset == "UTF-8" {
		return manscdp.CharsetUTF8
	}
	return manscdp.CharsetGB2312
}

func gbVersionHeader(v string) string {
	if v == "2022" {
		return "3.0"
	}
	return "2.0"
}

// register sends REGISTER with expires seconds (0 unregisters), answering
// the superior's digest challenges, and returns the expiry it granted.
func (l *Link) register(ctx context.Context, expires int) (time.Duration, error) {
	fresh := false // whether our credentials answer a challenge to this very request
	proxy := false // whether the challenge was a proxy's (407)
	for range 3 {
		l.mu.Lock()
		l.cseq++
		cseq, ans := l.cseq, l.answer
		l.mu.Unlock()
		req := l.newRequest(sip.REGISTER, l.fromTag, l.callID, cseq)
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: l.LocalID, Host: l.ContactHost, Port: l.ContactPort}})
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
		if ans != nil {
			h, err := ans.Authorization("REGISTER", req.Recipient.String(), l.LocalID, l.Target.Password)
			if err != nil {
				return 0, err
			}
			name := "Authorization"
			if proxy {
				name = "Proxy-Authorization"
			}
			req.AppendHeader(sip.NewHeader(name, h))
		}
		res, err := l.do(ctx, req)
		if err != nil {
			return 0, err
		}
		switch {
		case res.IsSuccess():
			granted := sipreg.Granted(res, expires)
			if expires > 0 && granted == 0 {
				return 0, fmt.Errorf("%w: the registration was granted for 0 s", ErrRefused)
			}
			return time.Duration(granted) * time.Second, nil
		case res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired:
			next, err := sipreg.Challenge(res)
			if err != nil {
				return 0, fmt.Errorf("%w: %w", ErrRefused, err)
			}
			if fresh && !next.Stale() {
				l.mu.Lock()
				l.answer = nil
				l.mu.Unlock()
				return 0, fmt.Errorf("%w: %d to our answer of a fresh challenge: wrong password or ID", ErrRefused, res.StatusCode)
			}
			l.mu.Lock()
			l.answer = next
			l.mu.Unlock()
			fresh, proxy = true, res.StatusCode == sip.StatusProxyAuthRequired
		default:
			l.mu.Lock()
			l.answer = nil
			l.mu.Unlock()
			return 0, fmt.Errorf("%w: %w", ErrRefused, &rejectedError{method: "REGISTER", code: res.StatusCode, reason: res.Reason})
		}
	}
	return 0, fmt.Errorf("%w: challenged three times", ErrRefused)
}

// keepalive sends a MESSAGE Keepalive and waits for its 2xx.
func (l *Link) keepalive(ctx context.Context) error {
	l.mu.Lock()
	l.sn++
	sn := l.sn
	l.mu.Unlock()
	return l.Message(ctx, manscdp.NewKeepalive(l.LocalID, sn))
}

// Message sends a MANSCDP message to the superior (out of dialog) and
// waits for its 2xx.
func (l *Link) Message(ctx context.Context, msg manscdp.Message) error {
	body, err := manscdp.Encode(msg, manscdp.Options{Charset: l.charset()})
	if err != nil {
		return fmt.Errorf("encode %T: %w", msg, err)
	}
	req := l.newRequest(sip.MESSAGE, sip.GenerateTagN(12), sip.GenerateTagN(20)+"@"+l.ContactHost, 1)
	req.AppendHeader(sip.NewHeader("Content-Type", "Application/MANSCDP+xml"))
	req.SetBody(body)
	return l.doOK(ctx, req)
}

// doOK sends req and wants a 2xx.
func (l *Link) doOK(ctx context.Context, req *sip.Request) error {
	res, err := l.do(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return &rejectedError{method: req.Method.String(), code: res.StatusCode, reason: res.Reason}
	}
	return nil
}

// do sends req within RequestTimeout.
func (l *Link) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, l.RequestTimeout)
	defer cancel()
	res, err := l.Client.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s to %s within %s", ErrNoAnswer, req.Method, l.Target.Addr, l.RequestTimeout)
		}
		return nil, fmt.Errorf("%s to %s: %w", req.Method, l.Target.Addr, err)
	}
	return res, nil
}
