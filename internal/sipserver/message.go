package sipserver

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// onMessage handles MESSAGE: keepalives on the fast path, then answers to
// our queries, alarms, positions and media status.
func (s *Server) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	body := req.Body()
	if len(body) > int(s.Config.MaxMessageSize) {
		s.Log.Warn("MESSAGE body too large", "from", req.Source(), "bytes", len(body))
		s.reply(req, tx, sip.StatusRequestEntityTooLarge, "Body Too Large")
		return
	}
	from := req.From()
	if from == nil {
		s.reply(req, tx, sip.StatusBadRequest, "Missing From")
		return
	}
	id := from.Address.User
	if rl, ok := s.cascade.superior(id, req); ok {
		s.onSuperiorMessage(req, tx, rl)
		return
	} else if rl != nil {
		s.refuseForeign(req, tx, id, "superior platform's MESSAGE")
		return
	}
	if dev, ok := s.sessions.dialogDevice(req); ok {
		// Inside a session's dialog the device speaks as the channel it was
		// INVITEd for; the dialog says which device that is.
		id = dev
	}
	// Peek is the cheap read of the header; it refuses what it cannot read
	// cheaply (entities, CDATA, comments in values), and Decode decides then.
	var msg manscdp.Message
	head, err := manscdp.Peek(body)
	if err != nil {
		msg, err = manscdp.Decode(body)
		if msg != nil {
			h := msg.Head()
			head = manscdp.PeekResult{Root: msg.Root(), CmdType: manscdp.CmdTypeOf(msg), SN: h.SN, DeviceID: h.DeviceID}
		}
	}
	if head.Root == manscdp.RootNotify && head.CmdType == manscdp.CmdKeepalive {
		s.onKeepalive(req, tx, id)
		return
	}
	if msg == nil && err != nil {
		s.Log.Warn("malformed MANSCDP body", "device", id, "from", req.Source(), "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Malformed MANSCDP")
		return
	}
	d := s.devices.get(id)
	if d == nil || !d.snapshot().Registered {
		// Unknown or unregistered: 404 makes real devices register again.
		s.reply(req, tx, sip.StatusNotFound, "Device Not Registered")
		return
	}
	if !fromDevice(d, req) {
		s.refuseForeign(req, tx, id, head.CmdType)
		return
	}
	if msg == nil {
		msg, err = manscdp.Decode(body)
	}
	switch {
	case errors.Is(err, manscdp.ErrUnknownCmdType) || errors.Is(err, manscdp.ErrUnknownRoot):
		s.Log.Info("MESSAGE with a CmdType we do not handle; acknowledged", "device", id, "root", head.Root, "cmd", head.CmdType)
		s.reply(req, tx, sip.StatusOK, "OK")
		return
	case err != nil:
		s.Log.Warn("malformed MANSCDP body", "device", id, "cmd", head.CmdType, "from", req.Source(), "err", err)
		s.reply(req, tx, sip.StatusBadRequest, "Malformed MANSCDP")
		return
	}
	now := s.now()
	var ending []*mediaSession // the sessions a MediaStatus ended, torn down after the answer
	// Requests that belong to a dialog or subscription of ours are refused
	// with 481 when there is none, before anything is acknowledged.
	switch m := msg.(type) {
	case *manscdp.CatalogNotify:
		if !s.catalog.accepts(d, now) {
			s.refuseNoDialog(req, tx, id, "catalog notify without a subscription")
			return
		}
	case *manscdp.MediaStatusNotify:
		inDialog, ok := s.sessions.mediaStatusSession(req, id, m.DeviceID)
		if !ok {
			s.refuseNoDialog(req, tx, id, "media status outside a session")
			return
		}
		s.Log.Info("media status", "device", id, "channel", m.DeviceID, "notify_type", m.NotifyType)
		ending = s.sessions.mediaStatus(id, m.DeviceID, m.NotifyType, inDialog)
	}
	// Answer the transaction first: devices send the next catalog page only
	// after the 200 for the previous one.
	s.reply(req, tx, sip.StatusOK, "OK")
	switch m := msg.(type) {
	case *manscdp.AlarmNotify:
		s.onAlarm(id, m, now)
	case *manscdp.MobilePositionNotify:
		s.onMobilePosition(id, m, now)
	case *manscdp.MediaStatusNotify:
		for _, ms := range ending {
			s.sessions.teardown(ms, ReasonMediaStatus, true)
		}
	case *manscdp.CatalogNotify:
		s.catalog.onNotify(id, m, now)
	default:
		if msg.Root() != manscdp.RootResponse {
			s.Log.Info("MESSAGE not handled; acknowledged", "device", id, "root", msg.Root(), "cmd", head.CmdType)
			return
		}
		// Only answers to our own pending requests are applied; anything
		// else, unsolicited catalogs included, is counted and dropped.
		if !s.requests.deliver(id, msg, now) {
			s.metrics.unsolicited.WithLabelValues(head.CmdType).Inc()
			s.Log.Debug("response without a pending request; ignored", "device", id, "cmd", head.CmdType, "sn", head.SN)
		}
	}
}

