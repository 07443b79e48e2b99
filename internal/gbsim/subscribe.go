package gbsim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// defaultSubscribeExpires applies when a SUBSCRIBE has no Expires.
const defaultSubscribeExpires = 3600

// subscription is one SUBSCRIBE dialog (9.11) in which the device sends
// NOTIFYs.
type subscription struct {
	dev     *device
	kind    string // manscdp CmdType: Catalog, Alarm or MobilePosition
	callID  string
	event   string
	local   sip.FromHeader // our side, with our tag
	remote  sip.ToHeader   // the subscriber, with its tag
	target  sip.Uri        // Request-URI of our NOTIFYs
	cseq    atomic.Uint32
	sn      int
	mu      sync.Mutex
	expires time.Time
	ctx     context.Context
	cancel  context.CancelFunc
}

func (d *device) onSubscribe(req *sip.Request, tx *sip.ServerTx) {
	expires := defaultSubscribeExpires
	if h := req.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && v >= 0 {
			expires = v
		}
	}
	callID := req.CallID().Value()
	d.mu.Lock()
	sub := d.subs[callID]
	d.mu.Unlock()
	if sub != nil {
		// Refresh or cancel in the dialog.
		res := response(req, sip.StatusOK, "OK", nil)
		res.To().Params.Add("tag", sub.local.Params.GetOr("tag", ""))
		res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
		_ = tx.Respond(res)
		if expires == 0 {
			d.endSubscription(sub, "noresource")
			return
		}
		sub.mu.Lock()
		sub.expires = d.sim.now().Add(time.Duration(expires) * time.Second)
		sub.mu.Unlock()
		d.log.Debug("subscription refreshed", "kind", sub.kind, "expires", expires)
		return
	}
	msg, err := manscdp.Decode(req.Body())
	if msg == nil {
		d.log.Warn("bad SUBSCRIBE body", "err", err)
		_ = tx.Respond(response(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	kind := msg.Head().CmdType
	switch kind {
	case manscdp.CmdCatalog, manscdp.CmdAlarm, manscdp.CmdMobilePosition:
	default:
		_ = tx.Respond(response(req, 489, "Bad Event", nil))
		return
	}
	sub = &subscription{dev: d, kind: kind, callID: callID, sn: msg.Head().SN}
	if h := req.GetHeader("Event"); h != nil {
		sub.event = h.Value()
	} else {
		sub.event = kind
	}
	tag := newToken(6)
	sub.local = sip.FromHeader{Address: req.To().Address, Params: sip.NewParams()}
	sub.local.Params.Add("tag", tag)
	sub.remote = sip.ToHeader{Address: req.From().Address, Params: req.From().Params.Clone()}
	sub.target = req.From().Address
	if c := req.Contact(); c != nil {
		sub.target = c.Address
	}
	sub.expires = d.sim.now().Add(time.Duration(expires) * time.Second)
	sub.ctx, sub.cancel = context.WithCancel(d.sim.ctx)

	var body []byte
	if kind == manscdp.CmdCatalog || kind == manscdp.CmdAlarm {
		if r, err := manscdp.NewResult(kind, d.id, sub.sn, true); err == nil {
			body, _ = manscdp.Encode(r, manscdp.Options{})
		}
	}
	res := response(req, sip.StatusOK, "OK", body)
	res.To().Params.Add("tag", tag)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	ep := d.txEndpoint(tx)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: d.id, Host: ep.local.IP.String(), Port: ep.local.Port}})
	if body != nil {
		ct := sip.ContentTypeHeader("Application/MANSCDP+xml")
		res.AppendHeader(&ct)
	}
	if err := tx.Respond(res); err != nil {
		sub.cancel()
		return
	}
	if expires == 0 {
		// A fetch: one NOTIFY, then done.
		sub.cancel()
		return
	}
	d.mu.Lock()
	d.subs[callID] = sub
	d.mu.Unlock()
	d.log.Info("subscribed", "kind", kind, "expires", expires, "event", sub.event)
	if !d.sim.spawn(func() { sub.run(msg) }) {
		sub.cancel()
	}
}

