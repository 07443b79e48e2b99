package ptz_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"A50F0100000000B5", "A50F01080080003D", "A50F0108808000BD", "A50F010180000036",
		"A50F0110000010D5", "A50F0140000000F5", "A50F018100030039", "A50F01820003003A",
		"a50f0100000000b6", " A50F0189010000BE\n", "A5000100000000A6", "A40F0100000000B4", "A50F01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ptz.Decode(s)
		if err != nil {
			return
		}
		in, herr := hex.DecodeString(strings.TrimSpace(s))
		if herr != nil || len(in) != ptz.Size {
			t.Fatalf("Decode accepted %q", s)
		}
		if d.Raw != [ptz.Size]byte(in) {
			t.Fatalf("Raw = % X, input % X", d.Raw, in)
		}
		// Re-encoding gives the input bytes except for corrected check fields.
		out, err := d.Bytes()
		if err != nil {
			t.Fatalf("re-encode %+v: %v", d.Command, err)
		}
		for i := range out {
			switch i {
			case 1:
				if out[1]>>4 != in[1]>>4 {
					t.Fatalf("version nibble % X -> % X", in, out)
				}
			case 7:
			default:
				if out[i] != in[i] {
					t.Fatalf("byte %d: % X -> % X", i+1, in, out)
				}
			}
		}
		if d.ChecksumOK != (out == [ptz.Size]byte(in)) {
			t.Fatalf("ChecksumOK = %v for % X (correct % X)", d.ChecksumOK, in, out)
		}
		if (d.ChecksumErr() == nil) != d.ChecksumOK {
			t.Fatalf("ChecksumErr = %v, ChecksumOK = %v", d.ChecksumErr(), d.ChecksumOK)
		}
		// The corrected encoding decodes to the same command.
		d2, err := ptz.DecodeBytes(out[:])
		if err != nil || !d2.ChecksumOK || d2.Command != d.Command {
			t.Fatalf("re-decode = %+v, %v", d2, err)
		}
		a := d.Describe()
		if (a.Kind == ptz.KindUnknown) != (a.Op == ptz.OpUnknown) {
			t.Fatalf("Describe = %+v", a)
		}
		_ = a.String()
	})
}
