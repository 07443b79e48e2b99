package sipserver

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// Catalog pages to a superior: over UDP each MESSAGE or NOTIFY body stays
// under udpPageBudget bytes, so that with its SIP headers (≈ 550 bytes in
// a NOTIFY) the datagram stays under the 1,300 bytes RFC 3261 §18.1.1 allows
// without a known path MTU, which sipgo enforces; over TCP a page holds
// tcpPageItems.
const (
	udpPageBudget = 700
	tcpPageItems  = 100
)

// superior returns the running link whose superior platform is id, when
// req comes from that platform's address: its IP, and over UDP its port.
// Anything else claiming a superior's ID is not believed.
func (c *cascadeLinks) superior(id string, req *sip.Request) (*runningLink, bool) {
	src, err := netip.ParseAddrPort(req.Source())
	udp := strings.EqualFold(req.Transport(), "UDP")
	c.mu.Lock()
	defer c.mu.Unlock()
	var claimed *runningLink
	for _, l := range c.links {
		if l.cfg.ServerID != id {
			continue
		}
		claimed = l
		// The same superior ID may be configured at several addresses.
		if err == nil && slices.Contains(l.ips, src.Addr().Unmap()) && (!udp || int(src.Port()) == l.cfg.Port) {
			return l, true
		}
	}
	return claimed, false
}

// resolveIPs returns the addresses of host (an IP or a name).
func resolveIPs(ctx context.Context, host string) []netip.Addr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs
}

// onSuperiorMessage answers a MESSAGE of a superior platform we are
// registered to: its queries are answered over what its grants share.
func (s *Server) onSuperiorMessage(req *sip.Request, tx sip.ServerTransaction, rl *runningLink) {
	msg, err := manscdp.Decode(req.Body())
	if err != nil {
		s.Log.Warn("malformed MANSCDP body from a superior platform", "platform", rl.cfg.ServerID, "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Malformed MANSCDP")
		return
	}
	local := rl.link.LocalID
	target := msg.Head().DeviceID
	sn := msg.Head().SN
	// The right a request needs on the channel it names.
	right := ""
	switch m := msg.(type) {
	case *manscdp.CatalogQuery, *manscdp.DeviceInfoQuery, *manscdp.DeviceStatusQuery:
	case *manscdp.RecordInfoQuery:
		right = catalogview.RightPlayback
	case *manscdp.PresetQuery:
		right = catalogview.RightPTZ
	case *manscdp.DeviceControl:
		// Only what moves a camera's view: reboots, guards and the
		// device's recording stay ours.
		if m.Validate() != nil || !upwardControl(m) {
			s.Log.Info("DeviceControl of a superior platform refused", "platform", rl.cfg.ServerID, "target", target)
			s.reply(req, tx, sip.StatusForbidden, "Forbidden")
			return
		}
		right = catalogview.RightPTZ
	default:
		s.Log.Info("MESSAGE of a superior platform not handled; acknowledged", "platform", rl.cfg.ServerID,
			"root", msg.Root(), "cmd", manscdp.CmdTypeOf(msg))
		s.reply(req, tx, sip.StatusOK, "OK")
		return
	}
	var channel store.Channel
	if target != local || right != "" {
		// A request about one channel: only one the platform's grants
		// reach with the right it needs.
		ctx, cancel := context.WithTimeout(context.Background(), s.Config.RequestTimeout.Std())
		ch, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, right, s.now())).FindChannel(ctx, rl.ourID(target))
		cancel()
		if err != nil {
			s.reply(req, tx, sip.StatusNotFound, "Not Found")
			return
		}
		channel = ch
		// What moves the camera takes its PTZ control; a key frame does not.
		if dc, ok := msg.(*manscdp.DeviceControl); ok && (dc.PTZCmd != "" || dc.DragZoomIn != nil || dc.DragZoomOut != nil) &&
			!s.lockUpPTZ(req, tx, rl, ch) {
			return
		}
	}
	s.reply(req, tx, sip.StatusOK, "OK")
	s.background(func(ctx context.Context) {
		switch m := msg.(type) {
		case *manscdp.CatalogQuery:
			s.answerCatalog(ctx, rl, sn, target)
		case *manscdp.DeviceInfoQuery:
			ans := manscdp.NewDeviceInfoResponse(target, sn, "sharpeyes", "sharpeyes", "GB28181 platform", "", 0)
			if target != local {
				ans = manscdp.NewDeviceInfoResponse(target, sn, rl.exposeName(channel.ID, channel.Name), channel.Manufacturer,
					channel.Model, "", 1)
			} else if n, err := s.sharedCount(ctx, rl); err == nil {
				ans.Channel = n
			}
			s.sendUp(ctx, rl, ans)
		case *manscdp.RecordInfoQuery:
			s.relayRecords(ctx, rl, channel, m)
		case *manscdp.PresetQuery:
			res, err := s.QueryPresets(ctx, channel.DeviceID, channel.ID)
			if err != nil {
				s.Log.Info("PresetQuery for a superior platform", "channel", channel.ID, "err", err)
				return
			}
			res.SN, res.DeviceID = sn, target
			s.sendUp(ctx, rl, res)
		case *manscdp.DeviceControl:
			if _, err := s.Control(ctx, channel.DeviceID, channel.ID, m); err != nil {
				s.Log.Info("DeviceControl for a superior platform", "channel", channel.ID, "err", err)
			}
		case *manscdp.DeviceStatusQuery:
			online := "ONLINE"
			if target != local && !channel.Online {
				online = "OFFLINE"
			}
			s.sendUp(ctx, rl, &manscdp.DeviceStatusResponse{
				Header: manscdp.Header{SN: sn, DeviceID: target}, Result: manscdp.ResultOK, Online: online,
				Status: "OK", Encode: "ON", Record: "OFF", DeviceTime: manscdp.NewTime(s.now()),
			})
		}
	})
}

