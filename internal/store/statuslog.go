package store

import (
	"time"
)

// StatusChange is one online/offline transition of a device (ChannelID "") or channel.
type StatusChange struct {
	DeviceID  string
	ChannelID string
	Online    bool
	// Cause says why: register, unregister, keepalive_timeout, expired, catalog, restart, …
	Cause string
	At    time.Time
}
