package vqd

import "testing"

// FuzzAnalyze: any planes of a frame's size give a verdict, never a panic;
// a frame of the wrong size an error.
func FuzzAnalyze(f *testing.F) {
	f.Add(make([]byte, 32*18+2*16*9), uint8(32), uint8(18))
	f.Add([]byte{1, 2, 3}, uint8(16), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, w, h uint8) {
		width, height := int(w), int(h)
		cw, ch := (width+1)/2, (height+1)/2
		need := width*height + 2*cw*ch
		frame := Frame{Width: width, Height: height}
		if len(data) >= need {
			frame.Y, frame.Cb, frame.Cr = data[:width*height], data[width*height:width*height+cw*ch], data[width*height+cw*ch:need]
		}
		v, err := Analyze([]Frame{frame, frame}, Thresholds{})
		if err == nil && v.Faults == nil {
			t.Fatal("a verdict without its fault list")
		}
	})
}
