package manscdp

// MobilePositionQuery subscribes to position reports (A.2.4.9).
type MobilePositionQuery struct {
	queryRoot
	Header
	// Interval is the report period in seconds.
	Interval int `xml:"Interval,omitempty"`
}

func (*MobilePositionQuery) cmdType() string { return CmdMobilePosition }

// MobilePositionNotify reports a position (A.2.5.6).
type MobilePositionNotify struct {
	notifyRoot
	Header
	Time      Time    `xml:"Time"`
	Longitude float64 `xml:"Longitude"`
	Latitude  float64 `xml:"Latitude"`
	// Speed is in km/h.
	Speed float64 `xml:"Speed,omitempty"`
	// Direction is degrees clockwise from north.
	Direction float64 `xml:"Direction,omitempty"`
	// Altitude is in metres.
	Altitude float64 `xml:"Altitude,omitempty"`
}

func (*MobilePositionNotify) cmdType() string { return CmdMobilePosition }
