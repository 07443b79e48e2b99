package store

import (
	"time"
)

// Channel is one catalog entry of a device: a camera or other peripheral, or an
// organisation node (civil code, business group, virtual organisation).
type Channel struct {
	DeviceID        string
	ID              string
	Name            string
	Manufacturer    string
	Model           string
	Owner           string
	CivilCode       string
	Address         string
	Parental        bool
	ParentID        string
	BusinessGroupID string
	Secrecy         bool
	IPAddress       string
	Port            int
	// Status is the catalog's Status as reported (ON, OFF, …).
	Status string
	// Online changes only through ApplyStatusChanges, so every transition is
	// logged; channel upserts ignore it (new channels start offline). Read
	// through catalogview it is the effective state: false while the
	// channel's device is offline.
	Online bool
	// Longitude and Latitude are nil when the device reports none.
	Longitude, Latitude *float64
	// PTZType: 0 unknown, 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled bullet.
	PTZType int
	// RetentionClass is "standard" (30 days) or "key" (90 days, key areas).
	RetentionClass string
	// Extra keeps catalog fields that have no column of their own.
	Extra map[string]string
	// StreamTransport is the media transport for this channel's sessions
	// (udp, tcp-passive, tcp-active); "" inherits the device's. Catalog
	// upserts never change it.
	StreamTransport string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// CatalogSyncResult counts what a catalog sync changed.
type CatalogSyncResult struct {
	Added, Updated, Removed, Unchanged int
}

// ChannelFilter selects channels for ListChannels. Zero values select everything.
type ChannelFilter struct {
	DeviceID  string
	CivilCode string
	ParentID  string
	Online    *bool
	// Text matches a substring of the ID, name or address, case-insensitively.
	Text string
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
