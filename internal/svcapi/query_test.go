package svcapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParsePage(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		query string
		want  Page
		bad   bool
	}{
		{"", Page{}, false},
		{"limit=1&offset=0", Page{Limit: 1}, false},
		{"limit=1000&offset=20&online=true&q=abc", Page{Limit: 1000, Offset: 20, Online: &yes, Q: "abc"}, false},
		{"online=0", Page{Online: &no}, false},
		{"limit=0", Page{}, true},
		{"limit=1001", Page{}, true},
		{"limit=x", Page{}, true},
		{"offset=-1", Page{}, true},
		{"online=maybe", Page{}, true},
		{"q=" + string(make([]byte, MaxQuery+1)), Page{}, true},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParsePage(q)
		if tc.bad {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%q: %v, want a bad request", tc.query, err)
			}
			continue
		}
		if err != nil || got.Limit != tc.want.Limit || got.Offset != tc.want.Offset || got.Q != tc.want.Q ||
			(got.Online == nil) != (tc.want.Online == nil) || (got.Online != nil && *got.Online != *tc.want.Online) {
			t.Errorf("%q: %+v %v, want %+v", tc.query, got, err, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	local := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		v        string
		required bool
		want     time.Time
		bad      bool
	}{
		{"", false, time.Time{}, false},
		{"", true, time.Time{}, true},
		{"2024-05-01T08:00:00Z", true, time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC), false},
		{"2024-05-01T08:00:00+08:00", true, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), false},
		{"2024-05-01T08:00:00", true, local("2024-05-01T08:00:00"), false},
		{"2024-05-01 08:00:00", true, local("2024-05-01T08:00:00"), false},
		{"2024-05-01", true, local("2024-05-01T00:00:00"), false},
		{"yesterday", false, time.Time{}, true},
		{"2024-13-01T00:00:00", false, time.Time{}, true},
	} {
		got, err := ParseTime("start", tc.v, tc.required)
		if tc.bad {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%q: %v, want a bad request", tc.v, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.v, got, err, tc.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		start, end string
		badKey     string // the parameter a bad request names, "" when fine
	}{
		{"2024-05-01T08:00:00Z", "2024-05-01T09:00:00Z", ""},
		{"", "2024-05-01T09:00:00Z", "start"},
		{"2024-05-01T08:00:00Z", "", "end"},
		{"2024-05-01T08:00:00Z", "soon", "end"},
	} {
		from, to, err := ParseRange(tc.start, tc.end)
		if tc.badKey != "" {
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.badKey) {
				t.Errorf("%q..%q: %v, want a bad request naming %s", tc.start, tc.end, err, tc.badKey)
			}
			continue
		}
		if err != nil || !from.Equal(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("%q..%q: %v %v %v", tc.start, tc.end, from, to, err)
		}
	}
}
