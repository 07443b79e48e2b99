package recordingdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// MaxScheduleWindows bounds a schedule's windows: a week needs few, and the
// body comes from the API.
const MaxScheduleWindows = 64

// Window is one weekly recording window: on each of Days (ISO, Monday = 1
// … Sunday = 7) from Start to End, both "HH:MM" in the recorder's time
// zone. End <= Start wraps past midnight into the next day (End == Start:
// 24 hours); the window belongs to the day it starts on.
type Window struct {
	Days  []int  `json:"days"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// Schedule is a record plan's weekly template; the plan records while any
// window is open. Its JSON is the record_plans.schedule column and the API
// body's "schedule".
type Schedule []Window

// MarshalJSON writes an empty schedule as [] (the column is NOT NULL).
func (s Schedule) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Window(s))
}

// ParseSchedule reads and validates a schedule's JSON; null or empty input
// is the empty schedule. Unknown keys are refused: a misspelt key must
// not silently record nothing.
func ParseSchedule(b []byte) (Schedule, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return Schedule{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchedule, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the schedule", ErrSchedule)
	}
	if s == nil {
		s = Schedule{}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks every window: days 1–7 (at least one), times "HH:MM".
// The database checks the same (record_schedule_valid).
func (s Schedule) Validate() error {
	if len(s) > MaxScheduleWindows {
		return fmt.Errorf("%w: %d windows, at most %d", ErrSchedule, len(s), MaxScheduleWindows)
	}
	for i, w := range s {
		if len(w.Days) == 0 || len(w.Days) > 7 {
			return fmt.Errorf("%w: window %d: %d days, want 1 to 7", ErrSchedule, i, len(w.Days))
		}
		for _, d := range w.Days {
			if d < 1 || d > 7 {
				return fmt.Errorf("%w: window %d: day %d, want 1 (Monday) to 7 (Sunday)", ErrSchedule, i, d)
			}
		}
		if _, err := clockMinutes(w.Start); err != nil {
			return fmt.Errorf("%w: window %d: start: %w", ErrSchedule, i, err)
		}
		if _, err := clockMinutes(w.End); err != nil {
			return fmt.Errorf("%w: window %d: end: %w", ErrSchedule, i, err)
		}
	}
	return nil
}

// Active reports whether a window of s is open at at, read in loc.
func (s Schedule) Active(at time.Time, loc *time.Location) bool {
	t := at.In(loc)
	now := t.Hour()*60 + t.Minute()
	today := isoWeekday(t.Weekday())
	yesterday := today - 1
	if yesterday == 0 {
		yesterday = 7
	}
	for _, w := range s {
		start, err1 := clockMinutes(w.Start)
		end, err2 := clockMinutes(w.End)
		if err1 != nil || err2 != nil {
			continue // never valid: ParseSchedule and the database refuse it
		}
		if end > start {
			if now >= start && now < end && w.on(today) {
				return true
			}
			continue
		}
		// Wraps: from start today, or until end of yesterday's window.
		if (now >= start && w.on(today)) || (now < end && w.on(yesterday)) {
			return true
		}
	}
	return false
}

func (w Window) on(day int) bool {
	for _, d := range w.Days {
		if d == day {
			return true
		}
	}
	return false
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// clockMinutes parses "HH:MM" (00:00–23:59) into minutes after midnight.
func clockMinutes(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4]) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return h*60 + m, nil
}

func digit(c byte) bool { return c >= '0' && c <= '9' }
