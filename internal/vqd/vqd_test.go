package vqd

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// pictures are ffmpeg's test picture (moving, detailed, colourful) with
// each fault made by its filters, and the faults the verdict must name.
var pictures = []struct {
	name   string
	source string // a lavfi graph
	want   []string
}{
	{"clean", "testsrc2=s=640x360:r=25:d=4", nil},
	{"clean, HD", "testsrc2=s=1920x1080:r=25:d=4", nil},
	{"black", "color=c=black:s=640x360:r=25:d=4", []string{FaultBlack}},
	{"black with its OSD", "color=c=black:s=640x360:r=25:d=4,drawbox=x=20:y=20:w=220:h=28:c=white:t=fill", []string{FaultBlack}},
	{"dark", "testsrc2=s=640x360:r=25:d=4,eq=brightness=-0.45", []string{FaultDark}},
	{"bright", "testsrc2=s=640x360:r=25:d=4,eq=brightness=0.6", []string{FaultBright}},
	{"blur", "testsrc2=s=640x360:r=25:d=4,gblur=sigma=10", []string{FaultBlur}},
	{"noise", "testsrc2=s=640x360:r=25:d=4,noise=alls=80:allf=t", []string{FaultNoise}},
	{"colour cast", "testsrc2=s=640x360:r=25:d=4,lutrgb=g=val*0.3:b=val*0.3", []string{FaultColorCast}},
	{"occlusion", "testsrc2=s=640x360:r=25:d=4,drawbox=x=0:y=0:w=iw*0.6:h=ih:c=gray:t=fill", []string{FaultOcclusion}},
	{"covered lens", "color=c=0x606060:s=640x360:r=25:d=4", []string{FaultOcclusion}},
	{"frozen", "testsrc2=s=640x360:r=25:d=0.04,loop=loop=100:size=1,setpts=N/25/TB", []string{FaultFrozen}},
}

// TestVerdicts: each fault is found on the picture made to show it, and
// nothing else; a clean picture is not flagged.
func TestVerdicts(t *testing.T) {
	d := Decoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg")}
	for _, p := range pictures {
		t.Run(p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dec, err := d.Decode(ctx, []string{"-f", "lavfi", "-i", p.source}, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(dec.Frames) != 2 || dec.Codec == "" || dec.Width == 0 || dec.FirstAt.IsZero() {
				t.Fatalf("%d frames, %s %dx%d", len(dec.Frames), dec.Codec, dec.Width, dec.Height)
			}
			v, err := Analyze(dec.Frames, Thresholds{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", v.Measures)
			want := p.want
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(v.Faults, want) {
				t.Errorf("faults %v, want %v (%+v)", v.Faults, want, v.Measures)
			}
		})
	}
}

// TestAnalyzeRefuses: frames that do not hold their size are errors.
func TestAnalyzeRefuses(t *testing.T) {
	good := Frame{Width: 16, Height: 16, Y: make([]byte, 256), Cb: make([]byte, 64), Cr: make([]byte, 64)}
	for name, frames := range map[string][]Frame{
		"none":        nil,
		"short luma":  {{Width: 16, Height: 16, Y: make([]byte, 10), Cb: make([]byte, 64), Cr: make([]byte, 64)}},
		"tiny":        {{Width: 2, Height: 2, Y: make([]byte, 4), Cb: make([]byte, 1), Cr: make([]byte, 1)}},
		"sizes mixed": {good, {Width: 32, Height: 16, Y: make([]byte, 512), Cb: make([]byte, 128), Cr: make([]byte, 128)}},
	} {
		if _, err := Analyze(frames, Thresholds{}); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Analyze([]Frame{good}, Thresholds{}); err != nil {
		t.Errorf("a 16x16 frame: %v", err)
	}
}

// BenchmarkAnalyze is the cost of judging one picture (two frames).
func BenchmarkAnalyze(b *testing.B) {
	d := Decoder{FFmpeg: testsupport.Tool(b, "ffmpeg", "ffmpeg")}
	dec, err := d.Decode(context.Background(), []string{"-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=3"}, 2*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(dec.Frames, Thresholds{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeFails: an input ffmpeg cannot open is ErrDecode with its words.
func TestDecodeFails(t *testing.T) {
	d := Decoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg")}
	_, err := d.Decode(context.Background(), []string{"-i", "/nonexistent/clip.mp4"}, 0)
	if !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "No such file") {
		t.Fatalf("err = %v", err)
	}
}