func (s *Server) sendUp(ctx context.Context, rl *runningLink, msg manscdp.Message) {
	if err := rl.link.Message(ctx, msg); err != nil {
		s.Log.Warn("answer to a superior platform", "platform", rl.cfg.ServerID, "cmd", manscdp.CmdTypeOf(msg), "err", err)
	}
}

// sharedCount is the number of catalog entries the platform's grants reach.
func (s *Server) sharedCount(ctx context.Context, rl *runningLink) (int, error) {
	_, n, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, "", s.now())).ListChannels(ctx, store.ChannelFilter{Limit: 1})
	return n, err
}

// sharedItems returns the platform's slice of the catalog as items, parents
// outside the slice replaced by our own ID (the superior's tree hangs them
// under us).
func (s *Server) sharedItems(ctx context.Context, rl *runningLink) ([]manscdp.CatalogItem, error) {
	view := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, "", s.now()))
	var chans []store.Channel
	for offset := 0; ; {
		page, total, err := view.ListChannels(ctx, store.ChannelFilter{Limit: 1000, Offset: offset})
		if err != nil {
			return nil, err
		}
		chans = append(chans, page...)
		offset += len(page)
		if len(page) == 0 || offset >= total {
			break
		}
	}
	ids := make(map[string]bool, len(chans))
	for _, ch := range chans {
		ids[ch.ID] = true
	}
	local := rl.link.LocalID
	names := rl.namesNow()
	vorg := rl.virtualOrgNow()
	items := make([]manscdp.CatalogItem, 0, len(chans))
	if vorg != nil {
		items = append(items, vorg.groupItems(local)...)
	}
	for _, ch := range chans {
		if vorg != nil && isGroup(ch.ID) {
			continue // our own tree's groups: the platform has its own
		}
		if names != nil {
			if _, renumbered := names.byChannel[ch.ID]; !renumbered && names.byExposed[ch.ID] != "" {
				// Its own ID is another channel's exposed one (it came
				// after the renumbering): shown, it would be two.
				continue
			}
		}
		it := manscdp.CatalogItem{
			DeviceID: rl.expose(ch.ID), Name: rl.exposeName(ch.ID, ch.Name), Manufacturer: ch.Manufacturer, Model: ch.Model,
			Owner: ch.Owner, CivilCode: ch.CivilCode, Address: ch.Address, ParentID: ch.ParentID, RegisterWay: 1,
			Status: manscdp.StatusOff,
		}
		if ch.Online {
			it.Status = manscdp.StatusOn
		}
		if ch.Parental {
			it.Parental = 1
		}
		if ch.Secrecy {
			it.Secrecy = 1
		}
		if it.ParentID == "" || !ids[it.ParentID] {
			it.ParentID = local
		} else {
			it.ParentID = rl.expose(it.ParentID)
		}
		if ch.Longitude != nil && ch.Latitude != nil {
			it.Longitude, it.Latitude = *ch.Longitude, *ch.Latitude
		}
		if ch.PTZType != 0 {
			it.Info = &manscdp.CatalogInfo{PTZType: strconv.Itoa(ch.PTZType)}
		}
		if rl.cfg.GBVersion == "2022" && ch.BusinessGroupID != "" {
			it.BusinessGroupID = rl.expose(ch.BusinessGroupID)
		}
		if vorg != nil {
			vorg.place(&it, ch.ID, local)
			if rl.cfg.GBVersion != "2022" {
				it.BusinessGroupID = ""
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// answerCatalog sends the platform's slice in Catalog answers, each page
// after the superior acknowledged the previous one.
func (s *Server) answerCatalog(ctx context.Context, rl *runningLink, sn int, target string) {
	items, err := s.sharedItems(ctx, rl)
	if err != nil {
		s.Log.Warn("read the catalog shared with a superior platform", "platform", rl.cfg.ServerID, "err", err)
		return
	}
	pages := pageItems(items, rl.cfg.Transport, rl.cfg.Charset, func(p []manscdp.CatalogItem) manscdp.Message {
		return &manscdp.CatalogResponse{
			Header: manscdp.Header{SN: sn, DeviceID: target}, SumNum: len(items),
			DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: p},
		}
	})
	for _, p := range pages {
		if err := rl.link.Message(ctx, p); err != nil {
			s.Log.Warn("catalog answer to a superior platform stopped", "platform", rl.cfg.ServerID,
				"items", len(items), "err", err)
			return
		}
	}
	// Changes from now on are notified against what this answer said: one
	// made while it was built or sent reaches the superior by NOTIFY.
	rl.tell(items)
	s.cascade.pokeNotify()
	s.Log.Info("catalog sent to a superior platform", "platform", rl.cfg.ServerID, "items", len(items), "pages", len(pages))
}

// pageItems splits items into messages built by build: by size over UDP
// (each body under udpPageBudget unless one item alone is larger), by
// count over TCP.
func pageItems(items []manscdp.CatalogItem, transport, charset string,
	build func(page []manscdp.CatalogItem) manscdp.Message,
) []manscdp.Message {
	if strings.EqualFold(transport, "tcp") {
		pages := manscdp.Paginate(items, tcpPageItems)
		out := make([]manscdp.Message, len(pages))
		for i, p := range pages {
			out[i] = build(p)
		}
		return out
	}
	opts := manscdp.Options{Charset: charsetOf(charset)}
	size := func(page []manscdp.CatalogItem) int {
		body, err := manscdp.Encode(build(page), opts)
		if err != nil {
			return udpPageBudget + 1
		}
		return len(body)
	}
	empty := size(nil)
	var out []manscdp.Message
	var page []manscdp.CatalogItem
	used := empty
	for _, it := range items {
		n := size([]manscdp.CatalogItem{it}) - empty
		if len(page) > 0 && used+n > udpPageBudget {
			out = append(out, build(page))
			page, used = nil, empty
		}
		page = append(page, it)
		used += n
	}
	if len(page) > 0 || len(out) == 0 {
		out = append(out, build(page))
	}
	return out
}

// lockUpPTZ takes the camera's PTZ control for a superior with its grants'
// priority, as a console user's command does; when a local operator (or
// another superior) of equal or higher priority holds it, the superior is
// answered 486 and false is returned.
func (s *Server) lockUpPTZ(req *sip.Request, tx sip.ServerTransaction, rl *runningLink, ch store.Channel) bool {
	ctx, cancel := context.WithTimeout(context.Background(), s.Config.RequestTimeout.Std())
	prio, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, "", s.now())).PTZPriority(ctx, ch)
	cancel()
	if err != nil || prio == 0 {
		s.Log.Warn("PTZ priority of a superior platform", "platform", rl.cfg.ServerID, "channel", ch.ID, "priority", prio, "err", err)
		s.reply(req, tx, sip.StatusServiceUnavailable, "Service Unavailable")
		return false
	}
	lock := s.LockPTZ(ch.DeviceID, ch.ID, sipapi.PTZController{
		ID: "platform:" + strconv.FormatInt(rl.cfg.ID, 10), Name: rl.cfg.Name, Priority: prio,
	})
	if !lock.Granted {
		s.Log.Info("PTZ of a superior platform refused: the camera is controlled", "platform", rl.cfg.ServerID,
			"channel", ch.ID, "priority", prio, "holder", lock.Holder.ID, "holder_priority", lock.Holder.Priority, "until", lock.Until)
		s.reply(req, tx, sip.StatusBusyHere, "PTZ Controlled Until "+lock.Until.Format(time.RFC3339))
		return false
	}
	return true
}

