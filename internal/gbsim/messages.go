package gbsim

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

const (
	deviceManufacturer = "Sharpeyes"
	deviceModel        = "GBSIM-NVR"
	deviceFirmware     = "V1.0.0"
)

// isManscdp reports whether a Content-Type is MANSCDP XML, in any case.
func isManscdp(req *sip.Request) bool {
	ct := req.ContentType()
	return ct == nil || strings.Contains(strings.ToLower(ct.Value()), "manscdp")
}

// onMessage answers the SIP transaction at once and sends the MANSCDP
// answer, if any, in MESSAGEs of its own (Annex A).
func (d *device) onMessage(req *sip.Request, tx *sip.ServerTx) {
	if !isManscdp(req) {
		_ = tx.Respond(response(req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil))
		return
	}
	msg, err := manscdp.Decode(req.Body())
	if err != nil && msg == nil {
		d.log.Warn("bad MANSCDP body", "err", err)
		_ = tx.Respond(response(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	_ = tx.Respond(response(req, sip.StatusOK, "OK", nil))
	ctx, cancel := context.WithTimeout(d.sim.ctx, time.Minute)
	defer cancel()
	d.answer(ctx, msg, req.Transport())
}

// answer carries out one MANSCDP request and sends its answers.
func (d *device) answer(ctx context.Context, msg manscdp.Message, transport string) {
	h := msg.Head()
	perPacket := d.sim.cfg.UDPCatalogPerPacket
	if transport == "TCP" {
		perPacket = d.sim.cfg.TCPCatalogPerPacket
	}
	d.log.Debug("MANSCDP request", "cmd", h.CmdType, "sn", h.SN, "target", h.DeviceID)
	switch m := msg.(type) {
	case *manscdp.CatalogQuery:
		items := make([]manscdp.CatalogItem, 0, len(d.channels))
		for _, c := range d.channels {
			items = append(items, c.catalogItem())
		}
		for _, page := range manscdp.NewCatalogPages(d.id, m.SN, items, perPacket) {
			if !d.send(ctx, page) {
				return
			}
		}
	case *manscdp.DeviceInfoQuery:
		d.send(ctx, manscdp.NewDeviceInfoResponse(d.id, m.SN, d.name, deviceManufacturer, deviceModel, deviceFirmware, len(d.channels)))
	case *manscdp.DeviceStatusQuery:
		d.send(ctx, d.status(m))
	case *manscdp.RecordInfoQuery:
		var items []manscdp.RecordItem
		name := d.name
		if c := d.channel(m.DeviceID); c != nil {
			name = c.name
			items = c.recordings(d.sim.now(), m.StartTime.Time, m.EndTime.Time, m.Type)
		}
		for _, page := range manscdp.NewRecordInfoPages(m.DeviceID, name, m.SN, items, perPacket) {
			if !d.send(ctx, page) {
				return
			}
		}
	case *manscdp.PresetQuery:
		c := d.channelOrFirst(m.DeviceID)
		d.send(ctx, &manscdp.PresetQueryResponse{
			Header:     manscdp.ReplyHeader(m),
			PresetList: &manscdp.List[manscdp.PresetItem]{Items: c.presetList()},
		})
	case *manscdp.DeviceControl:
		d.control(ctx, m)
	case *manscdp.DeviceConfig:
		if p := m.BasicParam; p != nil {
			if p.Name != "" {
				d.log.Info("DeviceConfig", "name", p.Name, "heartbeat_interval", p.HeartBeatInterval, "expiration", p.Expiration)
			}
		}
		d.sendResult(ctx, manscdp.CmdDeviceConfig, m)
	case *manscdp.ConfigDownloadQuery:
		d.send(ctx, &manscdp.ConfigDownloadResponse{
			Header: manscdp.ReplyHeader(m),
			Result: manscdp.ResultOK,
			BasicParam: &manscdp.BasicParam{
				Name: d.name, DeviceID: d.id, SIPServerID: d.sim.cfg.ServerID, DomainName: d.sim.cfg.Domain,
				Expiration: d.sim.cfg.Expires, HeartBeatInterval: int(d.sim.cfg.Keepalive / time.Second), HeartBeatCount: 3,
			},
			VideoParamOpt: &manscdp.VideoParamOpt{DownloadSpeed: "1/2/4/8", Resolution: "5/6"},
		})
	case *manscdp.MobilePositionQuery:
		d.send(ctx, d.position(d.channelOrFirst(m.DeviceID)))
	case *manscdp.BroadcastNotify:
		// Voice broadcast needs an audio sink; decline it.
		if r, err := manscdp.NewResult(manscdp.CmdBroadcast, m.TargetID, m.SN, false); err == nil {
			d.send(ctx, r)
		}
	case *manscdp.AlarmResponse, *manscdp.Unknown:
		// Acknowledgements of our alarms, or commands we do not model.
	default:
		d.log.Debug("MANSCDP request ignored", "cmd", h.CmdType)
	}
}

func (d *device) channelOrFirst(id string) *channel {
	if c := d.channel(id); c != nil {
		return c
	}
	return d.channels[0]
}

// control executes a DeviceControl.
func (d *device) control(ctx context.Context, m *manscdp.DeviceControl) {
	switch {
	case m.PTZCmd != "":
		c := d.channelOrFirst(m.DeviceID)
		cmd, err := ptz.Decode(m.PTZCmd)
		if err != nil {
			d.log.Warn("bad PTZCmd", "channel_id", c.id, "ptz", m.PTZCmd, "err", err)
			return
		}
		act := cmd.Describe()
		state := c.applyPTZ(act)
		d.log.Info("PTZ", "channel_id", c.id, "cmd", m.PTZCmd, "action", act.String(), "checksum_ok", cmd.ChecksumOK, "state", state)
		// PTZ commands get no XML answer on most devices.
	case m.TeleBoot != "":
		d.sendResult(ctx, manscdp.CmdDeviceControl, m)
		select {
		case d.rebootCh <- struct{}{}:
		default:
		}
	default:
		d.log.Info("DeviceControl", "target", m.DeviceID, "command", m.Command())
		d.sendResult(ctx, manscdp.CmdDeviceControl, m)
	}
}

func (d *device) status(m *manscdp.DeviceStatusQuery) *manscdp.DeviceStatusResponse {
	alarms := make([]manscdp.AlarmStatusItem, 0, len(d.channels))
	for _, c := range d.channels {
		alarms = append(alarms, manscdp.AlarmStatusItem{DeviceID: c.id, DutyStatus: manscdp.DutyOnDuty})
	}
	return &manscdp.DeviceStatusResponse{
		Header:      manscdp.ReplyHeader(m),
		Result:      manscdp.ResultOK,
		Online:      "ONLINE",
		Status:      manscdp.ResultOK,
		Encode:      manscdp.StatusOn,
		Record:      manscdp.StatusOn,
		DeviceTime:  manscdp.NewTime(d.sim.now().Truncate(time.Second)),
		Alarmstatus: &manscdp.List[manscdp.AlarmStatusItem]{Items: alarms},
	}
}

// position reports the channel's fixed position (mobile devices would move).
func (d *device) position(c *channel) *manscdp.MobilePositionNotify {
	pan, _, _ := c.position()
	return &manscdp.MobilePositionNotify{
		Header:    manscdp.Header{SN: d.nextSN(), DeviceID: c.id},
		Time:      manscdp.NewTime(d.sim.now().Truncate(time.Second)),
		Longitude: c.lon,
		Latitude:  c.lat,
		Direction: pan,
	}
}

func (d *device) sendResult(ctx context.Context, cmd string, req manscdp.Message) {
	r, err := manscdp.NewResult(cmd, req.Head().DeviceID, req.Head().SN, true)
	if err != nil {
		d.log.Warn("build result", "err", err)
		return
	}
	d.send(ctx, r)
}

// send encodes msg in GB2312 and sends it in a MESSAGE; it reports whether
// the platform accepted it.
func (d *device) send(ctx context.Context, msg manscdp.Message) bool {
	body, err := manscdp.Encode(msg, manscdp.Options{Version: manscdp.Version2016})
	if err != nil {
		d.log.Warn("encode MANSCDP", "cmd", msg.Head().CmdType, "err", err)
		return false
	}
	code, err := d.sendManscdp(ctx, body)
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			d.log.Warn("MESSAGE failed", "cmd", msg.Head().CmdType, "err", err)
		}
		return false
	}
	if code >= 300 {
		d.log.Warn("MESSAGE rejected", "cmd", msg.Head().CmdType, "status", code)
		return false
	}
	return true
}

// sendAlarm raises an alarm on a channel: in each alarm subscription's
// dialog if there is one, else in a MESSAGE.
func (d *device) sendAlarm(ctx context.Context) {
	c := d.channels[int(d.sn.Load())%len(d.channels)]
	a := &manscdp.AlarmNotify{
		Header:           manscdp.Header{SN: d.nextSN(), DeviceID: c.id},
		AlarmPriority:    "1",
		AlarmMethod:      "5",
		AlarmTime:        manscdp.NewTime(d.sim.now().Truncate(time.Second)),
		AlarmDescription: c.name + " 视频报警",
		Longitude:        c.lon,
		Latitude:         c.lat,
		Info:             &manscdp.AlarmInfo{AlarmType: "2", AlarmTypeParam: &manscdp.AlarmTypeParam{EventType: "1"}},
	}
	d.log.Info("alarm", "channel_id", c.id)
	if d.notifySubscribers(ctx, manscdp.CmdAlarm, a) {
		return
	}
	d.send(ctx, a)
}
