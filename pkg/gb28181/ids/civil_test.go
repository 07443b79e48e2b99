package ids_test

import (
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

func TestParseCivilCode(t *testing.T) {
	tests := []struct {
		in     string
		level  ids.Level
		parent string // "" = none
		center string
	}{
		{"34", ids.LevelProvince, "", "34000000"},
		{"3402", ids.LevelCity, "34", "34020000"},
		{"340201", ids.LevelDistrict, "3402", "34020100"},
		{"34020105", ids.LevelGrassroots, "340201", "34020105"},
		{"3400", ids.LevelCity, "34", "34000000"}, // length decides the level
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ids.ParseCivilCode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !ids.IsCivilCode(tt.in) {
				t.Error("IsCivilCode = false")
			}
			if c.String() != tt.in {
				t.Errorf("String = %q", c.String())
			}
			if got := c.Level(); got != tt.level {
				t.Errorf("Level = %v, want %v", got, tt.level)
			}
			p, ok := c.Parent()
			if ok != (tt.parent != "") || string(p) != tt.parent {
				t.Errorf("Parent = %q, %v; want %q", p, ok, tt.parent)
			}
			if got := c.Center(); got != tt.center {
				t.Errorf("Center = %q, want %q", got, tt.center)
			}
			// The ancestor at the code's own level is the code itself.
			if self, ok := c.Prefix(tt.level); !ok || self != c {
				t.Errorf("Prefix(own level) = %q, %v", self, ok)
			}
		})
	}
}

func TestCivilCodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ids.ErrLength},
		{"3", ids.ErrLength},
		{"340", ids.ErrLength},
		{"3402000000", ids.ErrLength}, // a domain, not a civil code node
		{"34020000001320000001", ids.ErrLength},
		{"3x", ids.ErrNotNumeric},
		{"34 2", ids.ErrNotNumeric},
	}
	for _, tt := range tests {
		if _, err := ids.ParseCivilCode(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ParseCivilCode(%q) = %v, want %v", tt.in, err, tt.want)
		}
		if ids.IsCivilCode(tt.in) {
			t.Errorf("IsCivilCode(%q) = true", tt.in)
		}
		c := ids.CivilCode(tt.in)
		if c.Level() != ids.LevelUnknown {
			t.Errorf("Level(%q) = %v", tt.in, c.Level())
		}
		if _, ok := c.Parent(); ok {
			t.Errorf("Parent(%q) ok", tt.in)
		}
		if _, ok := c.Prefix(ids.LevelProvince); ok {
			t.Errorf("Prefix(%q) ok", tt.in)
		}
		if c.Center() != "" {
			t.Errorf("Center(%q) = %q", tt.in, c.Center())
		}
	}
}

func TestCivilCodePrefix(t *testing.T) {
	c := ids.CivilCode("34020105")
	want := map[ids.Level]string{
		ids.LevelProvince: "34", ids.LevelCity: "3402", ids.LevelDistrict: "340201", ids.LevelGrassroots: "34020105",
	}
	for l, w := range want {
		got, ok := c.Prefix(l)
		if !ok || string(got) != w {
			t.Errorf("Prefix(%v) = %q, %v; want %q", l, got, ok, w)
		}
	}
	if _, ok := c.Prefix(ids.LevelUnknown); ok {
		t.Error("Prefix(LevelUnknown) ok")
	}
	if _, ok := c.Prefix(ids.Level(9)); ok {
		t.Error("Prefix(9) ok")
	}
	if _, ok := ids.CivilCode("3402").Prefix(ids.LevelDistrict); ok {
		t.Error("a city has a district prefix")
	}
}

func TestLevelString(t *testing.T) {
	want := map[ids.Level]string{
		ids.LevelUnknown: "unknown", ids.LevelProvince: "province", ids.LevelCity: "city",
		ids.LevelDistrict: "district", ids.LevelGrassroots: "grassroots", 7: "unknown",
	}
	for l, w := range want {
		if l.String() != w {
			t.Errorf("Level(%d) = %q, want %q", l, l.String(), w)
		}
	}
}

// The center code of an ID is a grass-roots civil code whose ancestors give
// the catalog path of the device.
func TestIDCenterIsCivilCode(t *testing.T) {
	id, err := ids.Parse("34020000001320000001")
	if err != nil {
		t.Fatal(err)
	}
	if id.Center.Level() != ids.LevelGrassroots {
		t.Fatalf("Level = %v", id.Center.Level())
	}
	if p, _ := id.Center.Prefix(ids.LevelCity); p != "3402" {
		t.Fatalf("city = %q", p)
	}
}