// refuseNoDialog answers 481 to a request that needs a dialog or
// subscription of ours that does not exist.
func (s *Server) refuseNoDialog(req *sip.Request, tx sip.ServerTransaction, id, what string) {
	s.metrics.dialogMismatch.WithLabelValues(req.Method.String()).Inc()
	s.Log.Info("request outside any dialog of ours refused", "device", id, "what", what, "from", req.Source())
	s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

// onKeepalive is the hot path: a map lookup, a lock and two atomic stores;
// no database access. State is written later in batches. A keepalive never
// moves a device: one from another source is refused (403), and a device
// whose NAT rebound its port answers that by registering again.
func (s *Server) onKeepalive(req *sip.Request, tx sip.ServerTransaction, id string) {
	now := s.now()
	d := s.devices.get(id)
	if d == nil {
		s.reply(req, tx, sip.StatusNotFound, "Device Not Registered")
		return
	}
	d.mu.Lock()
	if !d.registered || now.After(d.expiresAt) {
		d.mu.Unlock()
		s.reply(req, tx, sip.StatusNotFound, "Device Not Registered")
		return
	}
	if !d.sourceAllowed(req.Transport(), req.Source()) {
		d.mu.Unlock()
		s.refuseForeign(req, tx, id, manscdp.CmdKeepalive)
		return
	}
	wasOnline := d.online
	d.online = true
	d.mu.Unlock()
	d.lastKeepalive.Store(now.UnixNano())
	d.touched.Store(true)
	s.metrics.keepalives.Inc()
	s.reply(req, tx, sip.StatusOK, "OK")
	if !wasOnline {
		s.writer.status(store.StatusChange{DeviceID: id, Online: true, Cause: "keepalive", At: now})
		s.Log.Info("device online again", "device", id, "cause", "keepalive")
	}
}

func (s *Server) onAlarm(deviceID string, m *manscdp.AlarmNotify, now time.Time) {
	a := store.Alarm{
		DeviceID: deviceID, ChannelID: m.DeviceID, Priority: alarmPriority(m.AlarmPriority), Method: m.AlarmMethod,
		Description: m.AlarmDescription, At: m.AlarmTime.Time, ReceivedAt: now,
	}
	if a.At.IsZero() {
		a.At = now
	}
	if m.Longitude != 0 || m.Latitude != 0 {
		lon, lat := m.Longitude, m.Latitude
		a.Longitude, a.Latitude = &lon, &lat
	}
	if m.Info != nil {
		a.Type = m.Info.AlarmType
		if m.Info.AlarmTypeParam != nil && m.Info.AlarmTypeParam.EventType != "" {
			a.Extra = map[string]string{"EventType": m.Info.AlarmTypeParam.EventType}
		}
	}
	s.Log.Info("alarm", "device", deviceID, "channel", m.DeviceID, "priority", m.AlarmPriority, "method", m.AlarmMethod, "type", a.Type)
	s.background(func(ctx context.Context) {
		if err := s.Store.InsertAlarms(ctx, []store.Alarm{a}); err != nil {
			s.Log.Error("store alarm", "device", deviceID, "err", err)
		}
		// The alarm is acknowledged with a Response carrying its SN (A.2.6.8).
		if err := s.sendMANSCDP(ctx, deviceID, m.DeviceID, manscdp.NewAlarmResponse(m.DeviceID, m.SN)); err != nil {
			s.Log.Warn("acknowledge alarm", "device", deviceID, "err", err)
		}
		// Superiors hear of it even when it could not be stored.
		s.forwardAlarm(ctx, deviceID, m)
	})
}

func (s *Server) onMobilePosition(deviceID string, m *manscdp.MobilePositionNotify, now time.Time) {
	p := store.MobilePosition{
		DeviceID: deviceID, TargetID: m.DeviceID, At: m.Time.Time, Longitude: m.Longitude, Latitude: m.Latitude,
		ReceivedAt: now,
	}
	if p.At.IsZero() {
		p.At = now
	}
	speed, dir, alt := m.Speed, m.Direction, m.Altitude
	p.Speed, p.Direction, p.Altitude = &speed, &dir, &alt
	s.background(func(ctx context.Context) {
		if err := s.Store.InsertMobilePositions(ctx, []store.MobilePosition{p}); err != nil {
			s.Log.Error("store mobile position", "device", deviceID, "err", err)
		}
		s.forwardPosition(ctx, deviceID, m)
	})
}

// atoiOr parses a decimal field, or returns def.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}

// alarmPriority is 1 (highest) … 4; anything else is stored as 0 (unknown)
// rather than losing the alarm.
func alarmPriority(s string) int {
	if p := atoiOr(s, 0); p >= 1 && p <= 4 {
		return p
	}
	return 0
}
