package ptz

import "fmt"

// Direction is a set of PTZ movements: the bits of instruction byte 4 of a
// PTZ command. Combine with |, e.g. Up|Left|ZoomIn.
type Direction uint8

// PTZ movement bits.
const (
	Right   Direction = 1 << 0
	Left    Direction = 1 << 1
	Down    Direction = 1 << 2
	Up      Direction = 1 << 3
	ZoomIn  Direction = 1 << 4
	ZoomOut Direction = 1 << 5

	allDirections = Right | Left | Down | Up | ZoomIn | ZoomOut
)

// Lens is a set of focus and iris movements: the low bits of an FI command.
type Lens uint8

// FI movement bits.
const (
	FocusFar  Lens = 1 << 0
	FocusNear Lens = 1 << 1
	IrisOpen  Lens = 1 << 2 // larger aperture
	IrisClose Lens = 1 << 3 // smaller aperture

	allLens = FocusFar | FocusNear | IrisOpen | IrisClose
)

// Instruction codes (byte 4). PTZ commands are 0x00–0x3F and FI commands
// 0x40–0x4F, with movement bits in the low bits.
const (
	InstrPTZ          = 0x00
	InstrFI           = 0x40
	InstrPresetSet    = 0x81
	InstrPresetCall   = 0x82
	InstrPresetDelete = 0x83
	InstrCruiseAdd    = 0x84
	InstrCruiseDelete = 0x85
	InstrCruiseSpeed  = 0x86
	InstrCruiseDwell  = 0x87
	InstrCruiseStart  = 0x88
	InstrScan         = 0x89
	InstrScanSpeed    = 0x8A
	InstrAuxOn        = 0x8C
	InstrAuxOff       = 0x8D
)

// Data 2 of an InstrScan command.
const (
	scanStart    = 0
	scanSetLeft  = 1
	scanSetRight = 2
)

// MaxValue is the largest 12-bit value (cruise speed, cruise dwell time,
// scan speed): data 2 holds the low 8 bits and data 3 the high 4.
const MaxValue = 0xFFF

// MaxZoomSpeed is the largest zoom speed: it has only the 4 bits of data 3.
const MaxZoomSpeed = 0xF

// Move returns a PTZ command moving in the directions d (zero means stop)
// with the given pan and tilt speeds (0–255) and zoom speed (0–15).
func Move(d Direction, panSpeed, tiltSpeed, zoomSpeed uint8) (Command, error) {
	switch {
	case d&^allDirections != 0:
		return Command{}, fmt.Errorf("PTZ direction %#x: %w", uint8(d), ErrRange)
	case d&(Up|Down) == Up|Down, d&(Left|Right) == Left|Right, d&(ZoomIn|ZoomOut) == ZoomIn|ZoomOut:
		return Command{}, fmt.Errorf("PTZ direction %v: %w", d, ErrConflict)
	case zoomSpeed > MaxZoomSpeed:
		return Command{}, fmt.Errorf("PTZ zoom speed %d: %w", zoomSpeed, ErrRange)
	}
	return Command{
		Address:     DefaultAddress,
		Instruction: InstrPTZ | uint8(d),
		Data1:       panSpeed,
		Data2:       tiltSpeed,
		Data3:       zoomSpeed,
	}, nil
}

// Stop returns the PTZ stop command (A50F0100000000B5). It also stops a
// cruise or scan, which have no stop instruction of their own.
func Stop() Command {
	return Command{Address: DefaultAddress, Instruction: InstrPTZ}
}

// FocusIris returns an FI command moving focus and/or iris as given by l
// (zero means stop), with focus and iris speeds 0–255.
func FocusIris(l Lens, focusSpeed, irisSpeed uint8) (Command, error) {
	switch {
	case l&^allLens != 0:
		return Command{}, fmt.Errorf("FI lens %#x: %w", uint8(l), ErrRange)
	case l&(FocusFar|FocusNear) == FocusFar|FocusNear, l&(IrisOpen|IrisClose) == IrisOpen|IrisClose:
		return Command{}, fmt.Errorf("FI lens %v: %w", l, ErrConflict)
	}
	return Command{
		Address:     DefaultAddress,
		Instruction: InstrFI | uint8(l),
		Data1:       focusSpeed,
		Data2:       irisSpeed,
	}, nil
}

