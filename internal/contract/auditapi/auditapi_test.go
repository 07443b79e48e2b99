package auditapi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestViewersCheckValidate(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	v := Viewer{User: "olga", IssuedAt: at}
	many := make([]Viewer, MaxViewers+1)
	for i := range many {
		many[i] = v
	}
	for _, tc := range []struct {
		name string
		c    ViewersCheck
		want error
	}{
		{"one", ViewersCheck{Viewers: []Viewer{v}}, nil},
		{"the most", ViewersCheck{Viewers: many[:MaxViewers]}, nil},
		{"none", ViewersCheck{}, ErrNoViewers},
		{"too many", ViewersCheck{Viewers: many}, ErrTooMany},
		{"no user", ViewersCheck{Viewers: []Viewer{v, {IssuedAt: at}}}, ErrNoUser},
		{"no issue time", ViewersCheck{Viewers: []Viewer{{User: "olga"}}}, ErrNoUser},
		{"long user", ViewersCheck{Viewers: []Viewer{{User: strings.Repeat("u", maxField+1), IssuedAt: at}}}, ErrFieldTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMediaOpenValidate(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	open := func(mod func(*MediaOpen)) MediaOpen {
		m := MediaOpen{At: at, User: "olga", Path: "live/34020000001320000001", Protocol: ProtocolWHEP, Remote: "10.0.0.1:5000"}
		mod(&m)
		return m
	}
	for _, tc := range []struct {
		name string
		m    MediaOpen
		want error
	}{
		{"whep", open(func(*MediaOpen) {}), nil},
		{"hls", open(func(m *MediaOpen) { m.Protocol = ProtocolHLS }), nil},
		{"rtsp", open(func(m *MediaOpen) { m.Protocol = ProtocolRTSP }), nil},
		{"feed", open(func(m *MediaOpen) { m.Protocol = ProtocolFeed }), nil},
		{"no user (auth off)", open(func(m *MediaOpen) { m.User = "" }), nil},
		{"unknown protocol", open(func(m *MediaOpen) { m.Protocol = "rtmp" }), ErrBadProto},
		{"no protocol", open(func(m *MediaOpen) { m.Protocol = "" }), ErrBadProto},
		{"no path", open(func(m *MediaOpen) { m.Path = "" }), ErrNoPath},
		{"no time", open(func(m *MediaOpen) { m.At = time.Time{} }), ErrNoTime},
		{"long remote", open(func(m *MediaOpen) { m.Remote = strings.Repeat("r", maxField+1) }), ErrFieldTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.m.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}
