package sipserver

import (
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// deviceControl builds the DeviceControl a control request asks for; an
// unknown command or a missing parameter object is a bad request.
func deviceControl(c sipapi.ControlRequest) (*manscdp.DeviceControl, error) {
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
