package sdp_test

import (
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

func TestParseSSRC(t *testing.T) {
	tests := []struct {
		in   string
		want sdp.SSRC
		ok   bool
	}{
		{"0200000001", 200000001, true},
		{"200000001", 200000001, true}, // leading zero dropped by some devices
		{"1200000002", 1200000002, true},
		{"0000000000", 0, true},
		{"1", 1, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"9999999999", 0, false},
		{"00200000001", 0, false}, // 11 digits
		{"", 0, false},
		{"0x0BEBC201", 0, false},
		{"0BEBC201", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"12 34", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := sdp.ParseSSRC(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("ParseSSRC(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, sdp.ErrInvalidSSRC) {
				t.Fatalf("ParseSSRC(%q) error = %v; want ErrInvalidSSRC", tt.in, err)
			}
		})
	}
}

func TestSSRCAccessors(t *testing.T) {
	s := sdp.SSRC(200000001)
	if s.String() != "0200000001" {
		t.Errorf("String = %q", s.String())
	}
	if s.Uint32() != 0x0BEBC201 {
		t.Errorf("Uint32 = %#x", s.Uint32())
	}
	if k, ok := s.Kind(); !ok || k != sdp.KindLive {
		t.Errorf("Kind = %v, %v", k, ok)
	}
	if s.DomainPart() != "20000" || s.Sequence() != 1 {
		t.Errorf("DomainPart %q Sequence %d", s.DomainPart(), s.Sequence())
	}
	h := sdp.SSRC(1100009999)
	if k, ok := h.Kind(); !ok || k != sdp.KindHistory || h.DomainPart() != "10000" || h.Sequence() != 9999 {
		t.Errorf("history SSRC accessors: %v %v %q %d", k, ok, h.DomainPart(), h.Sequence())
	}
	if _, ok := sdp.SSRC(2000000000).Kind(); ok {
		t.Error("Kind of 2000000000 should not be ok")
	}
	for k, want := range map[sdp.Kind]string{sdp.KindLive: "live", sdp.KindHistory: "history", 7: "Kind(7)"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q", k, k.String())
		}
	}
}

func TestDomainDigits(t *testing.T) {
	tests := []struct {
		id, want string
		ok       bool
	}{
		{"34020000002000000001", "20000", true},
		{"13010000002000000001", "10000", true},
		{"3402000000", "20000", true},
		{"44010200492000000001", "10200", true},
		{"340200000020000001", "20000", true}, // 18 digits
		{"34020000", "", false},               // a center code is not a domain (10 digits)
		{"3402000", "", false},
		{"", "", false},
		{"34020000002000000a01", "", false},
	}
	for _, tt := range tests {
		got, err := sdp.DomainDigits(tt.id)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("DomainDigits(%q) = %q, %v", tt.id, got, err)
		}
		if err != nil && !errors.Is(err, sdp.ErrBadDomain) {
			t.Errorf("DomainDigits(%q) error %v is not ErrBadDomain", tt.id, err)
		}
	}
}
