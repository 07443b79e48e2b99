package pstest

import (
	"bytes"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestSynthetic(t *testing.T) {
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		aus := Synthetic(codec, 25, 100, 9)
		if len(aus) != 25 {
			t.Fatalf("%v: %d units", codec, len(aus))
		}
		for i, a := range aus {
			if a.Keyframe != (i%10 == 0) || a.PTS != int64(i)*3600+1000 || a.DTS != a.PTS {
				t.Fatalf("%v unit %d: %+v", codec, i, a)
			}
			// Start codes only where NAL units begin: the body holds no 00 00.
			if n := bytes.Count(a.Data, []byte{0, 0, 0, 1}); n != bytes.Count(a.Data, []byte{0, 0}) {
				t.Fatalf("%v unit %d: stray zero pairs", codec, i)
			}
		}
		if again := Synthetic(codec, 25, 100, 9); !bytes.Equal(again[11].Data, aus[11].Data) {
			t.Fatalf("%v: same seed, different units", codec)
		}
	}
}
