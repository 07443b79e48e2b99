package sipserver

import (
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// fixedControls are the control commands without a parameter object, each
// as the DeviceControl it sends.
var fixedControls = map[string]manscdp.DeviceControl{
	"record_start": {RecordCmd: manscdp.RecordCmdRecord},
	"record_stop":  {RecordCmd: manscdp.RecordCmdStop},
	"guard_set":    {GuardCmd: manscdp.GuardCmdSet},
	"guard_reset":  {GuardCmd: manscdp.GuardCmdReset},
	"alarm_reset":  {AlarmCmd: manscdp.AlarmCmdReset},
	"iframe":       {IFameCmd: manscdp.IFameCmdSend},
	"reboot":       {TeleBoot: manscdp.TeleBootBoot},
}

// deviceControl builds the DeviceControl a control request asks for; an
// unknown command or a missing parameter object is a bad request.
func deviceControl(c sipapi.ControlRequest) (*manscdp.DeviceControl, error) {
	if dc, ok := fixedControls[c.Command]; ok {
		return &dc, nil
	}
	dc := &manscdp.DeviceControl{}
	switch c.Command {
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
