package ptz_test

import (
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

func TestRequestCommand(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name string
		req  ptz.Request
		want ptz.Command
		err  error
	}{
		{
			"move defaults",
			ptz.Request{Action: "move", Directions: []string{"up", "left"}},
			cmd(ptz.Move(ptz.Up|ptz.Left, 128, 128, 8)), nil,
		},
		{
			"move speeds",
			ptz.Request{Action: "move", Directions: []string{"zoom_in"}, Speed: n(100), ZoomSpeed: n(3)},
			cmd(ptz.Move(ptz.ZoomIn, 100, 100, 3)), nil,
		},
		{"stop", ptz.Request{Action: "stop"}, ptz.Stop(), nil},
		{
			"lens",
			ptz.Request{Action: "lens", Lens: []string{"focus_far"}, Speed: n(9)},
			cmd(ptz.FocusIris(ptz.FocusFar, 9, 9)), nil,
		},
		{"lens stop", ptz.Request{Action: "lens_stop"}, ptz.FIStop(), nil},
		{"preset call", ptz.Request{Action: "preset_call", Preset: 3}, cmd(ptz.CallPreset(3)), nil},
		{"cruise add", ptz.Request{Action: "cruise_add", Group: 1, Preset: 2}, cmd(ptz.CruiseAddPoint(1, 2)), nil},
		{
			"cruise speed clamped",
			ptz.Request{Action: "cruise_speed", Group: 1, Value: 99999},
			cmd(ptz.CruiseSpeed(1, ptz.MaxValue)), nil,
		},
		{"scan start", ptz.Request{Action: "scan_start", Group: 4}, ptz.ScanStart(4), nil},
		{"aux on", ptz.Request{Action: "aux_on", Aux: 2}, ptz.AuxOn(2), nil},
		{"unknown action", ptz.Request{Action: "spin"}, ptz.Command{}, ptz.ErrUnknown},
		{"unknown direction", ptz.Request{Action: "move", Directions: []string{"sideways"}}, ptz.Command{}, ptz.ErrUnknown},
		{"speed range", ptz.Request{Action: "move", Speed: n(256)}, ptz.Command{}, ptz.ErrRange},
		{"zoom range", ptz.Request{Action: "move", ZoomSpeed: n(16)}, ptz.Command{}, ptz.ErrRange},
		{"negative preset", ptz.Request{Action: "preset_set", Preset: -1}, ptz.Command{}, ptz.ErrRange},
		{"conflict", ptz.Request{Action: "move", Directions: []string{"up", "down"}}, ptz.Command{}, ptz.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.req.Command()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%v %v, want %v", got, err, tc.want)
			}
		})
	}
}
