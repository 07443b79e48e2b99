package store

import (
	"time"
)

// MobilePosition is one position report of a mobile device (MANSCDP MobilePosition).
type MobilePosition struct {
	ID       int64
	DeviceID string
	// TargetID is the notification's DeviceID element.
	TargetID string
	// At is the device's Time.
	At                  time.Time
	Longitude, Latitude float64
	// Speed (km/h), Direction (degrees from north) and Altitude (m) are nil when not reported.
	Speed, Direction, Altitude *float64
	// ReceivedAt is when we got it; zero on insert means now.
	ReceivedAt time.Time
}

// MobilePositionFilter selects positions for ListMobilePositions. Zero values select everything.
type MobilePositionFilter struct {
	DeviceID string
	// From and To bound the position time to [From, To); a zero bound is open.
	From, To time.Time
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
