package sipserver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/sipserver/uplink"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// What a superior subscribes to (GB/T 28181 §9.11): by the body's CmdType,
// or by the Event header when the body is empty.
const (
	subCatalog  = "catalog"
	subAlarm    = "alarm"
	subPosition = "position"
)

// Bounds of a position subscription's Interval: at most one NOTIFY per
// channel per interval.
const (
	upPositionDefault = 5 * time.Second
	upPositionMin     = time.Second
	upPositionMax     = time.Hour
)

// subscribeKind is what a superior's SUBSCRIBE with event and body asks
// for; "" for something we do not offer. An undecodable body is an error.
func subscribeKind(event string, body []byte) (string, manscdp.Message, error) {
	if len(strings.TrimSpace(string(body))) > 0 {
		msg, err := manscdp.Decode(body)
		if err != nil {
			return "", nil, err
		}
		switch msg.(type) {
		case *manscdp.CatalogQuery:
			return subCatalog, msg, nil
		case *manscdp.AlarmQuery:
			return subAlarm, msg, nil
		case *manscdp.MobilePositionQuery:
			return subPosition, msg, nil
		}
		return "", msg, nil
	}
	if strings.HasPrefix(strings.ToLower(event), "catalog") {
		return subCatalog, nil, nil
	}
	return "", nil, nil
}

// upEventSub is a superior's alarm or mobile-position subscription.
type upEventSub struct {
	dialog *uplink.Subscription

	mu sync.Mutex
	// alarm selects the alarms an alarm subscription is told.
	alarm alarmFilter
	// interval is a position subscription's least time between two
	// NOTIFYs of one channel; last is when each was told.
	interval time.Duration
	last     map[string]time.Time
}

// filter is the alarm subscription's conditions now.
func (e *upEventSub) filter() alarmFilter {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.alarm
}

// period is the position subscription's interval now.
func (e *upEventSub) period() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.interval
}

// due reports whether channel's position may be told at now, and if so
// records it.
func (e *upEventSub) due(channel string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.last[channel]; ok && now.Sub(t) < e.interval {
		return false
	}
	e.last[channel] = now
	return true
}

// alarmFilter is the optional conditions of an alarm subscription.
type alarmFilter struct {
	minPriority, maxPriority int      // 0: any
	methods, types           []string // empty: any
	from, to                 time.Time
}

// newAlarmFilter reads q's conditions: priorities 1 (highest) … 4, methods
// and types as "1/2/5" ("0" or empty for all), and the time window.
func newAlarmFilter(q *manscdp.AlarmQuery) alarmFilter {
	f := alarmFilter{
		minPriority: atoiOr(q.StartAlarmPriority, 0), maxPriority: atoiOr(q.EndAlarmPriority, 0),
		methods: splitCodes(q.AlarmMethod), types: splitCodes(q.AlarmType),
		from: q.StartAlarmTime.Time, to: q.EndAlarmTime.Time,
	}
	if f.minPriority > f.maxPriority && f.maxPriority != 0 {
		f.minPriority, f.maxPriority = f.maxPriority, f.minPriority
	}
	return f
}

