package manscdp

// Keepalive is the device's heartbeat, a Notify MESSAGE (A.2.5.2).
type Keepalive struct {
	notifyRoot
	Header
	// Status is "OK" for a healthy device (some send "ERROR").
	Status string `xml:"Status,omitempty"`
	// Info lists faulty sub-devices (2016).
	Info *KeepaliveInfo `xml:"Info,omitempty"`
}

func (*Keepalive) cmdType() string { return CmdKeepalive }

// KeepaliveInfo is the Info element of a Keepalive.
type KeepaliveInfo struct {
	// DeviceIDs are the IDs of faulty sub-devices.
	DeviceIDs []string `xml:"DeviceID"`
}

// NewKeepalive returns a healthy Keepalive for deviceID.
func NewKeepalive(deviceID string, sn int) *Keepalive {
	return &Keepalive{Header: Header{SN: sn, DeviceID: deviceID}, Status: ResultOK}
}
