package mansrtsp

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Range is the npt Range header of a PLAY: "npt=now-" resumes where the
// stream is, "npt=125-" seeks to 125 s from the start of the t= window of
// the playback INVITE.
type Range struct {
	// Now is true for "npt=now-".
	Now bool
	// Start is the seek position; unused when Now is set.
	Start time.Duration
	// End is the optional end position; meaningful when HasEnd.
	End time.Duration
	// HasEnd is true for "npt=<start>-<end>".
	HasEnd bool
}

// maxSeconds is the largest npt second count a time.Duration holds.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

// ParseRange decodes a Range header value. Spaces anywhere are ignored;
// the unit is matched case-insensitively; seconds may be fractional, with
// digits beyond nanoseconds dropped.
func ParseRange(v string) (Range, error) {
	s := strings.NewReplacer(" ", "", "\t", "").Replace(v)
	if len(s) < 4 || !strings.EqualFold(s[:4], "npt=") {
		return Range{}, fmt.Errorf("range %q: %w", v, ErrBadRange)
	}
	start, end, ok := strings.Cut(s[4:], "-")
	if !ok {
		return Range{}, fmt.Errorf("range %q: %w", v, ErrBadRange)
	}
	var r Range
	if strings.EqualFold(start, "now") {
		r.Now = true
	} else {
		d, err := parseNPT(start)
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", v, err)
		}
		r.Start = d
	}
	if end != "" {
		d, err := parseNPT(end)
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", v, err)
		}
		r.End, r.HasEnd = d, true
	}
	return r, nil
}

// String returns the header value, e.g. "npt=now-" or "npt=125.5-".
func (r Range) String() string {
	s := "npt="
	if r.Now {
		s += "now"
	} else {
		s += formatNPT(r.Start)
	}
	s += "-"
	if r.HasEnd {
		s += formatNPT(r.End)
	}
	return s
}

// parseNPT decodes "<seconds>[.<fraction>]" exactly, without going through
// float64, so that formatNPT gives the value back.
func parseNPT(s string) (time.Duration, error) {
	secs, frac, hasDot := strings.Cut(s, ".")
	if secs == "" || strings.Trim(secs, "0123456789") != "" ||
		(hasDot && (frac == "" || strings.Trim(frac, "0123456789") != "")) {
		return 0, ErrBadRange
	}
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || n > maxSeconds {
		return 0, ErrBadRange
	}
	d := time.Duration(n) * time.Second
	if len(frac) > 9 {
		frac = frac[:9]
	}
	if frac != "" {
		ns, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if d > time.Duration(1<<63-1)-time.Duration(ns) {
			return 0, ErrBadRange
		}
		d += time.Duration(ns)
	}
	return d, nil
}

// formatNPT writes whole seconds as an integer ("125", as WVP does) and
// anything else with the fewest fraction digits.
func formatNPT(d time.Duration) string {
	secs := int64(d / time.Second)
	ns := int64(d % time.Second)
	if ns == 0 {
		return strconv.FormatInt(secs, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	return strconv.FormatInt(secs, 10) + "." + f
}