// splitCodes splits "1/2/5" into codes; "", "0" and "all" mean any.
func splitCodes(v string) []string {
	var out []string
	for c := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == '/' || r == ',' || r == ' ' }) {
		if c == "0" || strings.EqualFold(c, "all") {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// match reports whether the subscription asked for m. An alarm of unknown
// priority passes a priority condition: losing an alarm is worse than
// telling one too many.
func (f alarmFilter) match(m *manscdp.AlarmNotify) bool {
	if p := alarmPriority(m.AlarmPriority); p != 0 {
		if (f.minPriority != 0 && p < f.minPriority) || (f.maxPriority != 0 && p > f.maxPriority) {
			return false
		}
	}
	if len(f.methods) > 0 && !slices.Contains(f.methods, strings.TrimSpace(m.AlarmMethod)) {
		return false
	}
	if len(f.types) > 0 && (m.Info == nil || !slices.Contains(f.types, strings.TrimSpace(m.Info.AlarmType))) {
		return false
	}
	at := m.AlarmTime.Time
	if !at.IsZero() && ((!f.from.IsZero() && at.Before(f.from)) || (!f.to.IsZero() && at.After(f.to))) {
		return false
	}
	return true
}

// subscribeEvents records a superior's alarm or position subscription (one
// of each per superior; a new one replaces the old; a refresh without a
// body keeps its conditions) and returns it, or nil when expires is 0 (the
// superior ended it — only the subscription of that dialog ends).
func (rl *runningLink) subscribeEvents(kind string, q manscdp.Message, d *uplink.Subscription, until time.Time,
	expires time.Duration,
) *upEventSub {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	cur := &rl.alarmSub
	if kind == subPosition {
		cur = &rl.posSub
	}
	sub := *cur
	same := sub != nil && sub.dialog.CallID == d.CallID && sub.dialog.RemoteTag == d.RemoteTag
	if expires == 0 {
		if same {
			*cur = nil
		}
		return nil
	}
	if !same {
		sub = &upEventSub{dialog: d, interval: upPositionDefault, last: map[string]time.Time{}}
	}
	sub.mu.Lock()
	switch q := q.(type) {
	case *manscdp.AlarmQuery:
		sub.alarm = newAlarmFilter(q)
	case *manscdp.MobilePositionQuery:
		sub.interval = upPositionDefault
		if q.Interval > 0 {
			sub.interval = min(max(time.Duration(q.Interval)*time.Second, upPositionMin), upPositionMax)
		}
	}
	sub.mu.Unlock()
	sub.dialog.Refresh(until)
	*cur = sub
	return sub
}

// dropEventSub ends sub if it is still rl's of kind (the superior answered
// its NOTIFY 481: it has forgotten it).
func (rl *runningLink) dropEventSub(kind string, sub *upEventSub) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	cur := &rl.alarmSub
	if kind == subPosition {
		cur = &rl.posSub
	}
	if *cur == sub {
		*cur = nil
	}
}

// inDialogKind is what the subscription whose dialog an in-dialog
// SUBSCRIBE (a refresh) is in subscribes to, "" for none of rl's.
func (rl *runningLink) inDialogKind(callID, remoteTag string) string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	match := func(d *uplink.Subscription) bool { return d.CallID == callID && d.RemoteTag == remoteTag }
	switch {
	case rl.sub != nil && match(rl.sub.dialog):
		return subCatalog
	case rl.alarmSub != nil && match(rl.alarmSub.dialog):
		return subAlarm
	case rl.posSub != nil && match(rl.posSub.dialog):
		return subPosition
	}
	return ""
}

// eventSub returns rl's live subscription of kind, nil without one (or
// when it expired).
func (rl *runningLink) eventSub(kind string, now time.Time) *upEventSub {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	cur := &rl.alarmSub
	if kind == subPosition {
		cur = &rl.posSub
	}
	if *cur != nil && now.After((*cur).dialog.Expires()) {
		*cur = nil
	}
	return *cur
}

// running returns the links now running.
func (c *cascadeLinks) running() []*runningLink {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*runningLink, 0, len(c.links))
	for _, rl := range c.links {
		out = append(out, rl)
	}
	return out
}

