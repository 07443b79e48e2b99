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
