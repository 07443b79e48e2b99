package manscdp_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// TestPeekSeeds checks Peek agrees with Decode on every realistic body.
func TestPeekSeeds(t *testing.T) {
	for name, body := range readSeeds(t) {
		t.Run(name, func(t *testing.T) {
			m, err := manscdp.Decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got, err := manscdp.Peek(body)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			h := m.Head()
			want := manscdp.PeekResult{Root: m.Root(), CmdType: h.CmdType, SN: h.SN, DeviceID: h.DeviceID}
			if got != want {
				t.Fatalf("Peek %+v, Decode %+v", got, want)
			}
		})
	}
}

// TestPeekQuirks feeds the sloppy forms devices send; each must peek as the
// same keepalive.
func TestPeekQuirks(t *testing.T) {
	want := manscdp.PeekResult{Root: manscdp.RootNotify, CmdType: "Keepalive", SN: 43, DeviceID: "34020000001320000001"}
	prolog := `<?xml version="1.0" encoding="GB2312"?>` + "\r\n"
	status := "<Status>\xd5\xfd\xb3\xa3</Status>" // 正常 in GB2312, before the header ends
	cases := map[string]string{
		"plain":            prolog + keepaliveBody,
		"no prolog":        keepaliveBody,
		"BOM":              "\ufeff" + prolog + keepaliveBody,
		"leading blanks":   " \r\n\t\x00" + prolog + keepaliveBody,
		"trailing NULs":    prolog + keepaliveBody + "\x00\x00\x00",
		"comments":         "<!-- a -->" + prolog + "<Notify><!--<CmdType>X</CmdType>--><CmdType>Keepalive</CmdType><!-- - --><SN>43</SN><DeviceID>34020000001320000001</DeviceID></Notify>",
		"mixed case":       "<NOTIFY><cmdtype>keepALIVE</CMDTYPE><sn>43</Sn><deviceid>34020000001320000001</DEVICEID></notify>",
		"value blanks":     "<Notify>\n<CmdType>\r\n Keepalive\t</CmdType>\n<SN> 43 </SN>\n<DeviceID>\n34020000001320000001\n</DeviceID>\n</Notify>",
		"GB2312 elsewhere": prolog + "<Notify><CmdType>Keepalive</CmdType>" + status + "<SN>43</SN><DeviceID>34020000001320000001</DeviceID></Notify>",
		"GB after header":  prolog + "<Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID>" + status + "</Notify>",
		"prefixes":         `<m:Notify xmlns:m="urn:x"><m:CmdType>Keepalive</m:CmdType><m:SN>43</m:SN><m:DeviceID>34020000001320000001</m:DeviceID></m:Notify>`,
		"attributes":       `<Notify a="x>y" b='<' c=d e><CmdType v="1">Keepalive</CmdType><SN>43</SN ><DeviceID>34020000001320000001</DeviceID></Notify>`,
		"nested header":    "<Notify><Info><SN>1</SN><DeviceID>2</DeviceID><CmdType>X</CmdType></Info><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID></Notify>",
		"first wins":       "<Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><SN>44</SN></Notify>",
		"unclosed sibling": "<Notify><CmdType>Keepalive</CmdType><Status>OK<SN>1</SN></Notify><SN>43</SN>",
		"text before root": "junk & more</x><Notify><CmdType>Keepalive</CmdType><SN>+43</SN><DeviceID>34020000001320000001</DeviceID></Notify>",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := manscdp.Peek([]byte(body))
			if name == "unclosed sibling" {
				// <SN> is inside the unclosed <Status>, and the one after the root is never read.
				want := want
				want.SN, want.DeviceID = 0, ""
				if err != nil || got != want {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			if got != want {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

// TestPeekErrors checks what Peek refuses and the sentinel it gives.
func TestPeekErrors(t *testing.T) {
	cases := []struct {
		name, body string
		want       error
	}{
		{"empty", " \r\n\x00", manscdp.ErrEmpty},
		{"no root", "<?xml version='1.0'?><!-- x -->", manscdp.ErrMalformed},
		{"text only", "hello", manscdp.ErrMalformed},
		{"no CmdType", "<Notify><SN>1</SN></Notify>", manscdp.ErrMalformed},
		{"empty CmdType", "<Notify><CmdType> </CmdType><SN>1</SN></Notify>", manscdp.ErrMalformed},
		{"self-closed root", "<Notify/>", manscdp.ErrMalformed},
		{"SN not a number", "<Notify><CmdType>Keepalive</CmdType><SN>4x</SN></Notify>", manscdp.ErrMalformed},
		{"SN sign only", "<Notify><CmdType>Keepalive</CmdType><SN>-</SN></Notify>", manscdp.ErrMalformed},
		{"SN overflow", "<Notify><CmdType>Keepalive</CmdType><SN>9223372036854775808</SN></Notify>", manscdp.ErrMalformed},
		{"truncated", "<Notify><CmdType>Keepalive</CmdType><SN>1</SN>", manscdp.ErrMalformed},
		{"truncated tag", "<Notify><CmdType>Keepalive</CmdType><SN", manscdp.ErrMalformed},
		{"truncated value", "<Notify><CmdType>Keepalive</CmdType><SN>1", manscdp.ErrMalformed},
		{"bad name", "<Notify><1x>", manscdp.ErrMalformed},
		{"bad end tag", "<Notify><CmdType>Keepalive</CmdType x>", manscdp.ErrMalformed},
		{"entity in value", "<Notify><CmdType>Keep&#97;live</CmdType></Notify>", manscdp.ErrMalformed},
		{"CDATA value", "<Notify><CmdType><![CDATA[Keepalive]]></CmdType></Notify>", manscdp.ErrMalformed},
		{"comment in value", "<Notify><CmdType>Keepalive<!-- x --></CmdType></Notify>", manscdp.ErrMalformed},
		{"GB value", "<Notify><CmdType>Keepalive</CmdType><DeviceID>\xd5\xfd</DeviceID></Notify>", manscdp.ErrMalformed},
		{"non-ASCII name", "<Notify><Cmd\xc3\xa9>1</Cmd\xc3\xa9><CmdType>Keepalive</CmdType></Notify>", manscdp.ErrMalformed},
		{"doctype", "<!DOCTYPE x><Notify><CmdType>Keepalive</CmdType></Notify>", manscdp.ErrMalformed},
		{"too deep", "<Notify>" + strings.Repeat("<a>", 40), manscdp.ErrMalformed},
		{"unknown root", "<Alarm><CmdType>Keepalive</CmdType><SN>1</SN></Alarm>", manscdp.ErrUnknownRoot},
		{"too large", "<Notify>" + strings.Repeat(" ", manscdp.MaxBodySize), manscdp.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := manscdp.Peek([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// TestPeekCmdType checks known CmdTypes come back in their canonical
// spelling and others as received, like Decode.
func TestPeekCmdType(t *testing.T) {
	for in, want := range map[string]string{"CATALOG": "Catalog", "mobileposition": "MobilePosition", "SnapShot": "SnapShot"} {
		got, err := manscdp.Peek([]byte("<Query><CmdType>" + in + "</CmdType></Query>"))
		if err != nil || got.CmdType != want || got.Root != manscdp.RootQuery {
			t.Fatalf("%s: %+v, %v", in, got, err)
		}
	}
	got, err := manscdp.Peek([]byte("<Control><CmdType>DeviceControl</CmdType><SN>-7</SN><DeviceID/></Control>"))
	if err != nil || got != (manscdp.PeekResult{Root: manscdp.RootControl, CmdType: "DeviceControl", SN: -7}) {
		t.Fatalf("%+v, %v", got, err)
	}
	got, err = manscdp.Peek([]byte("<Alarm><CmdType>x</CmdType><SN>3</SN></Alarm>"))
	if !errors.Is(err, manscdp.ErrUnknownRoot) || got.Root != "Alarm" || got.CmdType != "x" || got.SN != 3 {
		t.Fatalf("%+v, %v", got, err)
	}
}

// FuzzPeek checks Peek never panics, always returns one of its sentinels,
// and agrees with Decode whenever both succeed.
func FuzzPeek(f *testing.F) {
	for _, b := range readSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(keepaliveBody))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := manscdp.Peek(body)
		if err != nil {
			for _, e := range []error{manscdp.ErrTooLarge, manscdp.ErrEmpty, manscdp.ErrMalformed, manscdp.ErrUnknownRoot} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		m, err := manscdp.Decode(body)
		if err != nil {
			return
		}
		h := m.Head()
		if p.Root != m.Root() || p.CmdType != h.CmdType {
			t.Fatalf("Peek %+v, Decode %s %+v", p, m.Root(), *h)
		}
		// Decode keeps the last of repeated elements, Peek the first.
		if p.SN != h.SN && !repeated(body, "sn") {
			t.Fatalf("Peek SN %d, Decode %d", p.SN, h.SN)
		}
		if p.DeviceID != h.DeviceID && !repeated(body, "deviceid") {
			t.Fatalf("Peek DeviceID %q, Decode %q", p.DeviceID, h.DeviceID)
		}
	})
}

// repeated reports whether an element called name (lower case) may occur
// more than once in body, at any depth and with or without a prefix.
func repeated(body []byte, name string) bool {
	lower := bytes.ToLower(body)
	return bytes.Count(lower, []byte("<"+name))+bytes.Count(lower, []byte(":"+name)) > 1
}

// BenchmarkPeekKeepalive measures the keepalive fast path; compare with
// BenchmarkDecode/keepalive_hikvision.
func BenchmarkPeekKeepalive(b *testing.B) {
	body, err := os.ReadFile("testdata/keepalive_hikvision.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manscdp.Peek(body); err != nil {
			b.Fatal(err)
		}
	}
}
