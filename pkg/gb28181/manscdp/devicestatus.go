package manscdp

// DeviceStatusQuery asks a device for its running state (A.2.4.2).
type DeviceStatusQuery struct {
	queryRoot
	Header
}

func (*DeviceStatusQuery) cmdType() string { return CmdDeviceStatus }

// DeviceStatusResponse answers DeviceStatusQuery (A.2.6.6).
type DeviceStatusResponse struct {
	responseRoot
	Header
	Result string `xml:"Result,omitempty"`
	// Online is ONLINE or OFFLINE.
	Online string `xml:"Online,omitempty"`
	// Status is OK or ERROR.
	Status string `xml:"Status,omitempty"`
	// Reason explains an ERROR status.
	Reason string `xml:"Reason,omitempty"`
	// Encode is ON or OFF.
	Encode string `xml:"Encode,omitempty"`
	// Record is ON or OFF.
	Record     string `xml:"Record,omitempty"`
	DeviceTime Time   `xml:"DeviceTime"`
	// Alarmstatus (spelled so in the standard) lists alarm inputs.
	Alarmstatus *List[AlarmStatusItem] `xml:"Alarmstatus,omitempty"`
}

func (*DeviceStatusResponse) cmdType() string { return CmdDeviceStatus }

// Values of AlarmStatusItem.DutyStatus.
const (
	DutyOnDuty  = "ONDUTY"
	DutyOffDuty = "OFFDUTY"
	DutyAlarm   = "ALARM"
)

// AlarmStatusItem is one alarm input in DeviceStatusResponse.
type AlarmStatusItem struct {
	DeviceID string `xml:"DeviceID"`
	// DutyStatus is ONDUTY, OFFDUTY or ALARM.
	DutyStatus string `xml:"DutyStatus,omitempty"`
}
