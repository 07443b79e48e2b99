package manscdp

// DeviceConfig changes device settings (A.2.3.2).
type DeviceConfig struct {
	controlRoot
	Header
	BasicParam *BasicParam `xml:"BasicParam,omitempty"`
}

func (*DeviceConfig) cmdType() string { return CmdDeviceConfig }

// BasicParam holds the basic SIP settings of a device. DeviceConfig sets
// Name, Expiration, HeartBeatInterval and HeartBeatCount; ConfigDownload
// answers may report the rest too.
type BasicParam struct {
	Name string `xml:"Name,omitempty"`
	// DeviceID … Password are reported by ConfigDownload only.
	DeviceID      string `xml:"DeviceID,omitempty"`
	SIPServerID   string `xml:"SIPServerID,omitempty"`
	SIPServerIP   string `xml:"SIPServerIP,omitempty"`
	SIPServerPort int    `xml:"SIPServerPort,omitempty"`
	DomainName    string `xml:"DomainName,omitempty"`
	// Expiration is the registration expiry in seconds.
	Expiration int    `xml:"Expiration,omitempty"`
	Password   string `xml:"Password,omitempty"`
	// HeartBeatInterval is the keepalive period in seconds.
	HeartBeatInterval int `xml:"HeartBeatInterval,omitempty"`
	// HeartBeatCount is the number of missed keepalives before timeout.
	HeartBeatCount int `xml:"HeartBeatCount,omitempty"`
}

// DeviceConfigResponse answers a DeviceConfig.
type DeviceConfigResponse struct {
	responseRoot
	Header
	Result string `xml:"Result"`
}

func (*DeviceConfigResponse) cmdType() string { return CmdDeviceConfig }

// ConfigDownloadQuery asks for device settings (A.2.4.7).
type ConfigDownloadQuery struct {
	queryRoot
	Header
	// ConfigType lists the wanted sections joined by '/', e.g. "BasicParam/VideoParamOpt".
	ConfigType string `xml:"ConfigType"`
}

func (*ConfigDownloadQuery) cmdType() string { return CmdConfigDownload }

// ConfigDownloadResponse answers ConfigDownloadQuery (A.2.6.9).
type ConfigDownloadResponse struct {
	responseRoot
	Header
	Result        string         `xml:"Result,omitempty"`
	BasicParam    *BasicParam    `xml:"BasicParam,omitempty"`
	VideoParamOpt *VideoParamOpt `xml:"VideoParamOpt,omitempty"`
}

func (*ConfigDownloadResponse) cmdType() string { return CmdConfigDownload }

// VideoParamOpt lists the video options a device supports.
type VideoParamOpt struct {
	// DownloadSpeed lists speed factors joined by '/', e.g. "1/2/4".
	DownloadSpeed string `xml:"DownloadSpeed,omitempty"`
	// Resolution lists resolution codes joined by '/'.
	Resolution string `xml:"Resolution,omitempty"`
}
