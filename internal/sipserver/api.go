package sipserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

//go:embed openapi.json
var openAPI []byte

// API is sipserver's internal HTTP API, used by console and mediagw. Every
// route but the OpenAPI document needs `Authorization: Bearer <service token>`.
type API struct {
	Server *Server
	Store  *store.Store
	// Token is the service token; empty disables the API (503).
	Token string
	Log   *slog.Logger
}

// Register adds the API's routes to mux under /internal/v1/.
func (a *API) Register(mux *http.ServeMux) {
	route := (&svcapi.API{Token: a.Token, Status: statusOf, Log: a.Log}).Mount(mux, openAPI)
	route("GET /internal/v1/summary", a.summary)
	route("GET /internal/v1/devices", a.listDevices)
	route("GET /internal/v1/devices/{device}", a.getDevice)
	route("GET /internal/v1/devices/{device}/status-log", a.statusLog)
	route("POST /internal/v1/devices/{device}/catalog", a.refreshCatalog)
	route("GET /internal/v1/devices/{device}/info", a.deviceInfo)
	route("GET /internal/v1/devices/{device}/status", a.deviceStatus)
	route("GET /internal/v1/devices/{device}/config", a.deviceConfig)
	route("PUT /internal/v1/devices/{device}/heartbeat", a.setHeartbeat)
	route("POST /internal/v1/devices/{device}/control", a.controlDevice)
	route("GET /internal/v1/channels", a.listChannels)
	route("GET /internal/v1/devices/{device}/channels/{channel}", a.getChannel)
	route("POST /internal/v1/devices/{device}/channels/{channel}/ptz", a.ptz)
	route("POST /internal/v1/devices/{device}/channels/{channel}/control", a.controlChannel)
	route("GET /internal/v1/devices/{device}/channels/{channel}/records", a.records)
	route("GET /internal/v1/devices/{device}/channels/{channel}/presets", a.presets)
	route("GET /internal/v1/alarms", a.alarms)
	route("PATCH /internal/v1/devices/{device}", a.patchDevice)
	route("PATCH /internal/v1/devices/{device}/channels/{channel}", a.patchChannel)
	route("POST /internal/v1/streams/needed", a.streamNeeded)
	route("POST /internal/v1/streams/idle", a.streamIdle)
	route("POST /internal/v1/streams/ended", a.streamEnded)
	route("GET /internal/v1/sessions", a.listSessions)
	route("POST /internal/v1/sessions", a.openSession)
	route("GET /internal/v1/sessions/{id}", a.getSession)
	route("DELETE /internal/v1/sessions/{id}", a.closeSession)
	route("POST /internal/v1/sessions/{id}/control", a.controlSession)
}

func badRequest(format string, args ...any) error { return svcapi.BadRequest(format, args...) }

func statusOf(err error) int {
	var rej *RejectedError
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrUnknownDevice), errors.Is(err, ErrNoSession):
		return http.StatusNotFound
	case errors.Is(err, ErrMediaUnavailable):
		return http.StatusServiceUnavailable
	case errors.As(err, &rej) && (rej.Code == 486 || rej.Code == 600):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrOffline):
		return http.StatusConflict
	case errors.As(err, &rej):
		return http.StatusBadGateway
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// listQuery holds the common parameters of list routes.
type listQuery struct {
	svcapi.Page
	from, to time.Time
}

// parseList reads limit, offset, online, q, from and to; all optional.
func parseList(r *http.Request) (listQuery, error) {
	var l listQuery
	var err error
	q := r.URL.Query()
	if l.Page, err = svcapi.ParsePage(q); err != nil {
		return l, err
	}
	if l.from, err = svcapi.ParseTime("from", q.Get("from"), false); err != nil {
		return l, err
	}
	l.to, err = svcapi.ParseTime("to", q.Get("to"), false)
	return l, err
}

