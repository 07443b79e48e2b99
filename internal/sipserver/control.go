package sipserver

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

// RefreshCatalog queries a device's catalog now and applies it.
func (s *Server) RefreshCatalog(ctx context.Context, deviceID string) (store.CatalogSyncResult, error) {
	return s.catalog.queryCatalog(ctx, deviceID)
}

// QueryDeviceInfo asks a device for its identity (A.2.4.4).
func (s *Server) QueryDeviceInfo(ctx context.Context, deviceID string) (*manscdp.DeviceInfoResponse, error) {
	return queryOne[*manscdp.DeviceInfoResponse](ctx, s, deviceID, deviceID, &manscdp.DeviceInfoQuery{})
}

// QueryDeviceStatus asks a device (or channel) for its running state (A.2.4.2).
func (s *Server) QueryDeviceStatus(ctx context.Context, deviceID, target string) (*manscdp.DeviceStatusResponse, error) {
	return queryOne[*manscdp.DeviceStatusResponse](ctx, s, deviceID, target, &manscdp.DeviceStatusQuery{})
}

// QueryPresets asks a channel for its PTZ presets (A.2.4.8).
func (s *Server) QueryPresets(ctx context.Context, deviceID, channelID string) (*manscdp.PresetQueryResponse, error) {
	return queryOne[*manscdp.PresetQueryResponse](ctx, s, deviceID, channelID, &manscdp.PresetQuery{})
}

// QueryConfig asks a device for its settings (A.2.4.7); configType is e.g. "BasicParam".
func (s *Server) QueryConfig(ctx context.Context, deviceID, configType string) (*manscdp.ConfigDownloadResponse, error) {
	return queryOne[*manscdp.ConfigDownloadResponse](ctx, s, deviceID, deviceID, &manscdp.ConfigDownloadQuery{ConfigType: configType})
}

// QueryRecords asks a channel for its recordings in [start, end) (A.2.4.5),
// reassembling a multi-packet answer.
func (s *Server) QueryRecords(ctx context.Context, deviceID, channelID string, start, end time.Time, typ string) (*manscdp.Result, error) {
	if !end.After(start) {
		return nil, fmt.Errorf("%w: end must be after start", ErrInvalid)
	}
	q := &manscdp.RecordInfoQuery{StartTime: manscdp.NewTime(start), EndTime: manscdp.NewTime(end), Type: typ}
	a, err := s.query(ctx, deviceID, channelID, q)
	if err != nil {
		return nil, err
	}
	if a.result == nil {
		return nil, fmt.Errorf("RecordInfo of %s: unexpected answer", channelID)
	}
	return a.result, nil
}

// SetHeartbeat configures a device's keepalive interval and count
// (DeviceConfig BasicParam) and, once the device accepts, watches it with them.
func (s *Server) SetHeartbeat(ctx context.Context, deviceID string, interval time.Duration, count int) error {
	if interval < 5*time.Second || interval > time.Hour || count < 1 || count > 100 {
		return fmt.Errorf("%w: heartbeat interval must be 5s–1h and count 1–100", ErrInvalid)
	}
	secs := int(interval / time.Second)
	res, err := queryOne[*manscdp.DeviceConfigResponse](ctx, s, deviceID, deviceID, &manscdp.DeviceConfig{
		BasicParam: &manscdp.BasicParam{HeartBeatInterval: secs, HeartBeatCount: count},
	})
	if err != nil {
		return err
	}
	if res.Result != manscdp.ResultOK {
		return &RejectedError{Method: "DeviceConfig", Code: 200, Reason: "Result " + res.Result}
	}
	s.applyHeartbeat(ctx, deviceID, secs, count)
	return nil
}

// applyHeartbeat starts watching a device with its own keepalive settings.
func (s *Server) applyHeartbeat(ctx context.Context, deviceID string, secs, count int) {
	if secs <= 0 || count <= 0 {
		return
	}
	if d := s.devices.get(deviceID); d != nil {
		d.mu.Lock()
		d.interval, d.count = time.Duration(secs)*time.Second, count
		d.mu.Unlock()
	}
	if err := s.Store.SetHeartbeat(ctx, deviceID, secs, count); err != nil {
		s.Log.Warn("store heartbeat settings", "device", deviceID, "err", err)
	}
}

// PTZ sends a front-end control command (A.3) to a channel. Devices do not
// answer PTZ commands beyond the SIP 200.
func (s *Server) PTZ(ctx context.Context, deviceID, channelID string, cmd ptz.Command) error {
	hex, err := cmd.Encode()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c := manscdp.NewPTZControl(channelID, s.nextSN(), hex)
	return s.sendControl(ctx, deviceID, channelID, c)
}

// Control sends a DeviceControl to a device or channel. Commands that the
// standard answers with a Result (record, guard, alarm reset, home position)
// wait for it; the others (reboot, I-frame, drag zoom) return after the SIP 200.
func (s *Server) Control(ctx context.Context, deviceID, target string, c *manscdp.DeviceControl) (string, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch c.Command() {
	case "RecordCmd", "GuardCmd", "AlarmCmd", "HomePosition":
		res, err := queryOne[*manscdp.DeviceControlResponse](ctx, s, deviceID, target, c)
		if err != nil {
			return "", err
		}
		return res.Result, nil
	default:
		c.SN = s.nextSN()
		c.DeviceID = target
		return "", s.sendControl(ctx, deviceID, target, c)
	}
}

func (s *Server) sendControl(ctx context.Context, deviceID, target string, c *manscdp.DeviceControl) error {
	ctx, cancel := context.WithTimeout(ctx, s.Config.RequestTimeout.Std())
	defer cancel()
	err := s.sendMANSCDP(ctx, deviceID, target, c)
	outcome := "sent"
	if err != nil {
		outcome = "error"
	}
	s.metrics.queries.WithLabelValues(manscdp.CmdDeviceControl, outcome).Inc()
	return err
}

// queryOne runs a single-packet query and checks the answer's type.
func queryOne[T manscdp.Message](ctx context.Context, s querier, deviceID, target string, q manscdp.Message) (T, error) {
	var zero T
	a, err := s.query(ctx, deviceID, target, q)
	if err != nil {
		return zero, err
	}
	res, ok := a.msg.(T)
	if !ok {
		return zero, fmt.Errorf("%s of %s: answer of type %T", manscdp.CmdTypeOf(q), target, a.msg)
	}
	return res, nil
}
