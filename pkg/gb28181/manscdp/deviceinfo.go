package manscdp

// DeviceInfoQuery asks a device for its identity (A.2.4.4).
type DeviceInfoQuery struct {
	queryRoot
	Header
}

func (*DeviceInfoQuery) cmdType() string { return CmdDeviceInfo }

// DeviceInfoResponse answers DeviceInfoQuery (A.2.6.5).
type DeviceInfoResponse struct {
	responseRoot
	Header
	DeviceName   string `xml:"DeviceName,omitempty"`
	Result       string `xml:"Result,omitempty"`
	Manufacturer string `xml:"Manufacturer,omitempty"`
	Model        string `xml:"Model,omitempty"`
	Firmware     string `xml:"Firmware,omitempty"`
	// Channel is the number of video channels.
	Channel int `xml:"Channel,omitempty"`
}

func (*DeviceInfoResponse) cmdType() string { return CmdDeviceInfo }

// NewDeviceInfoResponse returns a successful DeviceInfo answer.
func NewDeviceInfoResponse(deviceID string, sn int, name, manufacturer, model, firmware string, channels int) *DeviceInfoResponse {
	return &DeviceInfoResponse{
		Header:       Header{SN: sn, DeviceID: deviceID},
		DeviceName:   name,
		Result:       ResultOK,
		Manufacturer: manufacturer,
		Model:        model,
		Firmware:     firmware,
		Channel:      channels,
	}
}
