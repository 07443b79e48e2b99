package store

import (
	"time"
)

// Alarm is one alarm notification of a device (MANSCDP Alarm).
type Alarm struct {
	ID       int64
	DeviceID string
	// ChannelID is the notification's DeviceID element: the channel or alarm input.
	ChannelID string
	// Priority is 1 (highest) to 4, or 0 when the device sent none.
	Priority int
	// Method is the AlarmMethod code: 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 fault, 7 other.
	Method      string
	Type        string
	Description string
	// Longitude and Latitude are nil when the device reports none.
	Longitude, Latitude *float64
	// At is the device's AlarmTime.
	At time.Time
	// ReceivedAt is when we got it; zero on insert means now.
	ReceivedAt time.Time
	// Extra keeps fields that have no column of their own.
	Extra map[string]string
}

// AlarmFilter selects alarms for ListAlarms. Zero values select everything.
type AlarmFilter struct {
	DeviceID  string
	ChannelID string
	// From and To bound the alarm time to [From, To); a zero bound is open.
	From, To time.Time
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
