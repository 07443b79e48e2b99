package sipserver

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/sipserver/uplink"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// Bounds of a superior's catalog subscription, and how long changes are
// gathered before they are notified (a grant of a region changes many
// channels at once; a flapping camera is notified once a second at most).
const (
	upSubscribeDefault = time.Hour
	upSubscribeMin     = time.Minute
	upSubscribeMax     = 24 * time.Hour
	upNotifyDelay      = time.Second
)

// upSubscription is a superior's catalog subscription.
type upSubscription struct {
	dialog *uplink.Subscription
}

// onSubscribe answers SUBSCRIBE: only superior platforms we are registered
// to may subscribe — to our catalog, alarms or mobile positions (GB/T
// 28181 §9.11); devices never subscribe to a platform.
func (s *Server) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	rl, ok := s.superiorRequest(req, tx)
	if !ok {
		return
	}
	from, id := req.From(), req.From().Address.User
	event := ""
	if h := req.GetHeader("Event"); h != nil {
		event = strings.TrimSpace(h.Value())
	}
	remoteTag, _ := from.Params.Get("tag")
	kind, query, err := subscribeKind(event, req.Body())
	if err == nil && kind == "" {
		// A refresh or an end (Expires: 0) within a subscription's dialog
		// needs no body.
		kind = rl.inDialogKind(req.CallID().Value(), remoteTag)
	}
	inDialog := false
	if to := req.To(); to != nil {
		inDialog = to.Params.Has("tag")
	}
	switch {
	case err != nil:
		s.Log.Warn("malformed SUBSCRIBE body from a superior platform", "platform", id, "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Malformed MANSCDP")
		return
	case kind == "" && inDialog:
		// A refresh of a subscription we do not have (it ended, or a
		// restart of ours forgot it): the superior subscribes anew.
		s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return
	case kind == "":
		s.reply(req, tx, 489, "Bad Event")
		return
	}
	expires := upSubscribeDefault
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			s.reply(req, tx, sip.StatusBadRequest, "Bad Expires")
			return
		}
		expires = time.Duration(n) * time.Second
	}
	if expires > 0 {
		expires = min(max(expires, upSubscribeMin), upSubscribeMax)
	}
	target := from.Address
	if c := req.Contact(); c != nil {
		target = c.Address
	}
	now := s.now()

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	toTag := ""
	if to := res.To(); to != nil {
		toTag, _ = to.Params.Get("tag") // sipgo tags 2xx answers itself; an in-dialog refresh has ours
		if toTag == "" {
			toTag = sip.GenerateTagN(12)
			to.Params.Add("tag", toTag)
		}
	}
	if kind != subCatalog {
		d := &uplink.Subscription{
			CallID: req.CallID().Value(), RemoteTag: remoteTag, LocalTag: toTag, Event: event, RemoteTarget: *target.Clone(),
		}
		sub := rl.subscribeEvents(kind, query, d, now.Add(expires), expires)
		res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: rl.link.LocalID, Host: s.advertise, Port: s.sipPort}})
		s.respond(req, tx, res)
		if sub != nil && kind == subPosition {
			s.Log.Info("superior platform subscribed to mobile positions", "platform", id, "expires", expires, "interval", sub.period())
		} else {
			s.Log.Info("superior platform subscribed to "+kind+"s", "platform", id, "expires", expires)
		}
		return
	}
	rl.mu.Lock()
	sub := rl.sub
	same := sub != nil && sub.dialog.CallID == req.CallID().Value() && sub.dialog.RemoteTag == remoteTag
	switch {
	case expires == 0:
		// Only the subscription of that dialog ends.
		if same {
			rl.sub = nil
		}
	case !same:
		// A new subscription replaces the old one: one per superior.
		sub = &upSubscription{dialog: &uplink.Subscription{
			CallID: req.CallID().Value(), RemoteTag: remoteTag, LocalTag: toTag,
			Event: event, RemoteTarget: *target.Clone(),
		}}
		fallthrough
	default:
		sub.dialog.Refresh(now.Add(expires))
		rl.sub = sub
	}
	rl.mu.Unlock()

	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: rl.link.LocalID, Host: s.advertise, Port: s.sipPort}})
	s.respond(req, tx, res)
	s.Log.Info("superior platform subscribed to our catalog", "platform", id, "expires", expires)
	// What it is told from now on is the difference to what it sees now.
	s.cascade.pokeNotify()
}

// pokeNotify asks the notifier to compare the shared catalogs now.
func (c *cascadeLinks) pokeNotify() {
	select {
	case c.notifyWake <- struct{}{}:
	default:
	}
}

