package ptz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

// The digest's worked examples (address 1), cross-checked against WVP/Monibuca.
func TestEncodeVectors(t *testing.T) {
	tests := []struct {
		name string
		cmd  ptz.Command
		want string
	}{
		{"stop", ptz.Stop(), "A50F0100000000B5"},
		{"up tilt 0x80", cmd(ptz.Move(ptz.Up, 0, 0x80, 0)), "A50F01080080003D"},
		{"up pan=tilt=0x80", cmd(ptz.Move(ptz.Up, 0x80, 0x80, 0)), "A50F0108808000BD"},
		{"right pan 0x80", cmd(ptz.Move(ptz.Right, 0x80, 0, 0)), "A50F010180000036"},
		{"zoom in speed 1", cmd(ptz.Move(ptz.ZoomIn, 0, 0, 1)), "A50F0110000010D5"},
		{"FI stop", ptz.FIStop(), "A50F0140000000F5"},
		{"set preset 3", cmd(ptz.SetPreset(3)), "A50F018100030039"},
		{"call preset 3", cmd(ptz.CallPreset(3)), "A50F01820003003A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cmd
			got, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Encode = %s, want %s", got, tt.want)
			}
			if c.String() != tt.want {
				t.Fatalf("String = %s", c.String())
			}
			d, err := ptz.Decode(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !d.ChecksumOK || d.ChecksumErr() != nil {
				t.Fatalf("ChecksumOK = %v, err %v", d.ChecksumOK, d.ChecksumErr())
			}
			if d.Command != c {
				t.Fatalf("Decode = %+v, want %+v", d.Command, c)
			}
		})
	}
}

// Every constructor's output must decode back to itself and describe itself.
func TestConstructorsRoundTrip(t *testing.T) {
	tests := []struct {
		cmd  ptz.Command
		err  error
		want ptz.Action
		str  string
	}{
		{ptz.Stop(), nil, ptz.Action{Kind: ptz.KindPTZ, Op: ptz.OpStop}, "PTZ stop"},
		{
			cmd(ptz.Move(ptz.Up|ptz.Left|ptz.ZoomOut, 10, 20, 15)), nil,
			ptz.Action{Kind: ptz.KindPTZ, Op: ptz.OpMove, Direction: ptz.Up | ptz.Left | ptz.ZoomOut, PanSpeed: 10, TiltSpeed: 20, ZoomSpeed: 15},
			"PTZ move left|up|zoom-out pan=10 tilt=20 zoom=15",
		},
		{
			cmd(ptz.Move(ptz.Down|ptz.Right, 255, 255, 0)), nil,
			ptz.Action{Kind: ptz.KindPTZ, Op: ptz.OpMove, Direction: ptz.Down | ptz.Right, PanSpeed: 255, TiltSpeed: 255},
			"PTZ move right|down pan=255 tilt=255 zoom=0",
		},
		{ptz.FIStop(), nil, ptz.Action{Kind: ptz.KindFI, Op: ptz.OpStop}, "FI stop"},
		{
			cmd(ptz.FocusIris(ptz.FocusNear|ptz.IrisOpen, 5, 6)), nil,
			ptz.Action{Kind: ptz.KindFI, Op: ptz.OpMove, Lens: ptz.FocusNear | ptz.IrisOpen, FocusSpeed: 5, IrisSpeed: 6},
			"FI move focus-near|iris-open focus=5 iris=6",
		},
		{cmd(ptz.SetPreset(1)), nil, ptz.Action{Kind: ptz.KindPreset, Op: ptz.OpPresetSet, Preset: 1}, "preset set 1"},
		{cmd(ptz.CallPreset(255)), nil, ptz.Action{Kind: ptz.KindPreset, Op: ptz.OpPresetCall, Preset: 255}, "preset call 255"},
		{cmd(ptz.DeletePreset(7)), nil, ptz.Action{Kind: ptz.KindPreset, Op: ptz.OpPresetDelete, Preset: 7}, "preset delete 7"},
		{cmd(ptz.CruiseAddPoint(2, 9)), nil, ptz.Action{Kind: ptz.KindCruise, Op: ptz.OpCruiseAdd, Group: 2, Preset: 9}, "cruise 2 add point preset=9"},
		{ptz.CruiseDeletePoint(2, 0), nil, ptz.Action{Kind: ptz.KindCruise, Op: ptz.OpCruiseDelete, Group: 2}, "cruise 2 delete point preset=0"},
		{cmd(ptz.CruiseSpeed(3, 0xABC)), nil, ptz.Action{Kind: ptz.KindCruise, Op: ptz.OpCruiseSpeed, Group: 3, Value: 0xABC}, "cruise 3 set speed 2748"},
		{cmd(ptz.CruiseDwell(3, 30)), nil, ptz.Action{Kind: ptz.KindCruise, Op: ptz.OpCruiseDwell, Group: 3, Value: 30}, "cruise 3 set dwell 30"},
		{ptz.CruiseStart(4), nil, ptz.Action{Kind: ptz.KindCruise, Op: ptz.OpCruiseStart, Group: 4}, "cruise 4 start"},
		{ptz.ScanStart(1), nil, ptz.Action{Kind: ptz.KindScan, Op: ptz.OpScanStart, Group: 1}, "scan 1 start"},
		{ptz.ScanSetLeft(1), nil, ptz.Action{Kind: ptz.KindScan, Op: ptz.OpScanLeft, Group: 1}, "scan 1 set left"},
		{ptz.ScanSetRight(1), nil, ptz.Action{Kind: ptz.KindScan, Op: ptz.OpScanRight, Group: 1}, "scan 1 set right"},
		{cmd(ptz.ScanSpeed(1, 4095)), nil, ptz.Action{Kind: ptz.KindScan, Op: ptz.OpScanSpeed, Group: 1, Value: 4095}, "scan 1 set speed 4095"},
		{ptz.AuxOn(1), nil, ptz.Action{Kind: ptz.KindAux, Op: ptz.OpAuxOn, Switch: 1}, "aux 1 on"},
		{ptz.AuxOff(2), nil, ptz.Action{Kind: ptz.KindAux, Op: ptz.OpAuxOff, Switch: 2}, "aux 2 off"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			s, err := tt.cmd.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if s != strings.ToUpper(s) || len(s) != 16 {
				t.Fatalf("Encode = %q", s)
			}
			d, err := ptz.Decode(s)
			if err != nil || !d.ChecksumOK {
				t.Fatalf("Decode(%s) = %+v, %v", s, d, err)
			}
			if d.Command != tt.cmd {
				t.Fatalf("Decode = %+v, want %+v", d.Command, tt.cmd)
			}
			a := d.Describe()
			if a != tt.want {
				t.Fatalf("Describe = %+v, want %+v", a, tt.want)
			}
			if a.String() != tt.str {
				t.Fatalf("Action.String = %q, want %q", a.String(), tt.str)
			}
		})
	}
}