// upwardControl reports whether a superior may send c: PTZ, focus and iris,
// presets, cruise and scan (PTZCmd), a key frame and 3-D positioning.
func upwardControl(c *manscdp.DeviceControl) bool {
	return c.TeleBoot == "" && c.RecordCmd == "" && c.GuardCmd == "" && c.AlarmCmd == "" && c.HomePosition == nil
}

// relayRecords answers a superior's RecordInfo, in its SN, with our own
// recordings of the channel and those its device reports (when it does
// not answer, ours alone).
func (s *Server) relayRecords(ctx context.Context, rl *runningLink, ch store.Channel, q *manscdp.RecordInfoQuery) {
	if !q.EndTime.After(q.StartTime.Time) {
		s.Log.Info("RecordInfo of a superior platform without a range", "channel", ch.ID)
		return
	}
	items := s.platformRecords(ctx, rl, ch, q.StartTime.Time, q.EndTime.Time, q.Type)
	device := 0
	// An unregistered device is refused at once (ErrOffline), not waited for.
	res, err := s.QueryRecords(ctx, ch.DeviceID, ch.ID, q.StartTime.Time, q.EndTime.Time, q.Type)
	switch {
	case err != nil && len(items) == 0:
		s.Log.Info("RecordInfo for a superior platform", "channel", ch.ID, "err", err)
		return
	case err != nil:
		s.Log.Info("RecordInfo of the device for a superior platform; ours alone", "channel", ch.ID, "err", err)
	default:
		// Every item is the queried channel's, as the superior knows it,
		// whatever ID its device gave.
		exposed := rl.expose(ch.ID)
		for i := range res.Records {
			if res.Records[i].DeviceID != "" {
				res.Records[i].DeviceID = exposed
			}
		}
		device = len(res.Records)
		items = append(items, res.Records...)
	}
	// A record item is ≈ 400 bytes: one per datagram keeps it under
	// 1,300 bytes (udpPageBudget's reasoning).
	per := 1
	if strings.EqualFold(rl.cfg.Transport, "tcp") {
		per = 50
	}
	for _, page := range manscdp.NewRecordInfoPages(rl.expose(ch.ID), rl.exposeName(ch.ID, ch.Name), q.SN, items, per) {
		if err := rl.link.Message(ctx, page); err != nil {
			s.Log.Warn("RecordInfo answer to a superior platform stopped", "platform", rl.cfg.ServerID, "err", err)
			return
		}
	}
	s.Log.Debug("RecordInfo answered to a superior platform", "platform", rl.cfg.ServerID, "channel", ch.ID,
		"ours", len(items)-device, "device", device)
}