// runNotify sends each subscribed superior the changes of its slice (by
// NOTIFY), gathering changes for upNotifyDelay, until ctx ends.
func (c *cascadeLinks) runNotify(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.notifyWake:
		}
		gather := time.NewTimer(upNotifyDelay)
		select {
		case <-ctx.Done():
			gather.Stop()
			return
		case <-gather.C:
		}
		c.mu.Lock()
		links := make([]*runningLink, 0, len(c.links))
		for _, rl := range c.links {
			links = append(links, rl)
		}
		ups := make([]*upSession, 0, len(c.ups))
		for _, u := range c.ups {
			ups = append(ups, u)
		}
		c.mu.Unlock()
		for _, rl := range links {
			c.notifyLink(ctx, rl)
		}
		// A grant taken back (or expired) ends the streams it allowed.
		for _, u := range ups {
			if !c.Allowed(ctx, u) && c.takeUp(u) {
				c.CloseUp(ctx, u, "grant_revoked", true)
			}
		}
	}
}

// notifyLink tells one subscribed superior what changed in its slice.
func (c *cascadeLinks) notifyLink(ctx context.Context, rl *runningLink) {
	rl.mu.Lock()
	sub := rl.sub
	if sub != nil && !c.now().Before(sub.dialog.Expires()) {
		rl.sub, sub = nil, nil
	}
	rl.mu.Unlock()
	if sub == nil {
		return
	}
	// What it was told: our last Catalog answer and the NOTIFYs since. Before
	// any answer there is nothing to tell (it queries the catalog itself).
	rl.mu.Lock()
	told := rl.told
	rl.mu.Unlock()
	if told == nil {
		return
	}
	items, err := c.Items(ctx, rl)
	if err != nil {
		c.Log.Warn("read the catalog shared with a superior platform", "platform", rl.cfg.ServerID, "err", err)
		return
	}
	changes := diffCatalog(told, items)
	if len(changes) == 0 {
		return
	}
	sn := int(c.now().UnixMilli() % 1_000_000_000)
	for _, page := range pageItems(changes, rl.cfg.Transport, rl.cfg.Charset, func(p []manscdp.CatalogItem) manscdp.Message {
		return &manscdp.CatalogNotify{
			Header: manscdp.Header{SN: sn, DeviceID: rl.link.LocalID}, SumNum: len(changes),
			DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: p},
		}
	}) {
		if err := rl.link.Notify(ctx, sub.dialog, page); err != nil {
			// The superior re-queries the whole catalog when it misses changes;
			// the next change is diffed against what it was last told.
			c.Log.Warn("catalog NOTIFY to a superior platform", "platform", rl.cfg.ServerID, "err", err)
			return
		}
	}
	rl.tell(items)
	c.Log.Info("catalog changes notified to a superior platform", "platform", rl.cfg.ServerID, "changes", len(changes))
}

// tell records items as what the superior now knows of its slice.
func (rl *runningLink) tell(items []manscdp.CatalogItem) {
	told := make(map[string]manscdp.CatalogItem, len(items))
	for _, it := range items {
		told[it.DeviceID] = it
	}
	rl.mu.Lock()
	rl.told = told
	rl.mu.Unlock()
}

// diffCatalog is what changed from old to cur as catalog NOTIFY items:
// ADD and UPDATE with the whole item, DEL, and ON/OFF for a change of
// status alone.
func diffCatalog(old map[string]manscdp.CatalogItem, cur []manscdp.CatalogItem) []manscdp.CatalogItem {
	var out []manscdp.CatalogItem
	seen := make(map[string]bool, len(cur))
	for _, it := range cur {
		seen[it.DeviceID] = true
		prev, ok := old[it.DeviceID]
		switch {
		case !ok:
			it.Event = manscdp.EventAdd
			out = append(out, it)
		case !sameBut(prev, it):
			it.Event = manscdp.EventUpdate
			out = append(out, it)
		case prev.Status != it.Status:
			ev := manscdp.EventOff
			if it.Status == manscdp.StatusOn {
				ev = manscdp.EventOn
			}
			out = append(out, manscdp.CatalogItem{DeviceID: it.DeviceID, Event: ev})
		}
	}
	for id := range old {
		if !seen[id] {
			out = append(out, manscdp.CatalogItem{DeviceID: id, Event: manscdp.EventDel})
		}
	}
	return out
}

// sameBut reports whether a and b differ at most in their status.
func sameBut(a, b manscdp.CatalogItem) bool {
	a.Status, b.Status = "", ""
	return reflect.DeepEqual(a, b)
}
