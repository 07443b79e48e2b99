package manscdp_test

import (
	"encoding/xml"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	cases := []struct {
		in, out string
		want    time.Time
	}{
		{"2026-11-21T16:35:01", "2026-11-21T16:35:01", time.Date(2026, 11, 21, 16, 35, 1, 0, loc)},
		{"2026-11-21T16:35:01.000", "2026-11-21T16:35:01", time.Date(2026, 11, 21, 16, 35, 1, 0, loc)},
		{"2026-11-21T16:35:01.120", "2026-11-21T16:35:01.120", time.Date(2026, 11, 21, 16, 35, 1, 120e6, loc)},
		{"2026-11-21T16:35:01.000000123", "2026-11-21T16:35:01.000000123", time.Date(2026, 11, 21, 16, 35, 1, 123, loc)},
		{"2026-11-21 16:35:01", "2026-11-21T16:35:01", time.Date(2026, 11, 21, 16, 35, 1, 0, loc)},
		{"2026-11-21t16:35:01", "2026-11-21T16:35:01", time.Date(2026, 11, 21, 16, 35, 1, 0, loc)},
		{"  2026-11-21T16:35:01\n", "2026-11-21T16:35:01", time.Date(2026, 11, 21, 16, 35, 1, 0, loc)},
		{"2026-11-21", "2026-11-21T00:00:00", time.Date(2026, 11, 21, 0, 0, 0, 0, loc)},
		{"", "", time.Time{}},
		{" ", "", time.Time{}},
	}
	for _, c := range cases {
		got, err := manscdp.ParseTimeIn(c.in, loc)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if !got.Equal(c.want) || got.String() != c.out {
			t.Errorf("%q: got %v (%s), want %v", c.in, got.Time, got, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01T00:00:00", "2026-11-21T16:35:01Z", "2026-11-21T25:00:00", "2026-11-21T16:35:01+08:00", string(make([]byte, 100))} {
		if _, err := manscdp.ParseTime(bad); !errors.Is(err, manscdp.ErrInvalidTime) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
	// Year 1 midnight is the zero time; it must compare equal to Time{}.
	if z, err := manscdp.ParseTimeIn("0001-01-01T00:00:00", time.UTC); err != nil || z != (manscdp.Time{}) {
		t.Fatalf("%#v %v", z, err)
	}
	if got, _ := manscdp.ParseTime("2026-11-21T16:35:01"); got.Location() != time.Local {
		t.Fatal("ParseTime is not local")
	}
}

func TestTimeXML(t *testing.T) {
	type doc struct {
		XMLName xml.Name     `xml:"D"`
		A       manscdp.Time `xml:"A"`
		B       manscdp.Time `xml:"B"`
	}
	tm := manscdp.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local))
	b, err := xml.Marshal(doc{A: tm})
	if err != nil || string(b) != "<D><A>2026-01-02T03:04:05</A></D>" {
		t.Fatalf("%s %v", b, err)
	}
	var d doc
	if err := xml.Unmarshal([]byte("<D><A> 2026-01-02 03:04:05 </A><B></B></D>"), &d); err != nil {
		t.Fatal(err)
	}
	if !d.A.Equal(tm.Time) || !d.B.IsZero() {
		t.Fatalf("%+v", d)
	}
	if err := xml.Unmarshal([]byte("<D><A>x</A></D>"), &d); !errors.Is(err, manscdp.ErrInvalidTime) {
		t.Fatal(err)
	}
	txt, _ := tm.MarshalText()
	var back manscdp.Time
	if err := back.UnmarshalText(txt); err != nil || !back.Equal(tm.Time) {
		t.Fatalf("%s %v", txt, err)
	}
	if err := back.UnmarshalText([]byte("bad")); err == nil {
		t.Fatal("no error")
	}
}