// run sends the subscription's NOTIFYs until it ends.
func (s *subscription) run(q manscdp.Message) {
	d := s.dev
	ctx := s.ctx
	// RFC 6665: an immediate NOTIFY with the current state.
	if s.kind == manscdp.CmdCatalog {
		s.notifyCatalog(ctx, manscdp.EventOn, d.channels...)
	}
	var tick <-chan time.Time
	switch s.kind {
	case manscdp.CmdMobilePosition:
		iv := 5
		if m, ok := q.(*manscdp.MobilePositionQuery); ok && m.Interval > 0 {
			iv = m.Interval
		}
		t := time.NewTicker(time.Duration(iv) * time.Second)
		defer t.Stop()
		tick = t.C
	case manscdp.CmdCatalog:
		if p := d.sim.cfg.CatalogChurn; p > 0 {
			t := time.NewTicker(p)
			defer t.Stop()
			tick = t.C
		}
	}
	check := time.NewTicker(time.Second)
	defer check.Stop()
	var flapped *channel
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			s.mu.Lock()
			expired := d.sim.now().After(s.expires)
			s.mu.Unlock()
			if expired {
				d.endSubscription(s, "timeout")
				return
			}
		case <-tick:
			switch s.kind {
			case manscdp.CmdMobilePosition:
				for _, c := range d.channels {
					s.notify(ctx, d.position(c))
				}
			case manscdp.CmdCatalog:
				if flapped != nil {
					flapped.setOnline(true)
					s.notifyCatalog(ctx, manscdp.EventOn, flapped)
					flapped = nil
					continue
				}
				flapped = d.channels[int(d.sn.Load())%len(d.channels)]
				flapped.setOnline(false)
				d.log.Info("channel status change", "channel_id", flapped.id, "status", manscdp.StatusOff)
				s.notifyCatalog(ctx, manscdp.EventOff, flapped)
			}
		}
	}
}

func (s *subscription) notifyCatalog(ctx context.Context, event string, chans ...*channel) {
	items := make([]manscdp.CatalogItem, 0, len(chans))
	for _, c := range chans {
		it := manscdp.CatalogItem{DeviceID: c.id, Event: event}
		if event == manscdp.EventAdd || event == manscdp.EventUpdate {
			it = c.catalogItem()
			it.Event = event
		}
		items = append(items, it)
	}
	per := s.dev.sim.cfg.UDPCatalogPerPacket * 4 // ID+Event items are small
	for _, page := range manscdp.NewCatalogNotifyPages(s.dev.id, s.dev.nextSN(), items, per) {
		if !s.notify(ctx, page) {
			return
		}
	}
}

// notify sends one NOTIFY in the dialog and reports whether it got a 2xx.
func (s *subscription) notify(ctx context.Context, msg manscdp.Message) bool {
	body, err := manscdp.Encode(msg, manscdp.Options{Version: manscdp.Version2016})
	if err != nil {
		s.dev.log.Warn("encode NOTIFY", "err", err)
		return false
	}
	s.mu.Lock()
	left := int(s.expires.Sub(s.dev.sim.now()) / time.Second)
	s.mu.Unlock()
	state := fmt.Sprintf("active;expires=%d", max(left, 0))
	return s.send(ctx, body, state)
}

func (s *subscription) send(ctx context.Context, body []byte, state string) bool {
	d := s.dev
	ep := d.ep()
	if ep == nil {
		return false
	}
	req := sip.NewRequest(sip.NOTIFY, s.target)
	host, port := ep.viaHost()
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: ep.network, Host: host, Port: port, Params: sip.NewParams()}
	via.Params.Add("rport", "")
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	from := s.local
	from.Params = s.local.Params.Clone()
	req.AppendHeader(&from)
	to := s.remote
	to.Params = s.remote.Params.Clone()
	req.AppendHeader(&to)
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq.Add(1), MethodName: sip.NOTIFY})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: d.id, Host: host, Port: port}})
	req.AppendHeader(sip.NewHeader("Event", s.event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	ct := sip.ContentTypeHeader("Application/MANSCDP+xml")
	req.AppendHeader(&ct)
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(ctx, messageTimeout)
	defer cancel()
	res, err := ep.do(ctx, req)
	if err != nil {
		d.log.Debug("NOTIFY failed", "kind", s.kind, "err", err)
		return false
	}
	d.refused(res.StatusCode)
	if res.StatusCode == sip.StatusCallTransactionDoesNotExists {
		// The subscriber forgot the dialog.
		d.sim.spawn(func() { d.endSubscription(s, "") })
	}
	return res.StatusCode < 300
}

// endSubscription removes s and sends the final NOTIFY (unless reason is
// empty: the subscriber already forgot it).
func (d *device) endSubscription(s *subscription, reason string) {
	d.mu.Lock()
	_, ok := d.subs[s.callID]
	delete(d.subs, s.callID)
	d.mu.Unlock()
	s.cancel()
	if !ok || reason == "" {
		return
	}
	d.log.Info("subscription ended", "kind", s.kind, "reason", reason)
	ctx, cancel := context.WithTimeout(d.sim.ctx, 5*time.Second)
	defer cancel()
	s.send(ctx, nil, "terminated;reason="+reason)
}

// notifySubscribers sends msg to every subscription of kind and reports
// whether there was one.
func (d *device) notifySubscribers(ctx context.Context, kind string, msg manscdp.Message) bool {
	d.mu.Lock()
	var subs []*subscription
	for _, s := range d.subs {
		if s.kind == kind {
			subs = append(subs, s)
		}
	}
	d.mu.Unlock()
	for _, s := range subs {
		s.notify(ctx, msg)
	}
	return len(subs) > 0
}
