package ids_test

import (
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want ids.ID
	}{
		{"34020000002000000001", ids.ID{Center: "34020000", Industry: 0, Type: ids.TypeCenterServer, Network: 0, Sequence: "000001"}},
		{"34020000001320000001", ids.ID{Center: "34020000", Industry: 0, Type: ids.TypeIPC, Network: 0, Sequence: "000001"}},
		{"44030512051187654321", ids.ID{Center: "44030512", Industry: ids.IndustryTrafficCheckpoint, Type: ids.TypeNVR, Network: 7, Sequence: "654321"}},
		{"99999999999999999999", ids.ID{Center: "99999999", Industry: 99, Type: 999, Network: 9, Sequence: "999999"}},
		{"00000000000000000000", ids.ID{Center: "00000000", Sequence: "000000"}},
		// Lenient: 19 and 18 digits keep the standard offsets, the sequence is short.
		{"3402000000132000001", ids.ID{Center: "34020000", Type: ids.TypeIPC, Sequence: "00001", Nonstandard: true}},
		{"340200000013200001", ids.ID{Center: "34020000", Type: ids.TypeIPC, Sequence: "0001", Nonstandard: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ids.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Fatalf("String = %q, want %q", s, tt.in)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ids.ErrLength},
		{"3402000000132000", ids.ErrLength},         // 16
		{"34020000001320001", ids.ErrLength},        // 17
		{"340200000013200000011", ids.ErrLength},    // 21
		{"3402000000132000000a", ids.ErrNotNumeric}, // letter
		{" 4020000001320000001", ids.ErrNotNumeric}, // whitespace is not trimmed
		{"3402000000132000000-", ids.ErrNotNumeric},
		{"3402000000132000０1", ids.ErrNotNumeric}, // full-width digit: 19 bytes
		{"34020000001320000001\x00", ids.ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ids.Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseErrorMessageBounded(t *testing.T) {
	long := make([]byte, 1<<16)
	for i := range long {
		long[i] = 'x'
	}
	_, err := ids.Parse(string(long))
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(err.Error()); n > 200 {
		t.Fatalf("error message is %d bytes long", n)
	}
}

func TestNew(t *testing.T) {
	id, err := ids.New("34020000", ids.IndustryPublicSecurityRoad, ids.TypeCenterServer, ids.NetworkVideo0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.String(); got != "34020000002000000001" {
		t.Fatalf("String = %q", got)
	}
	id, err = ids.New("13010203", 45, ids.TypeCamera, 9, 999999)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.String(); got != "13010203451319999999" {
		t.Fatalf("String = %q", got)
	}
	if id.Nonstandard {
		t.Fatal("New produced a nonstandard ID")
	}
	back, err := ids.Parse(id.String())
	if err != nil || back != id {
		t.Fatalf("Parse(New) = %+v, %v; want %+v", back, err, id)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		center   string
		industry ids.IndustryCode
		typ      ids.TypeCode
		network  ids.NetworkCode
		seq      uint32
		want     error
	}{
		{"short center", "340200", 0, 200, 0, 1, ids.ErrLength},
		{"long center", "340200000", 0, 200, 0, 1, ids.ErrLength},
		{"letter center", "3402000a", 0, 200, 0, 1, ids.ErrNotNumeric},
		{"industry", "34020000", 100, 200, 0, 1, ids.ErrRange},
		{"type", "34020000", 0, 1000, 0, 1, ids.ErrRange},
		{"network", "34020000", 0, 200, 10, 1, ids.ErrRange},
		{"sequence", "34020000", 0, 200, 0, 1000000, ids.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ids.New(tt.center, tt.industry, tt.typ, tt.network, tt.seq)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := ids.ID{Center: "34020000", Type: 132, Sequence: "000001"}
	tests := []struct {
		name string
		edit func(*ids.ID)
		ok   bool
	}{
		{"good", func(*ids.ID) {}, true},
		{"nonstandard 5", func(id *ids.ID) { id.Nonstandard = true; id.Sequence = "00001" }, true},
		{"nonstandard 4", func(id *ids.ID) { id.Nonstandard = true; id.Sequence = "0001" }, true},
		{"nonstandard 6", func(id *ids.ID) { id.Nonstandard = true }, false},
		{"short center", func(id *ids.ID) { id.Center = "3402" }, false},
		{"letter center", func(id *ids.ID) { id.Center = "3402000x" }, false},
		{"industry", func(id *ids.ID) { id.Industry = 100 }, false},
		{"type", func(id *ids.ID) { id.Type = 1000 }, false},
		{"network", func(id *ids.ID) { id.Network = 10 }, false},
		{"short sequence", func(id *ids.ID) { id.Sequence = "1" }, false},
		{"letter sequence", func(id *ids.ID) { id.Sequence = "00000x" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := good
			tt.edit(&id)
			err := id.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, ids.ErrRange) {
				t.Fatalf("Validate = %v, want ErrRange", err)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	tests := []struct {
		in, domain, ssrc string
	}{
		{"34020000002000000001", "3402000000", "20000"},
		{"13010000002000000001", "1301000000", "10000"},
		{"44030512051187654321", "4403051205", "30512"},
		{"340200000020000001", "3402000000", "20000"}, // 18 digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ids.Domain(tt.in)
			if err != nil || d != tt.domain {
				t.Fatalf("Domain = %q, %v; want %q", d, err, tt.domain)
			}
			p, err := ids.SSRCDomainPart(tt.in)
			if err != nil || p != tt.ssrc {
				t.Fatalf("SSRCDomainPart = %q, %v; want %q", p, err, tt.ssrc)
			}
			// The bare 10-digit domain gives the same part.
			p, err = ids.SSRCDomainPart(tt.domain)
			if err != nil || p != tt.ssrc {
				t.Fatalf("SSRCDomainPart(domain) = %q, %v; want %q", p, err, tt.ssrc)
			}
		})
	}
	for _, bad := range []string{"", "340200000", "34020000x0", "3402000000200000000x", "abc"} {
		if _, err := ids.SSRCDomainPart(bad); err == nil {
			t.Errorf("SSRCDomainPart(%q) succeeded", bad)
		}
		if _, err := ids.Domain(bad); err == nil {
			t.Errorf("Domain(%q) succeeded", bad)
		}
	}
	if got := (ids.ID{}).SSRCDomainPart(); got != "" {
		t.Errorf("zero ID SSRCDomainPart = %q", got)
	}
}
