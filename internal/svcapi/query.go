package svcapi

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// Bounds of the list parameters.
const (
	// MaxLimit is the largest page a list answers.
	MaxLimit = 1000
	// MaxQuery bounds the free-text search q, in bytes.
	MaxQuery = 200
)

// Page is the paging and filtering every list route reads alike:
// ?limit=&offset=&online=&q=, each optional.
type Page struct {
	// Limit is 1–MaxLimit; 0 when not given (the store's default).
	Limit int
	// Offset is ≥ 0.
	Offset int
	// Online filters by online state; nil when not given.
	Online *bool
	// Q is the free-text search, at most MaxQuery bytes.
	Q string
}

// ParsePage reads limit, offset, online and q from q. A bad value is an
// error wrapping ErrBadRequest that names the parameter and the value.
func ParsePage(q url.Values) (Page, error) {
	var p Page
	var err error
	if v := q.Get("limit"); v != "" {
		if p.Limit, err = strconv.Atoi(v); err != nil || p.Limit < 1 || p.Limit > MaxLimit {
			return Page{}, BadRequest("limit must be 1–%d, got %q", MaxLimit, v)
		}
	}
	if v := q.Get("offset"); v != "" {
		if p.Offset, err = strconv.Atoi(v); err != nil || p.Offset < 0 {
			return Page{}, BadRequest("offset must be ≥ 0, got %q", v)
		}
	}
	if v := q.Get("online"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Page{}, BadRequest("online must be true or false, got %q", v)
		}
		p.Online = &b
	}
	p.Q = q.Get("q")
	if len(p.Q) > MaxQuery {
		return Page{}, BadRequest("q is too long (over %d bytes)", MaxQuery)
	}
	return p, nil
}

// ParseTime reads the time parameter key of value v: RFC 3339, or a local
// time in the GB/T 28181 forms manscdp.ParseTime reads (2006-01-02T15:04:05,
// a space for the T, a fraction, or a date alone). An empty v is the zero
// time, or an error when required. A bad value is an error wrapping
// ErrBadRequest.
func ParseTime(key, v string, required bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return time.Time{}, BadRequest("%s is required", key)
		}
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := manscdp.ParseTime(v)
	if err != nil || t.IsZero() {
		return time.Time{}, BadRequest("%s: want RFC 3339 (2006-01-02T15:04:05Z07:00) or a local 2006-01-02T15:04:05, got %q", key, v)
	}
	return t.Time, nil
}

// ParseRange reads a required start and end time (ParseTime's forms), as
// the records, playback and download requests give them.
func ParseRange(start, end string) (from, to time.Time, err error) {
	if from, err = ParseTime("start", start, true); err != nil {
		return from, to, err
	}
	to, err = ParseTime("end", end, true)
	return from, to, err
}
