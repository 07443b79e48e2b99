package store

import (
	"time"
)

// Registration is the outcome of one REGISTER, as the sipserver keeps it in memory and
// writes it in batches.
type Registration struct {
	DeviceID string
	// Transport is "udp" or "tcp" in any case; "" means udp.
	Transport  string
	RemoteAddr string
	GBVersion  string
	// RegisteredAt and ExpiresAt are stored as NULL when zero.
	RegisteredAt time.Time
	ExpiresAt    time.Time
}

// KeepaliveTouch records that a device's keepalive arrived at At from RemoteAddr.
type KeepaliveTouch struct {
	DeviceID string
	At       time.Time
	// RemoteAddr replaces the stored address when not empty (the NAT mapping may move).
	RemoteAddr string
}

// DeviceState is what the sipserver keeps in memory of each device: enough to
// authenticate it, reach it and supervise its keepalives.
type DeviceState struct {
	ID                string
	Online            bool
	Password          *string
	Transport         string
	RemoteAddr        string
	GBVersion         string
	Charset           string
	RegisteredAt      *time.Time
	ExpiresAt         *time.Time
	LastKeepaliveAt   *time.Time
	HeartbeatInterval int
	HeartbeatCount    int
	// SourceCheck is SourceStrict or SourceIP.
	SourceCheck string
}
