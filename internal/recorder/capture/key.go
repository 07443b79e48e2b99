package capture

import (
	"fmt"
	"time"
)

// ObjectKey is the object key of a channel's segment starting at start:
// <channelID>/<YYYY>/<MM>/<DD>/<HHMMSS.mmm>.mp4 in UTC, so that a listing of
// a day's directory is in time order whatever the recorder's zone.
func ObjectKey(channelID string, start time.Time) string {
	u := start.UTC()
	return fmt.Sprintf("%s/%04d/%02d/%02d/%02d%02d%02d.%03d.mp4", channelID,
		u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/int(time.Millisecond))
}