// listResponse is the shape of every list.
type listResponse[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// deviceJSON is a device as the API shows it: stored fields and live state.
type deviceJSON struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Manufacturer      string     `json:"manufacturer"`
	Model             string     `json:"model"`
	Firmware          string     `json:"firmware"`
	Transport         string     `json:"transport"`
	RemoteAddr        string     `json:"remote_addr"`
	GBVersion         string     `json:"gb_version"`
	Online            bool       `json:"online"`
	Registered        bool       `json:"registered"`
	RegisteredAt      *time.Time `json:"registered_at,omitempty"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	LastKeepaliveAt   *time.Time `json:"last_keepalive_at,omitempty"`
	HeartbeatInterval int        `json:"heartbeat_interval"`
	HeartbeatCount    int        `json:"heartbeat_count"`
	ChannelCount      int        `json:"channel_count"`
	CatalogSubscribed bool       `json:"catalog_subscribed"`
	StreamTransport   string     `json:"stream_transport"`
	SourceCheck       string     `json:"source_check"`
}

// toJSON overlays the live state, which is newer than the stored row.
func (a *API) toJSON(d store.Device) deviceJSON {
	j := deviceJSON{
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
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"devices": total, "registered": registered, "online": online,
		"sip": map[string]any{"id": a.Server.Config.ID, "domain": a.Server.Config.Domain, "addr": a.Server.SIPAddr().String()},
	})
	return nil
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	devs, total, err := a.Store.ListDevices(r.Context(),
		store.DeviceFilter{Online: l.Online, Text: l.Q, Limit: l.Limit, Offset: l.Offset})
	if err != nil {
		return err
	}
	out := listResponse[deviceJSON]{Items: make([]deviceJSON, 0, len(devs)), Total: total}
	for _, d := range devs {
		out.Items = append(out.Items, a.toJSON(d))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := a.Store.GetDevice(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, a.toJSON(d))
	return nil
}

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
		from = to.Add(-7 * 24 * time.Hour)
	}
	log, err := a.Store.StatusLog(r.Context(), r.PathValue("device"), from, to)
	if err != nil {
		return err
	}
	type entry struct {
		ChannelID string    `json:"channel_id,omitempty"`
		Online    bool      `json:"online"`
		Cause     string    `json:"cause"`
		At        time.Time `json:"at"`
	}
	out := listResponse[entry]{Items: make([]entry, 0, len(log)), Total: len(log)}
	for _, c := range log {
		out.Items = append(out.Items, entry{c.ChannelID, c.Online, c.Cause, c.At})
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) refreshCatalog(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.RefreshCatalog(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]int{
		"added": res.Added, "updated": res.Updated, "removed": res.Removed, "unchanged": res.Unchanged,
	})
	return nil
}

func (a *API) deviceInfo(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.QueryDeviceInfo(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"name": res.DeviceName, "manufacturer": res.Manufacturer,
		"model": res.Model, "firmware": res.Firmware, "channels": res.Channel, "result": res.Result,
	})
	return nil
}

func (a *API) deviceStatus(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("device")
	res, err := a.Server.QueryDeviceStatus(r.Context(), id, id)
	if err != nil {
		return err
	}
	out := map[string]any{
		"online": res.Online, "status": res.Status, "reason": res.Reason, "encode": res.Encode,
		"record": res.Record, "result": res.Result,
	}
	if !res.DeviceTime.IsZero() {
		out["device_time"] = res.DeviceTime.Time
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deviceConfig(w http.ResponseWriter, r *http.Request) error {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "BasicParam"
	}
	res, err := a.Server.QueryConfig(r.Context(), r.PathValue("device"), typ)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"result": res.Result, "basic_param": res.BasicParam, "video_param_opt": res.VideoParamOpt,
	})
	return nil
}

func (a *API) setHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Interval int `json:"interval"`
		Count    int `json:"count"`
	}
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if err := a.Server.SetHeartbeat(r.Context(), r.PathValue("device"), time.Duration(body.Interval)*time.Second, body.Count); err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"interval": body.Interval, "count": body.Count})
	return nil
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	chs, total, err := a.Store.ListChannels(r.Context(), store.ChannelFilter{
		DeviceID: q.Get("device_id"), CivilCode: q.Get("civil_code"), ParentID: q.Get("parent_id"),
		Online: l.Online, Text: l.Q, Limit: l.Limit, Offset: l.Offset,
	})
	if err != nil {
		return err
	}
	out := listResponse[channelJSON]{Items: make([]channelJSON, 0, len(chs)), Total: total}
	for _, c := range chs {
		out.Items = append(out.Items, a.channelToJSON(c))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// channelJSON is a channel as the API shows it. Online is the catalog's
// status and the device's being online: a camera behind an offline NVR is
// not available whatever the NVR said last.
type channelJSON struct {
	DeviceID        string            `json:"device_id"`
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Manufacturer    string            `json:"manufacturer"`
	Model           string            `json:"model"`
	Owner           string            `json:"owner"`
	CivilCode       string            `json:"civil_code"`
	Address         string            `json:"address"`
	Parental        bool              `json:"parental"`
	ParentID        string            `json:"parent_id"`
	BusinessGroupID string            `json:"business_group_id"`
	Status          string            `json:"status"`
	Online          bool              `json:"online"`
	Longitude       *float64          `json:"longitude,omitempty"`
	Latitude        *float64          `json:"latitude,omitempty"`
	PTZType         int               `json:"ptz_type"`
	RetentionClass  string            `json:"retention_class"`
	Extra           map[string]string `json:"extra,omitempty"`
	StreamTransport string            `json:"stream_transport"`
}

func (a *API) channelToJSON(c store.Channel) channelJSON {
	online := c.Online
	if d := a.Server.devices.get(c.DeviceID); d == nil || !d.snapshot().Online {
		online = false
	}
	return channelJSON{
		DeviceID: c.DeviceID, ID: c.ID, Name: c.Name, Manufacturer: c.Manufacturer, Model: c.Model, Owner: c.Owner,
		CivilCode: c.CivilCode, Address: c.Address, Parental: c.Parental, ParentID: c.ParentID,
		BusinessGroupID: c.BusinessGroupID, Status: c.Status, Online: online, Longitude: c.Longitude,
		Latitude: c.Latitude, PTZType: c.PTZType, RetentionClass: c.RetentionClass, Extra: c.Extra,
		StreamTransport: c.StreamTransport,
	}
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Store.GetChannel(r.Context(), r.PathValue("device"), r.PathValue("channel"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, a.channelToJSON(c))
	return nil
}

// ptzRequest is the body of the PTZ route; see openapi.json for the actions.
type ptzRequest struct {
	Action string `json:"action"`
	// Directions for "move": up, down, left, right, zoom_in, zoom_out.
	Directions []string `json:"directions,omitempty"`
	// Speed is the pan/tilt speed (0–255), ZoomSpeed 0–15.
	Speed     *int `json:"speed,omitempty"`
	ZoomSpeed *int `json:"zoom_speed,omitempty"`
	// Lens for "lens": focus_far, focus_near, iris_open, iris_close.
	Lens   []string `json:"lens,omitempty"`
	Preset int      `json:"preset,omitempty"`
	Group  int      `json:"group,omitempty"`
	Value  int      `json:"value,omitempty"`
	Aux    int      `json:"aux,omitempty"`
}

var directionNames = map[string]ptz.Direction{
	"up": ptz.Up, "down": ptz.Down, "left": ptz.Left, "right": ptz.Right, "zoom_in": ptz.ZoomIn, "zoom_out": ptz.ZoomOut,
}

var lensNames = map[string]ptz.Lens{
	"focus_far": ptz.FocusFar, "focus_near": ptz.FocusNear, "iris_open": ptz.IrisOpen, "iris_close": ptz.IrisClose,
}

func u8(name string, v, limit int) (uint8, error) {
	if v < 0 || v > limit {
		return 0, badRequest("%s must be 0–%d", name, limit)
	}
	return uint8(v), nil //nolint:gosec // range checked above
}

// flags ORs together the named bits.
func flags[T ~uint8](names []string, table map[string]T, what string) (T, error) {
	var v T
	for _, n := range names {
		bit, ok := table[n]
		if !ok {
			return 0, badRequest("unknown %s %q", what, n)
		}
		v |= bit
	}
	return v, nil
}

// value12 clamps a cruise or scan parameter to the 12 bits it has.
func value12(v int) uint16 { return uint16(min(max(v, 0), ptz.MaxValue)) } //nolint:gosec // clamped

// command builds the PTZ command a request asks for.
func (p ptzRequest) command() (ptz.Command, error) {
	speed, zoom := 128, 8
	if p.Speed != nil {
		speed = *p.Speed
	}
	if p.ZoomSpeed != nil {
		zoom = *p.ZoomSpeed
	}
	var err error
	var s, z, preset, group, aux uint8
	for _, f := range []struct {
		dst   *uint8
		name  string
		v, to int
	}{
		{&s, "speed", speed, 255},
		{&z, "zoom_speed", zoom, ptz.MaxZoomSpeed},
		{&preset, "preset", p.Preset, 255},
		{&group, "group", p.Group, 255},
		{&aux, "aux", p.Aux, 255},
	} {
		if *f.dst, err = u8(f.name, f.v, f.to); err != nil {
			return ptz.Command{}, err
		}
	}
	switch p.Action {
	case "move":
		d, err := flags(p.Directions, directionNames, "direction")
		if err != nil {
			return ptz.Command{}, err
		}
		return ptz.Move(d, s, s, z)
	case "stop":
		return ptz.Stop(), nil
	case "lens":
		l, err := flags(p.Lens, lensNames, "lens movement")
		if err != nil {
			return ptz.Command{}, err
		}
		return ptz.FocusIris(l, s, s)
	case "lens_stop":
		return ptz.FIStop(), nil
	case "preset_set":
		return ptz.SetPreset(preset)
	case "preset_call":
		return ptz.CallPreset(preset)
	case "preset_delete":
		return ptz.DeletePreset(preset)
	case "cruise_add":
		return ptz.CruiseAddPoint(group, preset)
	case "cruise_delete":
		return ptz.CruiseDeletePoint(group, preset), nil
	case "cruise_speed":
		return ptz.CruiseSpeed(group, value12(p.Value))
	case "cruise_dwell":
		return ptz.CruiseDwell(group, value12(p.Value))
	case "cruise_start":
		return ptz.CruiseStart(group), nil
	case "scan_start":
		return ptz.ScanStart(group), nil
	case "scan_left":
		return ptz.ScanSetLeft(group), nil
	case "scan_right":
		return ptz.ScanSetRight(group), nil
	case "scan_speed":
		return ptz.ScanSpeed(group, value12(p.Value))
	case "aux_on":
		return ptz.AuxOn(aux), nil
	case "aux_off":
		return ptz.AuxOff(aux), nil
	default:
		return ptz.Command{}, badRequest("unknown PTZ action %q", p.Action)
	}
}

func (a *API) ptz(w http.ResponseWriter, r *http.Request) error {
	var body ptzRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	cmd, err := body.command()
	if err != nil {
		if errors.Is(err, svcapi.ErrBadRequest) {
			return err
		}
		return badRequest("%v", err)
	}
	if err := a.Server.PTZ(r.Context(), r.PathValue("device"), r.PathValue("channel"), cmd); err != nil {
		return err
	}
	hex, _ := cmd.Encode()
	svcapi.WriteJSON(w, http.StatusOK, map[string]string{"ptz_cmd": hex})
	return nil
}

// controlRequest is the body of the control routes.
type controlRequest struct {
	// Command: record_start, record_stop, guard_set, guard_reset, alarm_reset,
	// iframe, reboot, home_position, drag_zoom_in, drag_zoom_out.
	Command string `json:"command"`
	// HomePosition for home_position.
	HomePosition *manscdp.HomePosition `json:"home_position,omitempty"`
	// DragZoom for drag_zoom_in and drag_zoom_out.
	DragZoom *manscdp.DragZoom `json:"drag_zoom,omitempty"`
}

func (c controlRequest) control() (*manscdp.DeviceControl, error) {
	dc := &manscdp.DeviceControl{}
	switch c.Command {
	case "record_start":
		dc.RecordCmd = manscdp.RecordCmdRecord
	case "record_stop":
		dc.RecordCmd = manscdp.RecordCmdStop
	case "guard_set":
		dc.GuardCmd = manscdp.GuardCmdSet
	case "guard_reset":
		dc.GuardCmd = manscdp.GuardCmdReset
	case "alarm_reset":
		dc.AlarmCmd = manscdp.AlarmCmdReset
	case "iframe":
		dc.IFameCmd = manscdp.IFameCmdSend
	case "reboot":
		dc.TeleBoot = manscdp.TeleBootBoot
	case "home_position":
		if c.HomePosition == nil {
			return nil, badRequest("home_position needs a home_position object")
		}
		dc.HomePosition = c.HomePosition
	case "drag_zoom_in", "drag_zoom_out":
		if c.DragZoom == nil {
			return nil, badRequest("%s needs a drag_zoom object", c.Command)
		}
		if c.Command == "drag_zoom_in" {
			dc.DragZoomIn = c.DragZoom
		} else {
			dc.DragZoomOut = c.DragZoom
		}
	default:
		return nil, badRequest("unknown command %q", c.Command)
	}
	return dc, nil
}

func (a *API) controlDevice(w http.ResponseWriter, r *http.Request) error {
	return a.control(w, r, r.PathValue("device"))
}

func (a *API) controlChannel(w http.ResponseWriter, r *http.Request) error {
	return a.control(w, r, r.PathValue("channel"))
}

func (a *API) control(w http.ResponseWriter, r *http.Request, target string) error {
	var body controlRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	dc, err := body.control()
	if err != nil {
		return err
	}
	result, err := a.Server.Control(r.Context(), r.PathValue("device"), target, dc)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]string{"command": body.Command, "result": result})
	return nil
}

func (a *API) records(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	start, err := svcapi.ParseTime("start", q.Get("start"), true)
	if err != nil {
		return err
	}
	end, err := svcapi.ParseTime("end", q.Get("end"), true)
	if err != nil {
		return err
	}
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "all"
	}
	res, err := a.Server.QueryRecords(r.Context(), r.PathValue("device"), r.PathValue("channel"), start, end, typ)
	if err != nil {
		return err
	}
	type record struct {
		Name       string    `json:"name"`
		FilePath   string    `json:"file_path,omitempty"`
		Address    string    `json:"address,omitempty"`
		Start      time.Time `json:"start"`
		End        time.Time `json:"end"`
		Type       string    `json:"type,omitempty"`
		FileSize   int64     `json:"file_size,omitempty"`
		Secrecy    int       `json:"secrecy"`
		RecorderID string    `json:"recorder_id,omitempty"`
	}
	out := struct {
		listResponse[record]
		SumNum  int  `json:"sum_num"`
		Partial bool `json:"partial"`
	}{SumNum: res.SumNum, Partial: res.Partial}
	out.Items = make([]record, 0, len(res.Records))
	for _, it := range res.Records {
		out.Items = append(out.Items, record{
			Name: it.Name, FilePath: it.FilePath, Address: it.Address,
			Start: it.StartTime.Time, End: it.EndTime.Time, Type: it.Type, FileSize: it.FileSize, Secrecy: it.Secrecy,
			RecorderID: it.RecorderID,
		})
	}
	out.Total = len(out.Items)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) presets(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.QueryPresets(r.Context(), r.PathValue("device"), r.PathValue("channel"))
	if err != nil {
		return err
	}
	type preset struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := listResponse[preset]{Items: []preset{}}
	if res.PresetList != nil {
		for _, p := range res.PresetList.Items {
			out.Items = append(out.Items, preset{p.PresetID, p.PresetName})
		}
	}
	out.Total = len(out.Items)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) alarms(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, total, err := a.Store.ListAlarms(r.Context(), store.AlarmFilter{
		DeviceID: q.Get("device_id"), ChannelID: q.Get("channel_id"),
		From: l.from, To: l.to, Limit: l.Limit, Offset: l.Offset,
	})
	if err != nil {
		return err
	}
	type alarm struct {
		ID          int64             `json:"id"`
		DeviceID    string            `json:"device_id"`
		ChannelID   string            `json:"channel_id"`
		Priority    int               `json:"priority"`
		Method      string            `json:"method"`
		Type        string            `json:"type"`
		Description string            `json:"description"`
		Longitude   *float64          `json:"longitude,omitempty"`
		Latitude    *float64          `json:"latitude,omitempty"`
		At          time.Time         `json:"at"`
		ReceivedAt  time.Time         `json:"received_at"`
		Extra       map[string]string `json:"extra,omitempty"`
	}
	out := listResponse[alarm]{Items: make([]alarm, 0, len(list)), Total: total}
	for _, x := range list {
		out.Items = append(out.Items, alarm{
			x.ID, x.DeviceID, x.ChannelID, x.Priority, x.Method, x.Type, x.Description,
			x.Longitude, x.Latitude, x.At, x.ReceivedAt, x.Extra,
		})
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
