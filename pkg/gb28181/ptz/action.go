package ptz

import (
	"fmt"
	"strings"
)

// Kind is the family of a command.
type Kind uint8

// Command families, selected by the instruction byte.
const (
	KindUnknown Kind = iota
	KindPTZ          // pan, tilt, zoom (0x00–0x3F)
	KindFI           // focus, iris (0x40–0x4F)
	KindPreset       // 0x81–0x83
	KindCruise       // 0x84–0x88
	KindScan         // 0x89–0x8A
	KindAux          // 0x8C–0x8D
)

// String returns the kind name.
func (k Kind) String() string {
	switch k {
	case KindPTZ:
		return "PTZ"
	case KindFI:
		return "FI"
	case KindPreset:
		return "preset"
	case KindCruise:
		return "cruise"
	case KindScan:
		return "scan"
	case KindAux:
		return "aux"
	}
	return "unknown"
}

// Op is the operation within a Kind.
type Op uint8

// Operations.
const (
	OpUnknown      Op = iota
	OpStop            // PTZ or FI without movement bits
	OpMove            // PTZ or FI with movement bits
	OpPresetSet       // store preset
	OpPresetCall      // go to preset
	OpPresetDelete    // delete preset
	OpCruiseAdd       // add a point to a cruise
	OpCruiseDelete    // delete a point (preset 0: the whole cruise)
	OpCruiseSpeed     // set cruise speed
	OpCruiseDwell     // set cruise dwell time
	OpCruiseStart     // start cruise
	OpScanStart       // start automatic scan
	OpScanLeft        // set scan left edge
	OpScanRight       // set scan right edge
	OpScanSpeed       // set scan speed
	OpAuxOn           // auxiliary switch on
	OpAuxOff          // auxiliary switch off
)

// String returns the operation name.
func (o Op) String() string {
	switch o {
	case OpStop:
		return "stop"
	case OpMove:
		return "move"
	case OpPresetSet:
		return "set"
	case OpPresetCall:
		return "call"
	case OpPresetDelete:
		return "delete"
	case OpCruiseAdd:
		return "add point"
	case OpCruiseDelete:
		return "delete point"
	case OpCruiseSpeed:
		return "set speed"
	case OpCruiseDwell:
		return "set dwell"
	case OpCruiseStart:
		return "start"
	case OpScanStart:
		return "start"
	case OpScanLeft:
		return "set left"
	case OpScanRight:
		return "set right"
	case OpScanSpeed:
		return "set speed"
	case OpAuxOn:
		return "on"
	case OpAuxOff:
		return "off"
	}
	return "unknown"
}

// Action is what a command asks a device to do. Only the fields of its Kind
// are set; the others are zero.
type Action struct {
	Kind Kind
	Op   Op

	// Direction, PanSpeed, TiltSpeed and ZoomSpeed (0–15) describe KindPTZ.
	// Direction may hold opposite bits if the sender set them.
	Direction Direction
	PanSpeed  uint8
	TiltSpeed uint8
	ZoomSpeed uint8

	// Lens, FocusSpeed and IrisSpeed describe KindFI.
	Lens       Lens
	FocusSpeed uint8
	IrisSpeed  uint8

	// Preset is the preset number of KindPreset and of cruise points.
	Preset uint8
	// Group is the cruise or scan group.
	Group uint8
	// Value is the 12-bit cruise speed, cruise dwell time (seconds) or scan speed.
	Value uint16
	// Switch is the auxiliary switch number (1 is the wiper).
	Switch uint8
}

