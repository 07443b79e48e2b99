package ptz

import "fmt"

// Request is a PTZ command in words, as an HTTP API takes it in JSON:
// {"action":"move","directions":["up","left"],"speed":100}. Command turns it
// into the PTZCmd to send.
//
// Actions: move (Directions, Speed, ZoomSpeed), stop, lens (Lens, Speed),
// lens_stop, preset_set / preset_call / preset_delete (Preset),
// cruise_add / cruise_delete (Group, Preset), cruise_speed / cruise_dwell
// (Group, Value), cruise_start (Group), scan_start / scan_left / scan_right
// (Group), scan_speed (Group, Value), aux_on / aux_off (Aux).
type Request struct {
	Action string `json:"action"`
	// Directions for "move": up, down, left, right, zoom_in, zoom_out.
	Directions []string `json:"directions,omitempty"`
	// Speed is the pan/tilt (or focus/iris) speed, 0–255, default 128;
	// ZoomSpeed 0–15, default 8.
	Speed     *int `json:"speed,omitempty"`
	ZoomSpeed *int `json:"zoom_speed,omitempty"`
	// Lens for "lens": focus_far, focus_near, iris_open, iris_close.
	Lens []string `json:"lens,omitempty"`
	// Preset is the preset number (0–255).
	Preset int `json:"preset,omitempty"`
	// Group is the cruise or scan group (0–255).
	Group int `json:"group,omitempty"`
	// Value is a cruise speed or dwell, or a scan speed; clamped to 12 bits.
	Value int `json:"value,omitempty"`
	// Aux is the auxiliary switch number (0–255).
	Aux int `json:"aux,omitempty"`
}

// Default speeds of a Request that gives none.
const (
	DefaultSpeed     = 128
	DefaultZoomSpeed = 8
)

var directionNames = map[string]Direction{
	"up": Up, "down": Down, "left": Left, "right": Right, "zoom_in": ZoomIn, "zoom_out": ZoomOut,
}

var lensNames = map[string]Lens{
	"focus_far": FocusFar, "focus_near": FocusNear, "iris_open": IrisOpen, "iris_close": IrisClose,
}

// u8 checks that v fits 0–limit.
func u8(name string, v, limit int) (uint8, error) {
	if v < 0 || v > limit {
		return 0, fmt.Errorf("%s must be 0–%d: %w", name, limit, ErrRange)
	}
	return uint8(v), nil //nolint:gosec // range checked above
}

// flags ORs together the named bits.
func flags[T ~uint8](names []string, table map[string]T, what string) (T, error) {
	var v T
	for _, n := range names {
		bit, ok := table[n]
		if !ok {
			return 0, fmt.Errorf("unknown %s %q: %w", what, n, ErrUnknown)
		}
		v |= bit
	}
	return v, nil
}

// value12 clamps a cruise or scan parameter to the 12 bits it has.
func value12(v int) uint16 { return uint16(min(max(v, 0), MaxValue)) } //nolint:gosec // clamped

// Command builds the command r asks for. Its errors wrap ErrRange,
// ErrConflict or ErrUnknown: all of them are the asker's mistake.
func (r Request) Command() (Command, error) {
	speed, zoom := DefaultSpeed, DefaultZoomSpeed
	if r.Speed != nil {
		speed = *r.Speed
	}
	if r.ZoomSpeed != nil {
		zoom = *r.ZoomSpeed
	}
	var err error
	var s, z, preset, group, aux uint8
	for _, f := range []struct {
		dst   *uint8
		name  string
		v, to int
	}{
		{&s, "speed", speed, 255},
		{&z, "zoom_speed", zoom, MaxZoomSpeed},
		{&preset, "preset", r.Preset, 255},
		{&group, "group", r.Group, 255},
		{&aux, "aux", r.Aux, 255},
	} {
		if *f.dst, err = u8(f.name, f.v, f.to); err != nil {
			return Command{}, err
		}
	}
	switch r.Action {
	case "move":
		d, err := flags(r.Directions, directionNames, "direction")
		if err != nil {
			return Command{}, err
		}
		return Move(d, s, s, z)
	case "stop":
		return Stop(), nil
	case "lens":
		l, err := flags(r.Lens, lensNames, "lens movement")
		if err != nil {
			return Command{}, err
		}
		return FocusIris(l, s, s)
	case "lens_stop":
		return FIStop(), nil
	case "preset_set":
		return SetPreset(preset)
	case "preset_call":
		return CallPreset(preset)
	case "preset_delete":
		return DeletePreset(preset)
	case "cruise_add":
		return CruiseAddPoint(group, preset)
	case "cruise_delete":
		return CruiseDeletePoint(group, preset), nil
	case "cruise_speed":
		return CruiseSpeed(group, value12(r.Value))
	case "cruise_dwell":
		return CruiseDwell(group, value12(r.Value))
	case "cruise_start":
		return CruiseStart(group), nil
	case "scan_start":
		return ScanStart(group), nil
	case "scan_left":
		return ScanSetLeft(group), nil
	case "scan_right":
		return ScanSetRight(group), nil
	case "scan_speed":
		return ScanSpeed(group, value12(r.Value))
	case "aux_on":
		return AuxOn(aux), nil
	case "aux_off":
		return AuxOff(aux), nil
	}
	return Command{}, fmt.Errorf("unknown PTZ action %q: %w", r.Action, ErrUnknown)
}