func cmd(c ptz.Command, err error) ptz.Command {
	if err != nil {
		panic(err)
	}
	return c
}

// Cruise and scan values are 12 bits: data 2 low byte, data 3 high nibble.
func TestValueLayout(t *testing.T) {
	c, err := ptz.CruiseSpeed(1, 0x123)
	if err != nil {
		t.Fatal(err)
	}
	if c.Data2 != 0x23 || c.Data3 != 0x1 {
		t.Fatalf("data2 %#x data3 %#x", c.Data2, c.Data3)
	}
	if got := c.String(); got != "A50F0186012310"+checksumHex(0xA5+0x0F+0x01+0x86+0x01+0x23+0x10) {
		t.Fatalf("Encode = %s", got)
	}
}

func checksumHex(sum int) string {
	const digits = "0123456789ABCDEF"
	b := byte(sum)
	return string([]byte{digits[b>>4], digits[b&0xF]})
}

func TestAddress(t *testing.T) {
	c := ptz.Stop().WithAddress(0xABC)
	s, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// Byte 3 holds the low 8 bits, the low nibble of byte 7 the high 4.
	if s[4:6] != "BC" || s[13] != 'A' {
		t.Fatalf("Encode = %s", s)
	}
	d, err := ptz.Decode(s)
	if err != nil || d.Address != 0xABC {
		t.Fatalf("Decode address = %#x, %v", d.Address, err)
	}
	if _, err := ptz.Stop().WithAddress(0x1000).Encode(); !errors.Is(err, ptz.ErrRange) {
		t.Fatalf("address 0x1000: %v", err)
	}
}

