package uplink

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// Subscription is a superior's subscription to us (its SUBSCRIBE, GB/T
// 28181 §9.11): the dialog our NOTIFYs go in.
type Subscription struct {
	// CallID, RemoteTag (the superior's From tag) and LocalTag (our To tag).
	CallID, RemoteTag, LocalTag string
	// Event is the Event header to echo, "Catalog;id=…".
	Event string
	// RemoteTarget is the superior's Contact: the Request-URI of NOTIFYs.
	RemoteTarget sip.Uri

	// send keeps one NOTIFY in flight: a superior rejects a CSeq lower
	// than one it saw (RFC 3261 §12.2.2), which parallel ones over UDP
	// could arrive as.
	send    sync.Mutex
	mu      sync.Mutex
	cseq    uint32
	expires time.Time
}

// Refresh sets when the subscription ends.
func (s *Subscription) Refresh(until time.Time) {
	s.mu.Lock()
	s.expires = until
	s.mu.Unlock()
}

// Expires is when the subscription ends.
func (s *Subscription) Expires() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// Notify sends msg in a NOTIFY within sub and waits for its 2xx; NOTIFYs
// of one subscription go one after the other.
func (l *Link) Notify(ctx context.Context, sub *Subscription, msg manscdp.Message) error {
	body, err := manscdp.Encode(msg, manscdp.Options{Charset: l.charset()})
	if err != nil {
		return fmt.Errorf("encode %T: %w", msg, err)
	}
	sub.send.Lock()
	defer sub.send.Unlock()
	sub.mu.Lock()
	sub.cseq++
	cseq := sub.cseq
	left := time.Until(sub.expires)
	sub.mu.Unlock()
	req := l.inDialog(sip.NOTIFY, Dialog{
		CallID: sub.CallID, LocalTag: sub.LocalTag, RemoteTag: sub.RemoteTag, LocalUser: l.LocalID,
		RemoteTarget: sub.RemoteTarget, CSeq: cseq,
	})
	req.AppendHeader(sip.NewHeader("Event", sub.Event))
	req.AppendHeader(sip.NewHeader("Subscription-State", "active;expires="+strconv.Itoa(max(0, int(left/time.Second)))))
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: l.LocalID, Host: l.ContactHost, Port: l.ContactPort}})
	req.AppendHeader(sip.NewHeader("Content-Type", "Application/MANSCDP+xml"))
	req.SetBody(body)
	return l.doOK(ctx, req)
}

// Dialog is an INVITE dialog the superior started (we answered), for our
// BYE when the stream ends on our side.
type Dialog struct {
	// CallID, LocalTag (our To tag) and RemoteTag (the superior's From tag).
	CallID, LocalTag, RemoteTag string
	// LocalUser is the user of our side, the channel INVITEd.
	LocalUser string
	// RemoteTarget is the superior's Contact: the Request-URI of our BYE.
	RemoteTarget sip.Uri
	// CSeq of our request: one more than our previous one in the dialog.
	CSeq uint32
}

// Bye ends d and waits for the superior's answer.
func (l *Link) Bye(ctx context.Context, d Dialog) error {
	d.CSeq = max(d.CSeq, 1)
	return l.doOK(ctx, l.inDialog(sip.BYE, d))
}

// DialogMessage sends msg in a MESSAGE within d (MediaStatus 121 at the end
// of a playback or download: superiors find the session by its Call-ID)
// and waits for the superior's 2xx.
func (l *Link) DialogMessage(ctx context.Context, d Dialog, msg manscdp.Message) error {
	body, err := manscdp.Encode(msg, manscdp.Options{Charset: l.charset()})
	if err != nil {
		return fmt.Errorf("encode %T: %w", msg, err)
	}
	d.CSeq = max(d.CSeq, 1)
	req := l.inDialog(sip.MESSAGE, d)
	req.AppendHeader(sip.NewHeader("Content-Type", "Application/MANSCDP+xml"))
	req.SetBody(body)
	return l.doOK(ctx, req)
}

// inDialog builds a request of ours within d, to the superior's address.
func (l *Link) inDialog(method sip.RequestMethod, d Dialog) *sip.Request {
	req := sip.NewRequest(method, *d.RemoteTarget.Clone())
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: d.LocalUser, Host: l.LocalDomain}, Params: sip.NewParams()}
	from.Params.Add("tag", d.LocalTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: l.Target.ServerID, Host: l.Target.Domain}, Params: sip.NewParams()}
	to.Params.Add("tag", d.RemoteTag)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.CSeq, MethodName: method})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	req.AppendHeader(sip.NewHeader("X-GB-Ver", gbVersionHeader(l.Target.GBVersion)))
	req.SetTransport(transportOf(l.Target.Transport))
	req.SetDestination(l.Target.Addr)
	return req
}
