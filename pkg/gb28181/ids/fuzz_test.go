package ids_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"34020000002000000001", "34020000001320000001", "3402000000132000001", "340200000013200001",
		"34020000001320000", "3402000000132000000a", "", "13010000002000000001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ids.Parse(s)
		if err != nil {
			if id != (ids.ID{}) {
				t.Fatalf("error %v with non-zero ID %+v", err, id)
			}
			return
		}
		// A parsed ID prints back exactly as the input and is valid.
		if id.String() != s {
			t.Fatalf("String = %q, input %q", id.String(), s)
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if id.Nonstandard != (len(s) != ids.Length) {
			t.Fatalf("Nonstandard = %v for %d digits", id.Nonstandard, len(s))
		}
		if id.Domain() != s[:10] || id.SSRCDomainPart() != s[3:8] {
			t.Fatalf("Domain %q / SSRC part %q of %q", id.Domain(), id.SSRCDomainPart(), s)
		}
		if id.Center.Level() != ids.LevelGrassroots {
			t.Fatalf("center %q level %v", id.Center, id.Center.Level())
		}
		if id.Nonstandard {
			return
		}
		// A standard ID is rebuilt identically from its fields.
		seq := uint32(0)
		for _, c := range id.Sequence {
			seq = seq*10 + uint32(c-'0')
		}
		built, err := ids.New(string(id.Center), id.Industry, id.Type, id.Network, seq)
		if err != nil {
			t.Fatalf("New from parsed fields: %v", err)
		}
		if built != id {
			t.Fatalf("New = %+v, Parse = %+v", built, id)
		}
	})
}

func FuzzParseCivilCode(f *testing.F) {
	for _, s := range []string{"34", "3402", "340201", "34020105", "340", "3402000000", "3x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ids.ParseCivilCode(s)
		if err != nil {
			if c.Level() != ids.LevelUnknown {
				t.Fatalf("error %v but level %v", err, c.Level())
			}
			return
		}
		if string(c) != s || c.Level() == ids.LevelUnknown || int(c.Level())*2 != len(s) {
			t.Fatalf("%q: code %q level %v", s, c, c.Level())
		}
		// Walking up the parents ends at the province after Level-1 steps.
		steps := 0
		for p, ok := c.Parent(); ok; p, ok = p.Parent() {
			steps++
			if p.Level() != c.Level()-ids.Level(steps) {
				t.Fatalf("parent %q of %q has level %v", p, c, p.Level())
			}
		}
		if steps != int(c.Level())-1 {
			t.Fatalf("%q: %d parent steps", s, steps)
		}
		center := c.Center()
		if len(center) != 8 || center[:len(s)] != s {
			t.Fatalf("Center(%q) = %q", s, center)
		}
	})
}
