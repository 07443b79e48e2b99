package sdp_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		in    string
		video [5]string
		audio [3]string
	}{
		{"", [5]string{}, [3]string{}},
		{"v/////a///", [5]string{}, [3]string{}},
		{"v/2/5/25/1/4096a/1/8/1", [5]string{"2", "5", "25", "1", "4096"}, [3]string{"1", "8", "1"}},
		{"v/2/6/25/2/a/1//", [5]string{"2", "6", "25", "2", ""}, [3]string{"1", "", ""}},
		{"v/5/1920x1080/30/2/8192a///", [5]string{"5", "1920x1080", "30", "2", "8192"}, [3]string{}},
		{"v/1/2/3a/1/2/3", [5]string{}, [3]string{}},      // too few video fields: raw only
		{"v/1/2/3/4/5a/1/2", [5]string{}, [3]string{}},    // too few audio fields
		{"v/1/2/3/4/5/a/1/2/3", [5]string{}, [3]string{}}, // too many video fields
		{"v/1/2/3/4/5", [5]string{}, [3]string{}},         // no audio part
		{"garbage", [5]string{}, [3]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f := sdp.ParseFormat(tt.in)
			gotV := [5]string{f.VideoCodec, f.Resolution, f.FrameRate, f.RateType, f.VideoBitrate}
			gotA := [3]string{f.AudioCodec, f.AudioBitrate, f.SampleRate}
			if f.Raw != tt.in || gotV != tt.video || gotA != tt.audio {
				t.Fatalf("ParseFormat(%q) = %+v", tt.in, f)
			}
			if f.String() != tt.in {
				t.Fatalf("String() = %q, want %q", f.String(), tt.in)
			}
		})
	}
	// Sub-fields win over Raw once set.
	f := sdp.ParseFormat("v/////a///")
	f.VideoCodec = sdp.FormatVideoH265
	if got := f.String(); got != "v/5////a///" {
		t.Fatalf("String() = %q", got)
	}
}