// FIStop returns the FI stop command (A50F0140000000F5).
func FIStop() Command {
	return Command{Address: DefaultAddress, Instruction: InstrFI}
}

// SetPreset stores the current position as preset n (1–255).
func SetPreset(n uint8) (Command, error) { return preset(InstrPresetSet, n) }

// CallPreset moves to preset n (1–255).
func CallPreset(n uint8) (Command, error) { return preset(InstrPresetCall, n) }

// DeletePreset deletes preset n (1–255).
func DeletePreset(n uint8) (Command, error) { return preset(InstrPresetDelete, n) }

func preset(instr, n uint8) (Command, error) {
	if n == 0 {
		return Command{}, fmt.Errorf("preset 0: %w", ErrRange)
	}
	return Command{Address: DefaultAddress, Instruction: instr, Data2: n}, nil
}

// CruiseAddPoint adds preset (1–255) to cruise group.
func CruiseAddPoint(group, preset uint8) (Command, error) {
	if preset == 0 {
		return Command{}, fmt.Errorf("cruise point preset 0: %w", ErrRange)
	}
	return Command{Address: DefaultAddress, Instruction: InstrCruiseAdd, Data1: group, Data2: preset}, nil
}

// CruiseDeletePoint removes preset from cruise group. Preset 0 is allowed:
// the standard uses it to delete the whole cruise.
func CruiseDeletePoint(group, preset uint8) Command {
	return Command{Address: DefaultAddress, Instruction: InstrCruiseDelete, Data1: group, Data2: preset}
}

// CruiseSpeed sets the speed (0–4095) of cruise group.
func CruiseSpeed(group uint8, speed uint16) (Command, error) {
	return value(InstrCruiseSpeed, group, speed, "cruise speed")
}

// CruiseDwell sets how long, in seconds (0–4095), cruise group stays at each point.
func CruiseDwell(group uint8, seconds uint16) (Command, error) {
	return value(InstrCruiseDwell, group, seconds, "cruise dwell time")
}

// CruiseStart starts cruise group. Stop it with Stop.
func CruiseStart(group uint8) Command {
	return Command{Address: DefaultAddress, Instruction: InstrCruiseStart, Data1: group}
}

// ScanStart starts automatic scan group. Stop it with Stop.
func ScanStart(group uint8) Command { return scan(group, scanStart) }

// ScanSetLeft stores the current position as the left edge of scan group.
func ScanSetLeft(group uint8) Command { return scan(group, scanSetLeft) }

// ScanSetRight stores the current position as the right edge of scan group.
func ScanSetRight(group uint8) Command { return scan(group, scanSetRight) }

func scan(group, op uint8) Command {
	return Command{Address: DefaultAddress, Instruction: InstrScan, Data1: group, Data2: op}
}

// ScanSpeed sets the speed (0–4095) of scan group.
func ScanSpeed(group uint8, speed uint16) (Command, error) {
	return value(InstrScanSpeed, group, speed, "scan speed")
}

// value builds a command carrying a 12-bit value: low 8 bits in data 2,
// high 4 bits in data 3.
func value(instr, group uint8, v uint16, what string) (Command, error) {
	if v > MaxValue {
		return Command{}, fmt.Errorf("%s %d: %w", what, v, ErrRange)
	}
	return Command{
		Address:     DefaultAddress,
		Instruction: instr,
		Data1:       group,
		Data2:       uint8(v),
		Data3:       uint8(v >> 8),
	}, nil
}

// AuxOn switches auxiliary switch n on (1 is the wiper).
func AuxOn(n uint8) Command {
	return Command{Address: DefaultAddress, Instruction: InstrAuxOn, Data1: n}
}

// AuxOff switches auxiliary switch n off.
func AuxOff(n uint8) Command {
	return Command{Address: DefaultAddress, Instruction: InstrAuxOff, Data1: n}
}

// WithAddress returns c sent to another device address (0–4095).
func (c Command) WithAddress(addr uint16) Command {
	c.Address = addr
	return c
}