// Describe interprets the command. Unrecognised instructions (and a scan
// instruction with an unknown sub-command) give KindUnknown.
func (c Command) Describe() Action {
	i := c.Instruction
	switch {
	case i&0xC0 == InstrPTZ:
		a := Action{Kind: KindPTZ, Op: OpStop, Direction: Direction(i), PanSpeed: c.Data1, TiltSpeed: c.Data2, ZoomSpeed: c.Data3}
		if a.Direction != 0 {
			a.Op = OpMove
		}
		return a
	case i&0xF0 == InstrFI:
		a := Action{Kind: KindFI, Op: OpStop, Lens: Lens(i & 0x0F), FocusSpeed: c.Data1, IrisSpeed: c.Data2}
		if a.Lens != 0 {
			a.Op = OpMove
		}
		return a
	}
	val := uint16(c.Data3)<<8 | uint16(c.Data2)
	switch i {
	case InstrPresetSet:
		return Action{Kind: KindPreset, Op: OpPresetSet, Preset: c.Data2}
	case InstrPresetCall:
		return Action{Kind: KindPreset, Op: OpPresetCall, Preset: c.Data2}
	case InstrPresetDelete:
		return Action{Kind: KindPreset, Op: OpPresetDelete, Preset: c.Data2}
	case InstrCruiseAdd:
		return Action{Kind: KindCruise, Op: OpCruiseAdd, Group: c.Data1, Preset: c.Data2}
	case InstrCruiseDelete:
		return Action{Kind: KindCruise, Op: OpCruiseDelete, Group: c.Data1, Preset: c.Data2}
	case InstrCruiseSpeed:
		return Action{Kind: KindCruise, Op: OpCruiseSpeed, Group: c.Data1, Value: val}
	case InstrCruiseDwell:
		return Action{Kind: KindCruise, Op: OpCruiseDwell, Group: c.Data1, Value: val}
	case InstrCruiseStart:
		return Action{Kind: KindCruise, Op: OpCruiseStart, Group: c.Data1}
	case InstrScan:
		switch c.Data2 {
		case scanStart:
			return Action{Kind: KindScan, Op: OpScanStart, Group: c.Data1}
		case scanSetLeft:
			return Action{Kind: KindScan, Op: OpScanLeft, Group: c.Data1}
		case scanSetRight:
			return Action{Kind: KindScan, Op: OpScanRight, Group: c.Data1}
		}
	case InstrScanSpeed:
		return Action{Kind: KindScan, Op: OpScanSpeed, Group: c.Data1, Value: val}
	case InstrAuxOn:
		return Action{Kind: KindAux, Op: OpAuxOn, Switch: c.Data1}
	case InstrAuxOff:
		return Action{Kind: KindAux, Op: OpAuxOff, Switch: c.Data1}
	}
	return Action{}
}

// String describes the action for logs, e.g. "PTZ move up|left pan=32 tilt=32 zoom=0".
func (a Action) String() string {
	switch a.Kind {
	case KindPTZ:
		if a.Op == OpStop {
			return "PTZ stop"
		}
		return fmt.Sprintf("PTZ move %v pan=%d tilt=%d zoom=%d", a.Direction, a.PanSpeed, a.TiltSpeed, a.ZoomSpeed)
	case KindFI:
		if a.Op == OpStop {
			return "FI stop"
		}
		return fmt.Sprintf("FI move %v focus=%d iris=%d", a.Lens, a.FocusSpeed, a.IrisSpeed)
	case KindPreset:
		return fmt.Sprintf("preset %v %d", a.Op, a.Preset)
	case KindCruise:
		switch a.Op {
		case OpCruiseAdd, OpCruiseDelete:
			return fmt.Sprintf("cruise %d %v preset=%d", a.Group, a.Op, a.Preset)
		case OpCruiseSpeed, OpCruiseDwell:
			return fmt.Sprintf("cruise %d %v %d", a.Group, a.Op, a.Value)
		}
		return fmt.Sprintf("cruise %d %v", a.Group, a.Op)
	case KindScan:
		if a.Op == OpScanSpeed {
			return fmt.Sprintf("scan %d %v %d", a.Group, a.Op, a.Value)
		}
		return fmt.Sprintf("scan %d %v", a.Group, a.Op)
	case KindAux:
		return fmt.Sprintf("aux %d %v", a.Switch, a.Op)
	}
	return "unknown"
}

// Pan returns -1 for left, +1 for right, 0 for none (or both).
func (d Direction) Pan() int { return axis(d&Right != 0, d&Left != 0) }

// Tilt returns +1 for up, -1 for down, 0 for none (or both).
func (d Direction) Tilt() int { return axis(d&Up != 0, d&Down != 0) }

// Zoom returns +1 for zoom in (tele), -1 for zoom out (wide), 0 for none (or both).
func (d Direction) Zoom() int { return axis(d&ZoomIn != 0, d&ZoomOut != 0) }

// String lists the movements joined by "|", "none" for none.
func (d Direction) String() string {
	return bitNames(uint8(d), []string{"right", "left", "down", "up", "zoom-in", "zoom-out"})
}

// Focus returns +1 for far, -1 for near, 0 for none (or both).
func (l Lens) Focus() int { return axis(l&FocusFar != 0, l&FocusNear != 0) }

// Iris returns +1 for open, -1 for close, 0 for none (or both).
func (l Lens) Iris() int { return axis(l&IrisOpen != 0, l&IrisClose != 0) }

// String lists the movements joined by "|", "none" for none.
func (l Lens) String() string {
	return bitNames(uint8(l), []string{"focus-far", "focus-near", "iris-open", "iris-close"})
}

func axis(plus, minus bool) int {
	switch {
	case plus && !minus:
		return 1
	case minus && !plus:
		return -1
	}
	return 0
}

func bitNames(v uint8, names []string) string {
	if v == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < 8; i++ {
		if v&(1<<i) == 0 {
			continue
		}
		if i < len(names) {
			parts = append(parts, names[i])
		} else {
			parts = append(parts, fmt.Sprintf("bit%d", i))
		}
	}
	return strings.Join(parts, "|")
}
