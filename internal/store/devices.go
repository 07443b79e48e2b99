package store

import (
	"time"
)

// Device is a GB28181 device: a camera, NVR, DVR or lower-level platform that registers with us.
type Device struct {
	ID           string
	Name         string
	Manufacturer string
	Model        string
	Firmware     string
	// Transport is the SIP transport it registered over: "udp" or "tcp".
	Transport string
	// RemoteAddr is the ip:port its packets come from, after NAT.
	RemoteAddr string
	// GBVersion is its X-GB-Ver header: "1.0" (2011), "2.0" (2016), "3.0" (2022), or "".
	GBVersion string
	// Charset of the MANSCDP bodies sent to it: "GB2312" or "UTF-8".
	Charset string
	// Password overrides the global SIP password when non-nil.
	Password          *string
	Online            bool
	RegisteredAt      *time.Time
	ExpiresAt         *time.Time
	LastKeepaliveAt   *time.Time
	HeartbeatInterval int
	HeartbeatCount    int
	ChannelCount      int
	// LastCatalogAt is when the device last answered a full catalog query (SetLastCatalog).
	LastCatalogAt *time.Time
	// StreamTransport is the media transport of its channels' sessions
	// (udp, tcp-passive, tcp-active); "" uses sessions.transport.
	StreamTransport string
	// SourceCheck is which signalling sources sipserver accepts for the
	// device's requests: SourceStrict or SourceIP.
	SourceCheck string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Source checks of Device.SourceCheck (devices.source_check).
const (
	// SourceStrict accepts a device's requests only from its registered
	// transport and ip:port (for TCP, its registered connection).
	SourceStrict = "strict"
	// SourceIP accepts them from its registered IP on any port.
	SourceIP = "ip"
)

// DeviceFilter selects devices for ListDevices. Zero values select everything.
type DeviceFilter struct {
	// Online, when set, selects online (true) or offline (false) devices.
	Online *bool
	// Text matches a substring of the ID, name, manufacturer or model, case-insensitively.
	Text string
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
