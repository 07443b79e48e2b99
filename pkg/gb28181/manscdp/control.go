package manscdp

import (
	"fmt"
	"strings"
)

// Values of the simple DeviceControl commands.
const (
	TeleBootBoot    = "Boot"
	RecordCmdRecord = "Record"
	RecordCmdStop   = "StopRecord"
	GuardCmdSet     = "SetGuard"
	GuardCmdReset   = "ResetGuard"
	AlarmCmdReset   = "ResetAlarm"
	IFameCmdSend    = "Send"
)

const (
	// defaultPTZPriority is the ControlPriority platforms commonly send.
	defaultPTZPriority = 5
	// controlCommandCount is the number of command fields in DeviceControl.
	controlCommandCount = 9
)

// DeviceControl is a Control command (A.2.3.1). Exactly one command field
// must be set; Validate checks that and Encode calls it.
type DeviceControl struct {
	controlRoot
	Header
	// PTZCmd is the 16-hex-digit A.3 front-end command.
	PTZCmd string `xml:"PTZCmd,omitempty"`
	// TeleBoot is "Boot".
	TeleBoot string `xml:"TeleBoot,omitempty"`
	// RecordCmd is "Record" or "StopRecord".
	RecordCmd string `xml:"RecordCmd,omitempty"`
	// GuardCmd is "SetGuard" or "ResetGuard".
	GuardCmd string `xml:"GuardCmd,omitempty"`
	// AlarmCmd is "ResetAlarm".
	AlarmCmd string `xml:"AlarmCmd,omitempty"`
	// IFameCmd (spelled so in the standard) is "Send" to request a key frame.
	IFameCmd     string        `xml:"IFameCmd,omitempty"`
	DragZoomIn   *DragZoom     `xml:"DragZoomIn,omitempty"`
	DragZoomOut  *DragZoom     `xml:"DragZoomOut,omitempty"`
	HomePosition *HomePosition `xml:"HomePosition,omitempty"`
	// Info carries ControlPriority for PTZCmd and AlarmMethod/AlarmType for AlarmCmd.
	Info *ControlInfo `xml:"Info,omitempty"`
}

func (*DeviceControl) cmdType() string { return CmdDeviceControl }

// DragZoom is the rectangle of a DragZoomIn/DragZoomOut command, in pixels
// of a Length x Width picture.
type DragZoom struct {
	Length    int `xml:"Length"`
	Width     int `xml:"Width"`
	MidPointX int `xml:"MidPointX"`
	MidPointY int `xml:"MidPointY"`
	LengthX   int `xml:"LengthX"`
	LengthY   int `xml:"LengthY"`
}

// HomePosition configures the guard (home) position.
type HomePosition struct {
	// Enabled is 1 to enable, 0 to disable.
	Enabled int `xml:"Enabled"`
	// ResetTime is the idle time in seconds before returning home.
	ResetTime   int `xml:"ResetTime"`
	PresetIndex int `xml:"PresetIndex"`
}

// ControlInfo is the Info element of a DeviceControl.
type ControlInfo struct {
	ControlPriority int    `xml:"ControlPriority,omitempty"`
	AlarmMethod     string `xml:"AlarmMethod,omitempty"`
	AlarmType       string `xml:"AlarmType,omitempty"`
}

// Command returns the name of the command element that is set ("PTZCmd",
// "DragZoomIn", …), or "" if none is; with several set it returns the first.
func (c *DeviceControl) Command() string {
	names := c.commands()
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func (c *DeviceControl) commands() []string {
	set := make([]string, 0, controlCommandCount)
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"PTZCmd", c.PTZCmd != ""},
		{"TeleBoot", c.TeleBoot != ""},
		{"RecordCmd", c.RecordCmd != ""},
		{"GuardCmd", c.GuardCmd != ""},
		{"AlarmCmd", c.AlarmCmd != ""},
		{"IFameCmd", c.IFameCmd != ""},
		{"DragZoomIn", c.DragZoomIn != nil},
		{"DragZoomOut", c.DragZoomOut != nil},
		{"HomePosition", c.HomePosition != nil},
	} {
		if f.on {
			set = append(set, f.name)
		}
	}
	return set
}

// Validate reports an error unless exactly one command is set.
func (c *DeviceControl) Validate() error {
	switch names := c.commands(); len(names) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("%w: DeviceControl without a command", ErrInvalidMessage)
	default:
		return fmt.Errorf("%w: DeviceControl with %s", ErrInvalidMessage, strings.Join(names, "+"))
	}
}

// NewPTZControl returns a DeviceControl carrying a PTZCmd with the usual
// ControlPriority 5.
func NewPTZControl(deviceID string, sn int, ptzCmd string) *DeviceControl {
	return &DeviceControl{
		Header: Header{SN: sn, DeviceID: deviceID},
		PTZCmd: ptzCmd,
		Info:   &ControlInfo{ControlPriority: defaultPTZPriority},
	}
}

// DeviceControlResponse answers a DeviceControl.
type DeviceControlResponse struct {
	responseRoot
	Header
	Result string `xml:"Result"`
}

func (*DeviceControlResponse) cmdType() string { return CmdDeviceControl }
