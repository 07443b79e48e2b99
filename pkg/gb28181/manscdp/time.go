package manscdp

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// TimeLayout is the GB/T 28181 time format: local wall clock, no zone.
const TimeLayout = "2006-01-02T15:04:05"

// maxTimeLen bounds what ParseTime looks at; a valid value is at most 29 bytes.
const maxTimeLen = 64

// Time is a time in the GB format (2006-01-02T15:04:05, optionally with a
// fraction such as .000). Values are local time without a zone. The zero
// Time is written as nothing and read from an empty element.
type Time struct {
	time.Time
}

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{Time: t} }

// ParseTime parses a GB time in the local time zone. It accepts a space
// instead of the T, any fractional seconds, surrounding whitespace and a bare
// date. An empty string gives the zero Time.
func ParseTime(s string) (Time, error) {
	return ParseTimeIn(s, time.Local)
}

// ParseTimeIn is ParseTime for a device whose clock runs in loc.
func ParseTimeIn(s string, loc *time.Location) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	if len(s) > maxTimeLen {
		return Time{}, fmt.Errorf("%w: %d bytes", ErrInvalidTime, len(s))
	}
	layout := TimeLayout
	switch {
	case len(s) == len("2006-01-02"):
		layout = "2006-01-02"
	case len(s) > 10 && (s[10] == ' ' || s[10] == 't'):
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return Time{}, fmt.Errorf("%w %q: %w", ErrInvalidTime, s, err)
	}
	if t.IsZero() {
		// Keep one representation of "no time" so values compare equal.
		return Time{}, nil
	}
	return Time{Time: t}, nil
}

// String formats t in the GB layout, with milliseconds only when t has a
// fraction (nanoseconds if the fraction is finer). The zero Time is "".
func (t Time) String() string {
	if t.IsZero() {
		return ""
	}
	ns := t.Nanosecond()
	switch {
	case ns == 0:
		return t.Format(TimeLayout)
	case ns%int(time.Millisecond) == 0:
		return t.Format(TimeLayout + ".000")
	default:
		return t.Format(TimeLayout + ".000000000")
	}
}

// MarshalText implements encoding.TextMarshaler in the GB layout.
func (t Time) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; see ParseTime.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := ParseTime(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalXML writes the element, or nothing for the zero Time.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if t.IsZero() {
		return nil
	}
	return e.EncodeElement(t.String(), start)
}

// UnmarshalXML reads the element; an empty element is the zero Time.
func (t *Time) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	return t.UnmarshalText([]byte(s))
}