// forwardAlarm tells every registered superior whose grants reach the
// alarming channel — one of deviceID's, the device that reported it — of
// the alarm (GB/T 28181 §9.4): by NOTIFY in its alarm subscription when it
// has one (and the alarm matches its conditions), otherwise by MESSAGE as a
// device tells its platform. Coordinates go only to a superior with the
// location right on the channel. A device's alarm about itself (not one of
// its channels) stays ours: superiors know channels only.
func (s *Server) forwardAlarm(ctx context.Context, deviceID string, m *manscdp.AlarmNotify) {
	now := s.now()
	for _, rl := range s.cascade.running() {
		if rl.link.Status().State != uplink.StateRegistered {
			continue
		}
		if !s.shares(ctx, rl, "", deviceID, m.DeviceID) {
			continue
		}
		fwd := *m
		fwd.SN = int(now.UnixMilli() % 1_000_000_000)
		fwd.DeviceID = rl.expose(m.DeviceID)
		if fwd.AlarmTime.IsZero() {
			fwd.AlarmTime.Time = now
		}
		if !s.shares(ctx, rl, catalogview.RightLocation, deviceID, m.DeviceID) {
			fwd.Longitude, fwd.Latitude = 0, 0
		}
		var err error
		sub := rl.eventSub(subAlarm, now)
		if sub != nil {
			if !sub.filter().match(m) {
				continue
			}
			err = rl.link.Notify(ctx, sub.dialog, &fwd)
			if uplink.StatusOf(err) == sip.StatusCallTransactionDoesNotExists {
				// The superior forgot the subscription: as to one without.
				rl.dropEventSub(subAlarm, sub)
				sub = nil
			}
		}
		if sub == nil {
			err = rl.link.Message(ctx, &fwd)
		}
		if err != nil {
			s.Log.Warn("forward an alarm to a superior platform", "platform", rl.cfg.ServerID, "channel", m.DeviceID, "err", err)
			continue
		}
		s.Log.Info("alarm forwarded to a superior platform", "platform", rl.cfg.ServerID, "channel", m.DeviceID)
	}
}

// forwardPosition tells every superior with a position subscription the
// position of the shared channels it is of (the device's own report goes
// to each of its channels the superior may locate), at most once per
// channel per the subscription's interval.
func (s *Server) forwardPosition(ctx context.Context, deviceID string, m *manscdp.MobilePositionNotify) {
	now := s.now()
	for _, rl := range s.cascade.running() {
		sub := rl.eventSub(subPosition, now)
		if sub == nil || rl.link.Status().State != uplink.StateRegistered {
			continue
		}
		targets := []string{m.DeviceID}
		if m.DeviceID == deviceID {
			targets = s.locatable(ctx, rl, deviceID)
		} else if !s.shares(ctx, rl, catalogview.RightLocation, deviceID, m.DeviceID) {
			continue
		}
		for _, id := range targets {
			if !sub.due(id, now) {
				continue
			}
			fwd := *m
			fwd.DeviceID, fwd.SN = rl.expose(id), int(now.UnixMilli()%1_000_000_000)
			if err := rl.link.Notify(ctx, sub.dialog, &fwd); err != nil {
				s.Log.Warn("forward a position to a superior platform", "platform", rl.cfg.ServerID, "channel", id, "err", err)
				if uplink.StatusOf(err) == sip.StatusCallTransactionDoesNotExists {
					rl.dropEventSub(subPosition, sub)
				}
				break
			}
		}
	}
}

// shares reports whether rl's grants give right ("" any) on channel id of
// device: a device speaks for its own channels only.
func (s *Server) shares(ctx context.Context, rl *runningLink, right, device, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, s.Config.RequestTimeout.Std())
	defer cancel()
	_, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, right, s.now())).GetChannel(ctx, device, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.Log.Warn("read a superior platform's grants", "platform", rl.cfg.ServerID, "channel", id, "err", err)
	}
	return err == nil
}

// locatable returns the channels of device rl may locate.
func (s *Server) locatable(ctx context.Context, rl *runningLink, deviceID string) []string {
	ctx, cancel := context.WithTimeout(ctx, s.Config.RequestTimeout.Std())
	defer cancel()
	chans, _, err := s.Store.In(catalogview.PlatformScope(rl.cfg.ID, catalogview.RightLocation, s.now())).
		ListChannels(ctx, store.ChannelFilter{DeviceID: deviceID, Limit: 1000})
	if err != nil {
		s.Log.Warn("read a superior platform's grants", "platform", rl.cfg.ServerID, "device", deviceID, "err", err)
		return nil
	}
	out := make([]string, 0, len(chans))
	for _, ch := range chans {
		out = append(out, ch.ID)
	}
	return out
}
