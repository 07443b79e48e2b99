package manscdp

// AlarmNotify reports an alarm (A.2.5.3). DeviceID is the alarming channel.
type AlarmNotify struct {
	notifyRoot
	Header
	// AlarmPriority is 1 (highest) … 4.
	AlarmPriority string `xml:"AlarmPriority,omitempty"`
	// AlarmMethod is 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other.
	AlarmMethod      string     `xml:"AlarmMethod,omitempty"`
	AlarmTime        Time       `xml:"AlarmTime"`
	AlarmDescription string     `xml:"AlarmDescription,omitempty"`
	Longitude        float64    `xml:"Longitude,omitempty"`
	Latitude         float64    `xml:"Latitude,omitempty"`
	Info             *AlarmInfo `xml:"Info,omitempty"`
}

func (*AlarmNotify) cmdType() string { return CmdAlarm }

// AlarmInfo refines the alarm kind.
type AlarmInfo struct {
	AlarmType      string          `xml:"AlarmType,omitempty"`
	AlarmTypeParam *AlarmTypeParam `xml:"AlarmTypeParam,omitempty"`
}

// AlarmTypeParam carries the parameters of some alarm types.
type AlarmTypeParam struct {
	EventType string `xml:"EventType,omitempty"`
}

// AlarmResponse acknowledges an AlarmNotify, or answers an alarm subscription.
type AlarmResponse struct {
	responseRoot
	Header
	Result string `xml:"Result"`
}

func (*AlarmResponse) cmdType() string { return CmdAlarm }

// NewAlarmResponse acknowledges the alarm with the given DeviceID and SN.
func NewAlarmResponse(deviceID string, sn int) *AlarmResponse {
	return &AlarmResponse{Header: Header{SN: sn, DeviceID: deviceID}, Result: ResultOK}
}

// AlarmQuery is the body of an alarm SUBSCRIBE (9.11); every filter is optional.
type AlarmQuery struct {
	queryRoot
	Header
	StartAlarmPriority string `xml:"StartAlarmPriority,omitempty"`
	EndAlarmPriority   string `xml:"EndAlarmPriority,omitempty"`
	AlarmMethod        string `xml:"AlarmMethod,omitempty"`
	AlarmType          string `xml:"AlarmType,omitempty"`
	StartAlarmTime     Time   `xml:"StartAlarmTime"`
	EndAlarmTime       Time   `xml:"EndAlarmTime"`
}

func (*AlarmQuery) cmdType() string { return CmdAlarm }
