package ptz_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

// Describe must classify raw instruction bytes as a device would, including
// those no constructor produces.
func TestDescribeRaw(t *testing.T) {
	tests := []struct {
		c    ptz.Command
		kind ptz.Kind
		op   ptz.Op
		str  string
	}{
		{ptz.Command{Instruction: 0x3F}, ptz.KindPTZ, ptz.OpMove, "PTZ move right|left|down|up|zoom-in|zoom-out pan=0 tilt=0 zoom=0"},
		{ptz.Command{Instruction: 0x4F}, ptz.KindFI, ptz.OpMove, "FI move focus-far|focus-near|iris-open|iris-close focus=0 iris=0"},
		{ptz.Command{Instruction: 0x50}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0x7F}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0x80}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0x89, Data2: 3}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0x8B}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0x8E}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
		{ptz.Command{Instruction: 0xFF}, ptz.KindUnknown, ptz.OpUnknown, "unknown"},
	}
	for _, tt := range tests {
		a := tt.c.Describe()
		if a.Kind != tt.kind || a.Op != tt.op {
			t.Errorf("%#x: kind %v op %v, want %v %v", tt.c.Instruction, a.Kind, a.Op, tt.kind, tt.op)
		}
		if a.String() != tt.str {
			t.Errorf("%#x: String = %q, want %q", tt.c.Instruction, a.String(), tt.str)
		}
	}
}

func TestAxes(t *testing.T) {
	tests := []struct {
		d               ptz.Direction
		pan, tilt, zoom int
	}{
		{0, 0, 0, 0},
		{ptz.Right, 1, 0, 0},
		{ptz.Left, -1, 0, 0},
		{ptz.Up, 0, 1, 0},
		{ptz.Down, 0, -1, 0},
		{ptz.ZoomIn, 0, 0, 1},
		{ptz.ZoomOut, 0, 0, -1},
		{ptz.Up | ptz.Left | ptz.ZoomIn, -1, 1, 1},
		{ptz.Up | ptz.Down | ptz.Left | ptz.Right, 0, 0, 0}, // contradictions cancel
	}
	for _, tt := range tests {
		if tt.d.Pan() != tt.pan || tt.d.Tilt() != tt.tilt || tt.d.Zoom() != tt.zoom {
			t.Errorf("%v: pan %d tilt %d zoom %d", tt.d, tt.d.Pan(), tt.d.Tilt(), tt.d.Zoom())
		}
	}
	lens := []struct {
		l           ptz.Lens
		focus, iris int
	}{
		{0, 0, 0},
		{ptz.FocusFar, 1, 0},
		{ptz.FocusNear, -1, 0},
		{ptz.IrisOpen, 0, 1},
		{ptz.IrisClose, 0, -1},
		{ptz.FocusFar | ptz.FocusNear | ptz.IrisClose, 0, -1},
	}
	for _, tt := range lens {
		if tt.l.Focus() != tt.focus || tt.l.Iris() != tt.iris {
			t.Errorf("%v: focus %d iris %d", tt.l, tt.l.Focus(), tt.l.Iris())
		}
	}
}

func TestNames(t *testing.T) {
	if s := ptz.Direction(0).String(); s != "none" {
		t.Errorf("Direction(0) = %q", s)
	}
	if s := ptz.Direction(0xC1).String(); s != "right|bit6|bit7" {
		t.Errorf("Direction(0xC1) = %q", s)
	}
	if s := ptz.Lens(0).String(); s != "none" {
		t.Errorf("Lens(0) = %q", s)
	}
	kinds := map[ptz.Kind]string{
		ptz.KindUnknown: "unknown", ptz.KindPTZ: "PTZ", ptz.KindFI: "FI", ptz.KindPreset: "preset",
		ptz.KindCruise: "cruise", ptz.KindScan: "scan", ptz.KindAux: "aux", 99: "unknown",
	}
	for k, want := range kinds {
		if k.String() != want {
			t.Errorf("Kind(%d) = %q, want %q", k, k.String(), want)
		}
	}
	ops := map[ptz.Op]string{
		ptz.OpUnknown: "unknown", ptz.OpStop: "stop", ptz.OpMove: "move", ptz.OpPresetSet: "set",
		ptz.OpPresetCall: "call", ptz.OpPresetDelete: "delete", ptz.OpCruiseAdd: "add point",
		ptz.OpCruiseDelete: "delete point", ptz.OpCruiseSpeed: "set speed", ptz.OpCruiseDwell: "set dwell",
		ptz.OpCruiseStart: "start", ptz.OpScanStart: "start", ptz.OpScanLeft: "set left",
		ptz.OpScanRight: "set right", ptz.OpScanSpeed: "set speed", ptz.OpAuxOn: "on", ptz.OpAuxOff: "off", 99: "unknown",
	}
	for o, want := range ops {
		if o.String() != want {
			t.Errorf("Op(%d) = %q, want %q", o, o.String(), want)
		}
	}
}
