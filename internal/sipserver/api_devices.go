package sipserver

import (
	"net/http"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// deviceView shows d with the live state overlaid, which is newer than the
// stored row.
func (a *API) deviceView(d store.Device) sipapi.Device {
	j := sipapi.Device{
		ID: d.ID, Name: d.Name, Manufacturer: d.Manufacturer, Model: d.Model, Firmware: d.Firmware,
		Transport: d.Transport, RemoteAddr: d.RemoteAddr, GBVersion: d.GBVersion, Online: d.Online,
		RegisteredAt: d.RegisteredAt, ExpiresAt: d.ExpiresAt, LastKeepaliveAt: d.LastKeepaliveAt,
		HeartbeatInterval: d.HeartbeatInterval, HeartbeatCount: d.HeartbeatCount, ChannelCount: d.ChannelCount,
		StreamTransport: d.StreamTransport, SourceCheck: d.SourceCheck,
	}
	if dev := a.Server.devices.get(d.ID); dev != nil {
		s := dev.snapshot()
		j.Online, j.Registered = s.Online, s.Registered
		j.Transport, j.RemoteAddr = strings.ToLower(s.Transport), s.RemoteAddr
		j.HeartbeatInterval, j.HeartbeatCount = int(s.Interval/time.Second), s.Count
		j.CatalogSubscribed = s.SubscribedUntil.After(time.Now())
		if !s.ExpiresAt.IsZero() {
			j.ExpiresAt = &s.ExpiresAt
		}
		if s.Registered {
			j.LastKeepaliveAt = &s.LastKeepalive
		}
	}
	return j
}

func (a *API) summary(w http.ResponseWriter, _ *http.Request) error {
	total, registered, online := a.Server.devices.counts()
	svcapi.WriteJSON(w, http.StatusOK, sipapi.Summary{
		Devices: total, Registered: registered, Online: online,
		SIP: sipapi.SummarySIP{ID: a.Server.Config.ID, Domain: a.Server.Config.Domain, Addr: a.Server.SIPAddr().String()},
	})
	return nil
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	devs, total, err := a.catalog().ListDevices(r.Context(),
		store.DeviceFilter{Online: l.Online, Text: l.Q, Limit: l.Limit, Offset: l.Offset})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, devs, total, a.deviceView)
	return nil
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := a.catalog().GetDevice(r.Context(), r.PathValue("device"))
	return respond(w, d, err, a.deviceView)
}

// statusLogSpan is the span of a status log asked for without from.
const statusLogSpan = 7 * 24 * time.Hour

func (a *API) statusLog(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	from, to := l.from, l.to
	if to.IsZero() {
		to = time.Now().Add(time.Minute)
	}
	if from.IsZero() {
		from = to.Add(-statusLogSpan)
	}
	log, err := a.Store.StatusLog(r.Context(), r.PathValue("device"), from, to)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, log, len(log), func(c store.StatusChange) sipapi.StatusChange {
		return sipapi.StatusChange{ChannelID: c.ChannelID, Online: c.Online, Cause: c.Cause, At: c.At}
	})
	return nil
}

func (a *API) refreshCatalog(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.RefreshCatalog(r.Context(), r.PathValue("device"))
	return respond(w, res, err, func(res store.CatalogSyncResult) sipapi.CatalogResult {
		return sipapi.CatalogResult{Added: res.Added, Updated: res.Updated, Removed: res.Removed, Unchanged: res.Unchanged}
	})
}

func (a *API) deviceInfo(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.QueryDeviceInfo(r.Context(), r.PathValue("device"))
	return respond(w, res, err, func(res *manscdp.DeviceInfoResponse) sipapi.DeviceInfo {
		return sipapi.DeviceInfo{
			Name: res.DeviceName, Manufacturer: res.Manufacturer,
			Model: res.Model, Firmware: res.Firmware, Channels: res.Channel, Result: res.Result,
		}
	})
}

func (a *API) deviceStatus(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("device")
	res, err := a.Server.QueryDeviceStatus(r.Context(), id, id)
	return respond(w, res, err, func(res *manscdp.DeviceStatusResponse) sipapi.DeviceStatus {
		out := sipapi.DeviceStatus{
			Online: res.Online, Status: res.Status, Reason: res.Reason, Encode: res.Encode,
			Record: res.Record, Result: res.Result,
		}
		if !res.DeviceTime.IsZero() {
			out.DeviceTime = &res.DeviceTime.Time
		}
		return out
	})
}

func (a *API) deviceConfig(w http.ResponseWriter, r *http.Request) error {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "BasicParam"
	}
	res, err := a.Server.QueryConfig(r.Context(), r.PathValue("device"), typ)
	return respond(w, res, err, func(res *manscdp.ConfigDownloadResponse) sipapi.DeviceConfig {
		return sipapi.DeviceConfig{Result: res.Result, BasicParam: res.BasicParam, VideoParamOpt: res.VideoParamOpt}
	})
}

func (a *API) setHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.Heartbeat
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if err := a.Server.SetHeartbeat(r.Context(), r.PathValue("device"), time.Duration(body.Interval)*time.Second, body.Count); err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

func (a *API) patchDevice(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("device")
	var body sipapi.DevicePatch
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if body.StreamTransport == nil && body.SourceCheck == nil {
		return badRequest("stream_transport or source_check is required")
	}
	if body.SourceCheck != nil && *body.SourceCheck != store.SourceStrict && *body.SourceCheck != store.SourceIP {
		return badRequest("source_check must be strict or ip, got %q", *body.SourceCheck)
	}
	ctx := r.Context()
	if body.StreamTransport != nil {
		v, err := streamTransport(body.StreamTransport)
		if err != nil {
			return err
		}
		if err := a.Store.SetDeviceStreamTransport(ctx, id, v); err != nil {
			return storeErr(err)
		}
	}
	if body.SourceCheck != nil {
		if err := a.Server.SetSourceCheck(ctx, id, *body.SourceCheck); err != nil {
			return storeErr(err)
		}
	}
	d, err := a.catalog().GetDevice(ctx, id)
	return respond(w, d, err, a.deviceView)
}
