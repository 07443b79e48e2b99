package recordingdb

import "errors"

// ErrSchedule is a weekly schedule that is not
// [{"days":[1..7],"start":"HH:MM","end":"HH:MM"}, …].
var ErrSchedule = errors.New("recordingdb: invalid schedule")

// ErrTimeZone is a *time.Location without an IANA name ("Local"), which the
// database cannot apply.
var ErrTimeZone = errors.New("recordingdb: time zone has no IANA name")
