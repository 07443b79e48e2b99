package hub

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// The SPS files in testdata were written by ffmpeg (libx264, libx265) from
// one frame of testsrc at the size in their names.
var spsTests = []struct {
	file   string
	codec  ps.Codec
	width  int
	height int
}{
	{"h264_1920x1080_high.sps", ps.CodecH264, 1920, 1080},
	{"h264_640x360_baseline.sps", ps.CodecH264, 640, 360},
	{"h264_720x576_interlaced.sps", ps.CodecH264, 720, 576},
	{"h264_1280x720_444.sps", ps.CodecH264, 1280, 720},
	{"h265_1920x1080_main.sps", ps.CodecH265, 1920, 1080},
	{"h265_704x576_main.sps", ps.CodecH265, 704, 576},
	{"h265_2560x1440_444.sps", ps.CodecH265, 2560, 1440},
}

func TestParseSPS(t *testing.T) {
	for _, tc := range spsTests {
		t.Run(tc.file, func(t *testing.T) {
			nal, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := parseSPS(tc.codec, nal)
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != tc.width || res.Height != tc.height {
				t.Fatalf("got %dx%d, want %dx%d", res.Width, res.Height, tc.width, tc.height)
			}
			au := append([]byte{0, 0, 0, 1, 9, 0xf0, 0, 0, 1}, nal...)
			au = append(au, 0, 0, 1, 0x68, 0xce)
			if got := findSPS(tc.codec, au); string(got) != string(nal) {
				t.Fatalf("findSPS returned %x", got)
			}
			for n := range len(nal) {
				if _, err := parseSPS(tc.codec, nal[:n]); err == nil && n < 4 {
					t.Fatalf("truncated SPS of %d bytes accepted", n)
				}
			}
		})
	}
}

func TestParseSPSRejects(t *testing.T) {
	tests := []struct {
		name  string
		codec ps.Codec
		nal   []byte
	}{
		{"empty h264", ps.CodecH264, nil},
		{"h264 PPS", ps.CodecH264, []byte{0x68, 0xce, 0x38, 0x80}},
		{"h265 VPS", ps.CodecH265, []byte{0x40, 0x01, 0x0c}},
		{"all zero h264", ps.CodecH264, []byte{0x67, 0x42, 0, 0x1e, 0, 0, 0, 0, 0, 0}},
		{"all zero h265", ps.CodecH265, append([]byte{0x42, 0x01}, make([]byte, 30)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res, err := parseSPS(tc.codec, tc.nal); err == nil {
				t.Fatalf("accepted as %dx%d", res.Width, res.Height)
			}
		})
	}
}

func FuzzParseSPS(f *testing.F) {
	for _, tc := range spsTests {
		nal, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tc.codec == ps.CodecH265, nal)
	}
	f.Fuzz(func(t *testing.T, h265 bool, data []byte) {
		codec := ps.CodecH264
		if h265 {
			codec = ps.CodecH265
		}
		res, err := parseSPS(codec, data)
		if err == nil && (res.Width <= 0 || res.Height <= 0 || res.Width > maxDimension || res.Height > maxDimension) {
			t.Fatalf("implausible %dx%d accepted", res.Width, res.Height)
		}
		for nal := range ps.NALUnits(data) {
			if len(nal) > len(data) {
				t.Fatal("NAL longer than input")
			}
		}
	})
}