func TestEncodeInvalid(t *testing.T) {
	for _, c := range []ptz.Command{
		{Address: 0x1000},
		{Version: 0x10},
		{Data3: 0x10},
	} {
		if _, err := c.Encode(); !errors.Is(err, ptz.ErrRange) {
			t.Errorf("Encode(%+v) = %v, want ErrRange", c, err)
		}
		if !strings.HasPrefix(c.String(), "invalid PTZCmd") {
			t.Errorf("String(%+v) = %q", c, c.String())
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"up+down", second(ptz.Move(ptz.Up|ptz.Down, 1, 1, 0)), ptz.ErrConflict},
		{"left+right", second(ptz.Move(ptz.Left|ptz.Right, 1, 1, 0)), ptz.ErrConflict},
		{"zoom in+out", second(ptz.Move(ptz.ZoomIn|ptz.ZoomOut, 0, 0, 1)), ptz.ErrConflict},
		{"unknown PTZ bit", second(ptz.Move(0x40, 0, 0, 0)), ptz.ErrRange},
		{"zoom speed 16", second(ptz.Move(ptz.ZoomIn, 0, 0, 16)), ptz.ErrRange},
		{"focus far+near", second(ptz.FocusIris(ptz.FocusFar|ptz.FocusNear, 1, 1)), ptz.ErrConflict},
		{"iris open+close", second(ptz.FocusIris(ptz.IrisOpen|ptz.IrisClose, 1, 1)), ptz.ErrConflict},
		{"unknown FI bit", second(ptz.FocusIris(0x10, 1, 1)), ptz.ErrRange},
		{"set preset 0", second(ptz.SetPreset(0)), ptz.ErrRange},
		{"call preset 0", second(ptz.CallPreset(0)), ptz.ErrRange},
		{"delete preset 0", second(ptz.DeletePreset(0)), ptz.ErrRange},
		{"cruise add preset 0", second(ptz.CruiseAddPoint(1, 0)), ptz.ErrRange},
		{"cruise speed 4096", second(ptz.CruiseSpeed(1, 4096)), ptz.ErrRange},
		{"cruise dwell 4096", second(ptz.CruiseDwell(1, 4096)), ptz.ErrRange},
		{"scan speed 4096", second(ptz.ScanSpeed(1, 4096)), ptz.ErrRange},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func second(_ ptz.Command, err error) error { return err }

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name, in   string
		checksumOK bool
		errPart    string // substring of ChecksumErr
	}{
		{"lower case", "a50f0100000000b5", true, ""},
		{"whitespace", " \tA50F0100000000B5\r\n", true, ""},
		{"bad checksum", "A50F0100000000B6", false, "checksum B6, want B5"},
		{"bad check nibble", "A5000100000000A6", false, "check nibble 0, want F"},
		// What a sender that leaves byte 7 out of the sum produces.
		{"checksum without data3", "A50F0110000010C5", false, "checksum C5, want D5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ptz.Decode(tt.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d.ChecksumOK != tt.checksumOK {
				t.Fatalf("ChecksumOK = %v", d.ChecksumOK)
			}
			cerr := d.ChecksumErr()
			if tt.checksumOK {
				if cerr != nil {
					t.Fatalf("ChecksumErr = %v", cerr)
				}
				return
			}
			if !errors.Is(cerr, ptz.ErrChecksum) || !strings.Contains(cerr.Error(), tt.errPart) {
				t.Fatalf("ChecksumErr = %v, want %q", cerr, tt.errPart)
			}
			// Re-encoding corrects the check fields.
			re, err := d.Encode()
			if err != nil {
				t.Fatal(err)
			}
			d2, err := ptz.Decode(re)
			if err != nil || !d2.ChecksumOK || d2.Command != d.Command {
				t.Fatalf("re-decode %s = %+v, %v", re, d2, err)
			}
		})
	}
}

// A non-zero version nibble is kept, and the check nibble follows it.
func TestDecodeVersion(t *testing.T) {
	c := ptz.Command{Address: 1, Version: 2}
	s, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if s[2:4] != "21" { // check = (A+5+2) mod 16 = 1
		t.Fatalf("byte 2 = %s", s[2:4])
	}
	d, err := ptz.Decode(s)
	if err != nil || !d.ChecksumOK || d.Version != 2 {
		t.Fatalf("Decode = %+v, %v", d, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ptz.ErrLength},
		{"A50F0100000000B", ptz.ErrLength},
		{"A50F0100000000B500", ptz.ErrLength},
		{"A50F01000000 0B5", ptz.ErrNotHex},
		{"A50F0100000000BG", ptz.ErrNotHex},
		{"0x0F0100000000B5", ptz.ErrNotHex},
		{"A40F0100000000B4", ptz.ErrHeader},
		{"000F0100000000B5", ptz.ErrHeader},
		{strings.Repeat("A5", 1000), ptz.ErrLength},
	}
	for _, tt := range tests {
		_, err := ptz.Decode(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Decode(%q) = %v, want %v", tt.in, err, tt.want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("error message is %d bytes", len(err.Error()))
		}
	}
	if _, err := ptz.DecodeBytes([]byte{0xA5, 0x0F}); !errors.Is(err, ptz.ErrLength) {
		t.Errorf("DecodeBytes short = %v", err)
	}
}

func TestBytes(t *testing.T) {
	b, err := ptz.Stop().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := [ptz.Size]byte{0xA5, 0x0F, 0x01, 0, 0, 0, 0, 0xB5}
	if b != want {
		t.Fatalf("Bytes = % X", b)
	}
	d, err := ptz.DecodeBytes(b[:])
	if err != nil || !d.ChecksumOK || d.Raw != want {
		t.Fatalf("DecodeBytes = %+v, %v", d, err)
	}
}
