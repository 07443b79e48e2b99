package sipserver

import (
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func TestDeviceControl(t *testing.T) {
	zoom := &manscdp.DragZoom{Length: 1920, Width: 1080}
	home := &manscdp.HomePosition{Enabled: 1, ResetTime: 30}
	for _, tc := range []struct {
		req  sipapi.ControlRequest
		want string // the command element set, "" for a bad request
	}{
		{sipapi.ControlRequest{Command: "record_start"}, "RecordCmd"},
		{sipapi.ControlRequest{Command: "record_stop"}, "RecordCmd"},
		{sipapi.ControlRequest{Command: "guard_set"}, "GuardCmd"},
		{sipapi.ControlRequest{Command: "guard_reset"}, "GuardCmd"},
		{sipapi.ControlRequest{Command: "alarm_reset"}, "AlarmCmd"},
		{sipapi.ControlRequest{Command: "iframe"}, "IFameCmd"},
		{sipapi.ControlRequest{Command: "reboot"}, "TeleBoot"},
		{sipapi.ControlRequest{Command: "home_position", HomePosition: home}, "HomePosition"},
		{sipapi.ControlRequest{Command: "drag_zoom_in", DragZoom: zoom}, "DragZoomIn"},
		{sipapi.ControlRequest{Command: "drag_zoom_out", DragZoom: zoom}, "DragZoomOut"},
		{sipapi.ControlRequest{Command: "home_position"}, ""},
		{sipapi.ControlRequest{Command: "drag_zoom_in"}, ""},
		{sipapi.ControlRequest{Command: "self_destruct"}, ""},
	} {
		t.Run(tc.req.Command+"/"+tc.want, func(t *testing.T) {
			dc, err := deviceControl(tc.req)
			if tc.want == "" {
				if !errors.Is(err, svcapi.ErrBadRequest) {
					t.Fatalf("err = %v, want a bad request", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := dc.Command(); got != tc.want {
				t.Errorf("command %q, want %q", got, tc.want)
			}
			if err := dc.Validate(); err != nil {
				t.Errorf("invalid DeviceControl: %v", err)
			}
		})
	}
	// The table's entries are templates: a built command must not change them.
	dc, _ := deviceControl(sipapi.ControlRequest{Command: "reboot"})
	dc.TeleBoot = "changed"
	if fixedControls["reboot"].TeleBoot != manscdp.TeleBootBoot {
		t.Error("deviceControl handed out the table's entry")
	}
}
